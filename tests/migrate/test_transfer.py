"""Checkpoints over an authenticated connection into a real store, and what it refuses."""

from __future__ import annotations

import socket
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from net_helpers import Listener

from rtcr.core import PAGE_SIZE
from rtcr.migrate.transfer import WireTarget, receive
from rtcr.migrate.wire import Kind, ProtocolError, Refused, accept, connect
from rtcr.store import Store
from rtcr.store.native import address

SECRET = b"the secret of the transfer tests"
PAGES = 3  # of the one memory object the test checkpoints declare


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def into(store_dir: Path) -> Callable[[socket.socket], object]:
    def handler(sock: socket.socket) -> object:
        with Store.open_or_create(store_dir) as store:
            return receive(accept(sock, "test", SECRET), store)
    return handler


def send_checkpoint(target: WireTarget, pages: bytes, parent: int | None) -> int:
    count = len(pages) // PAGE_SIZE
    buffer = bytearray(pages)
    with target.begin(parent=parent) as sink:
        sink.declare("ram:1", PAGES, fresh=parent is None)
        sink.put_pages("ram:1", array("I", range(count)), address(buffer),
                       array("Q", range(0, count * PAGE_SIZE, PAGE_SIZE)))
        return sink.commit({"what": "a test manifest"}, instructions=7, strategy="ro-attach")


def test_a_chain_sent_over_the_wire_is_stored_as_sent(listener: Listener,
                                                      tmp_path: Path) -> None:
    listener.serve(into(tmp_path / "store"))
    target = WireTarget(connect(listener.address, SECRET))
    full = bytes(range(256)) * 16 * PAGES
    first = send_checkpoint(target, full, None)
    target.final = True
    second = send_checkpoint(target, b"\x01" * PAGE_SIZE, first)
    listener.join()
    with Store.open(tmp_path / "store") as store:
        checkpoint = store.load(second)
        assert checkpoint.parent == first
        assert checkpoint.manifest == {"what": "a test manifest"}
        assert [checkpoint.page("ram:1", i) for i in range(3)] == [
            b"\x01" * PAGE_SIZE, full[PAGE_SIZE:2 * PAGE_SIZE], full[2 * PAGE_SIZE:]]
    assert listener.result.id == second


def test_a_parent_the_connection_did_not_send_is_refused(listener: Listener,
                                                         tmp_path: Path) -> None:
    with Store.create(tmp_path / "store") as store, store.begin() as writer:
        writer.declare("ram:1", 1)
        existing = writer.commit({"someone": "else's"})
    listener.serve(into(tmp_path / "store"))
    target = WireTarget(connect(listener.address, SECRET))
    with pytest.raises(Refused, match="did not send in this migration"):
        send_checkpoint(target, b"\x00" * PAGE_SIZE, existing)
    listener.join()
    assert isinstance(listener.error, ProtocolError)


def test_a_malformed_pages_frame_is_refused(listener: Listener, tmp_path: Path) -> None:
    listener.serve(into(tmp_path / "store"))
    channel = connect(listener.address, SECRET)
    channel.send_json(Kind.BEGIN, {"parent": None, "final": True})
    channel.send_json(Kind.DECLARE, {"key": "ram:1", "npages": 4, "fresh": True})
    channel.send(Kind.PAGES, b"\x00\x05ram:1\x00\x00\x00\x02", b"\x00" * 10)
    with pytest.raises(Refused, match="announces 2 pages"):
        channel.recv(Kind.COMMITTED)
    listener.join()
    with Store.open(tmp_path / "store") as store:
        assert store.ids() == []
