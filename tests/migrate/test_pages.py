"""The PAGES frame: whatever pages are sent, the receiving end decodes exactly them."""

from __future__ import annotations

import random
import socket
import threading
from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from rtcr.core import PAGE_SIZE
from rtcr.migrate.pages import PAGES_PER_FRAME, PageReader, PageSender
from rtcr.migrate.wire import Channel, Kind
from rtcr.store.native import address

# A page is random (no codec shrinks it), repetitive (compresses), or zero.
_PAGE = st.one_of(st.integers(min_value=0, max_value=1 << 32).map(
                      lambda seed: random.Random(seed).randbytes(PAGE_SIZE)),
                  st.binary(min_size=1, max_size=16).map(
                      lambda b: (b * PAGE_SIZE)[:PAGE_SIZE]),
                  st.just(bytes(PAGE_SIZE)))


@settings(max_examples=30, deadline=None)
@given(pages=st.lists(_PAGE, min_size=1, max_size=PAGES_PER_FRAME + 40),
       first=st.integers(min_value=0, max_value=1 << 20), data=st.data())
def test_pages_sent_in_frames_decode_to_the_same_indices_and_contents(
        pages: list[bytes], first: int, data: st.DataObject) -> None:
    # Where they lie in memory: in order (one view) or shuffled (page by page).
    order = data.draw(st.permutations(range(len(pages))))
    memory = bytearray(b"".join(pages[i] for i in order))
    addrs = array("Q", (order.index(i) * PAGE_SIZE for i in range(len(pages))))
    indices = array("I", range(first, first + len(pages)))
    ours, theirs = socket.socketpair()
    sender, receiver = Channel(ours, "receiver"), Channel(theirs, "source")
    got: list[tuple[str, list[int], bytes]] = []

    def read() -> None:
        reader = PageReader()
        count = 0
        while count < len(pages):
            key, idx, content = reader.decode(receiver.recv(Kind.PAGES).payload)
            got.append((key, list(idx), bytes(content)))
            count += len(idx)

    thread = threading.Thread(target=read)
    thread.start()
    PageSender(sender).send("obj:7", indices, address(memory), addrs)
    thread.join(timeout=30)
    ours.close()
    theirs.close()
    assert {key for key, _i, _c in got} == {"obj:7"}
    assert [i for _k, idx, _c in got for i in idx] == list(indices)
    assert b"".join(content for _k, _i, content in got) == b"".join(pages)
