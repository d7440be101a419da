"""The migration wire protocol between real sockets on loopback, honest and hostile peers."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from net_helpers import Listener, Relay

from rtcr.migrate.wire import (
    HEADER,
    MAC_SIZE,
    MAGIC,
    MAX_PAYLOAD,
    NONCE_SIZE,
    VERSION,
    Channel,
    Kind,
    ProtocolError,
    Refused,
    accept,
    connect,
    read_secret,
)

SECRET = b"the secret both hosts were given"
HANDSHAKE_UPSTREAM = 2 * (HEADER.size + NONCE_SIZE + MAC_SIZE)  # HELLO and PROOF


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def receive_one(secret: bytes = SECRET) -> Callable[[socket.socket], object]:
    """A receiver handler: authenticate, then return the first frame."""
    def handler(sock: socket.socket) -> object:
        channel = accept(sock, "test", secret)
        return channel.recv()
    return handler


def raw_client(address: str) -> socket.socket:
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host, int(port)))


def refusal(listener: Listener) -> str:
    listener.join()
    assert isinstance(listener.error, ProtocolError), listener.error
    return str(listener.error)


def test_authenticated_peers_exchange_frames_in_order(listener: Listener) -> None:
    def handler(sock: socket.socket) -> list[bytes]:
        channel = accept(sock, "test", SECRET)
        got = [channel.recv(Kind.BEGIN).payload, channel.recv(Kind.PAGES).payload]
        channel.send(Kind.COMMITTED, b"both")
        return got

    listener.serve(handler)
    channel = connect(listener.address, SECRET)
    channel.send(Kind.BEGIN, b"first")
    channel.send(Kind.PAGES, b"sec", memoryview(b"ond"))
    assert channel.recv(Kind.COMMITTED).payload == b"both"
    listener.join()
    assert listener.result == [b"first", b"second"]


def test_a_source_with_the_wrong_secret_is_refused(listener: Listener) -> None:
    listener.serve(receive_one())
    with pytest.raises(ProtocolError):
        connect(listener.address, b"a guess at the secret, not it")
    assert "does not know the secret" in refusal(listener)


def test_an_unauthenticated_peer_gets_nothing_but_a_nonce(listener: Listener) -> None:
    listener.serve(receive_one())
    sock = raw_client(listener.address)
    channel = Channel(sock, "receiver")
    channel.send(Kind.HELLO, os.urandom(NONCE_SIZE))
    channel.send(Kind.PROOF, os.urandom(MAC_SIZE))
    received = bytearray()
    while chunk := sock.recv(4096):
        received += chunk
    refusal(listener)
    assert len(received) == HEADER.size + NONCE_SIZE + MAC_SIZE
    assert HEADER.unpack(received[:HEADER.size])[2] == Kind.CHALLENGE


def test_a_receiver_that_cannot_prove_the_secret_is_not_trusted(listener: Listener) -> None:
    def impostor(sock: socket.socket) -> None:
        channel = Channel(sock, "source")
        channel.recv(Kind.HELLO)
        channel.send(Kind.CHALLENGE, os.urandom(NONCE_SIZE))
        channel.recv(Kind.PROOF)
        channel.send(Kind.WELCOME, os.urandom(MAC_SIZE))

    listener.serve(impostor)
    with pytest.raises(ProtocolError, match="could not prove it knows the secret"):
        connect(listener.address, SECRET)


def test_garbage_is_refused_as_another_protocol(listener: Listener) -> None:
    listener.serve(receive_one())
    sock = raw_client(listener.address)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
    assert "does not speak the rtcr migration protocol" in refusal(listener)
    sock.close()


def test_another_protocol_version_is_refused(listener: Listener) -> None:
    listener.serve(receive_one())
    sock = raw_client(listener.address)
    sock.sendall(HEADER.pack(MAGIC, VERSION + 1, Kind.HELLO, 0, NONCE_SIZE))
    assert f"version {VERSION + 1}" in refusal(listener)
    sock.close()


def test_a_huge_length_prefix_is_refused_before_reading_it(listener: Listener) -> None:
    listener.serve(receive_one())
    sock = raw_client(listener.address)
    sock.sendall(HEADER.pack(MAGIC, VERSION, Kind.HELLO, 0, 0xFFFF_FFFF))  # and stays open
    assert f"more than the limit of {MAX_PAYLOAD}" in refusal(listener)
    sock.close()


def test_a_truncated_frame_is_refused(listener: Listener) -> None:
    listener.serve(receive_one())
    sock = raw_client(listener.address)
    sock.sendall(HEADER.pack(MAGIC, VERSION, Kind.HELLO, 0, NONCE_SIZE) + b"half")
    sock.close()
    assert "closed the connection in the middle of a frame" in refusal(listener)


def test_a_frame_replayed_within_a_connection_is_refused(listener: Listener) -> None:
    def handler(sock: socket.socket) -> None:
        channel = accept(sock, "test", SECRET)
        channel.recv(Kind.BEGIN)
        channel.recv(Kind.BEGIN)

    listener.serve(handler)
    relay = Relay(listener.address)
    channel = connect(relay.address, SECRET)
    channel.send(Kind.BEGIN, b"once")
    relay.wait_upstream(HANDSHAKE_UPSTREAM + HEADER.size + len(b"once") + MAC_SIZE)
    relay.inject(bytes(relay.upstream[HANDSHAKE_UPSTREAM:]))
    assert "replayed or reordered" in refusal(listener)
    channel.close()


def test_a_frame_from_another_connection_is_refused(listener: Listener) -> None:
    first = Listener()
    first.serve(receive_one())
    recorder = Relay(first.address)
    connect(recorder.address, SECRET).send(Kind.BEGIN, b"for the first receiver")
    first.join()
    first.close()

    listener.serve(receive_one())
    relay = Relay(listener.address)
    channel = connect(relay.address, SECRET)
    relay.inject(bytes(recorder.upstream[HANDSHAKE_UPSTREAM:]))
    assert "failed its integrity check" in refusal(listener)
    channel.close()


PAYLOAD = b"a checkpoint's pages, say" * 40


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bit=st.integers(0, 8 * (HEADER.size + len(PAYLOAD) + MAC_SIZE) - 1))
def test_any_flipped_bit_of_a_frame_is_detected(bit: int) -> None:
    server = Listener()
    server.serve(receive_one())
    relay = Relay(server.address, flip_bit=8 * HANDSHAKE_UPSTREAM + bit)
    channel = connect(relay.address, SECRET)
    channel.send(Kind.BEGIN, PAYLOAD)
    channel.close()
    refusal(server)
    server.close()


def test_a_refusal_reaches_the_peer_with_its_reason(listener: Listener) -> None:
    def handler(sock: socket.socket) -> None:
        accept(sock, "test", SECRET).refuse("the disk is full")

    listener.serve(handler)
    channel = connect(listener.address, SECRET)
    with pytest.raises(Refused, match="refused: the disk is full"):
        channel.recv(Kind.COMMITTED)


def test_a_refusal_that_arrives_while_sending_is_the_error_a_sender_gets(
        listener: Listener) -> None:
    def handler(sock: socket.socket) -> None:
        accept(sock, "test", SECRET).refuse("the disk is full")  # and close, unread

    listener.serve(handler)
    channel = connect(listener.address, SECRET)
    listener.join()
    with pytest.raises(Refused, match="refused: the disk is full"):
        for _ in range(64):  # until the closed connection makes a send fail
            channel.send(Kind.PAGES, b"\x00" * (1 << 20))


def test_a_short_secret_is_refused_with_how_to_make_one(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "secret")
    with open(path, "w") as f:
        f.write("short\n")
    with pytest.raises(ProtocolError, match="at least 16"):
        read_secret(path)
