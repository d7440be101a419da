"""The receiver's post-copy image: a load waits for its pages and asks the source for them."""

from __future__ import annotations

import socket
import threading
from array import array
from collections.abc import Iterator

import pytest

from rtcr.core import PAGE_SIZE
from rtcr.migrate.postcopy import PagesLost, PulledImage
from rtcr.migrate.wire import Channel, Kind, ProtocolError
from rtcr.store.native import address

KEY = "obj:3"
PAGES = 8


def page(index: int) -> bytes:
    return bytes([index + 1]) * PAGE_SIZE


@pytest.fixture
def ends() -> Iterator[tuple[PulledImage, Channel]]:
    """A pulled image of one 8-page object, and the source's end of its connection."""
    ours, theirs = socket.socketpair()
    image = PulledImage(Channel(ours, "source"), checkpoint_id=7)
    image.declare(KEY, PAGES)
    yield image, Channel(theirs, "receiver")
    ours.close()
    theirs.close()


def deposit(image: PulledImage, indices: list[int]) -> None:
    image.deposit(KEY, array("I", indices), memoryview(b"".join(page(i) for i in indices)))


def load_in_thread(image: PulledImage, start: int, end: int,
                   memory: bytearray) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def load() -> None:
        try:
            image.scatter_slice(KEY, address(memory), start, end,
                                array("Q", range(0, (end - start) * PAGE_SIZE, PAGE_SIZE)))
        except BaseException as exc:  # the test asserts on it
            errors.append(exc)

    thread = threading.Thread(target=load)
    thread.start()
    return thread, errors


def test_a_load_of_pages_not_here_asks_the_source_for_them_and_gets_them(
        ends: tuple[PulledImage, Channel]) -> None:
    image, source = ends
    deposit(image, [2])
    memory = bytearray(3 * PAGE_SIZE)
    thread, errors = load_in_thread(image, 1, 4, memory)
    request = source.recv(Kind.REQUEST).json()
    assert request == {"key": KEY, "start": 1, "end": 4}  # the missing ones, 2 included
    deposit(image, [1, 3])
    thread.join(timeout=10)
    assert not errors
    assert bytes(memory) == page(1) + page(2) + page(3)


def test_a_load_of_pages_here_already_asks_for_nothing(
        ends: tuple[PulledImage, Channel]) -> None:
    image, source = ends
    deposit(image, [4, 5])
    memory = bytearray(2 * PAGE_SIZE)
    thread, errors = load_in_thread(image, 4, 6, memory)
    thread.join(timeout=10)
    assert not errors and bytes(memory) == page(4) + page(5)
    source.sock.settimeout(0.2)
    with pytest.raises(TimeoutError):
        source.sock.recv(1)


def test_a_load_waiting_when_the_stream_fails_names_the_page_and_checkpoint(
        ends: tuple[PulledImage, Channel]) -> None:
    image, source = ends
    memory = bytearray(PAGE_SIZE)
    thread, errors = load_in_thread(image, 6, 7, memory)
    source.recv(Kind.REQUEST)
    image.fail("the connection was cut")
    thread.join(timeout=10)
    (error,) = errors
    assert isinstance(error, PagesLost)
    assert str(error).startswith(f"page {KEY}[6] of checkpoint 7 did not arrive intact")
    assert "the connection was cut" in str(error)


def test_ready_says_how_far_the_pages_have_arrived(ends: tuple[PulledImage, Channel]) -> None:
    image, _source = ends
    deposit(image, [0, 1, 2, 5])
    assert image.ready(KEY, 0, PAGES) == 3
    assert image.ready(KEY, 5, 6) == 6


def test_ready_after_a_failure_names_the_first_page_that_will_not_come(
        ends: tuple[PulledImage, Channel]) -> None:
    image, _source = ends
    deposit(image, [0, 1])
    image.fail("frame 9 failed its integrity check")
    assert image.ready(KEY, 0, 2) == 2  # what is here can still be loaded
    with pytest.raises(PagesLost, match=rf"page {KEY}\[2\] of checkpoint 7"):
        image.ready(KEY, 0, PAGES)


def test_a_page_sent_twice_is_a_protocol_error(ends: tuple[PulledImage, Channel]) -> None:
    image, _source = ends
    deposit(image, [3])
    with pytest.raises(ProtocolError, match=r"sent twice"):
        deposit(image, [3])
