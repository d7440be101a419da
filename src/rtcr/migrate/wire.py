"""The migration wire protocol: authenticated, length-prefixed, MAC-protected frames.

A frame is a 20-byte header -- magic ``RTCM``, protocol version (u16),
kind (u8), a zero byte, sequence number (u64), payload length (u32), all
big-endian -- then the payload, then an HMAC-SHA256 over header and
payload. The MAC is the checksum and the integrity check at once.

Peers share a secret and prove it to each other without sending it:

    source   -> receiver  HELLO      nonce_s (32 random bytes)
    receiver -> source    CHALLENGE  nonce_r (32 random bytes)
    source   -> receiver  PROOF      HMAC(secret, "source"   | nonce_s | nonce_r)
    receiver -> source    WELCOME    HMAC(secret, "receiver" | nonce_s | nonce_r)

Until the source has proved the secret the receiver has sent it nothing
but a fresh random nonce. These four frames carry a MAC under a fixed,
public key (a checksum against damage, nothing more); every later frame
carries a MAC under a per-direction session key derived from the secret
and both nonces, over its sequence number too. A frame replayed from
another connection fails its MAC (other nonces, other keys); one replayed
or reordered within a connection fails it too (its sequence number is not
the one expected). A frame announcing more than `MAX_PAYLOAD` bytes is
refused before anything of it is read.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import hmac
import json
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any

from rtcr.errors import RtcrError

MAGIC = b"RTCM"
VERSION = 1
HEADER = struct.Struct(">4sHBxQI")
MAC_SIZE = hashlib.sha256().digest_size
NONCE_SIZE = 32
# Payload limit of one frame: page batches stay well below it (`PAGES_PER_FRAME`).
MAX_PAYLOAD = 16 << 20
# How long a peer may keep the other waiting for a frame: the handshake, then the transfer.
HANDSHAKE_TIMEOUT = 10.0
TRANSFER_TIMEOUT = 120.0
# After a send failed: how long to look for the peer's reason (it is sent before the close).
REFUSAL_WAIT = 1.0
# The public key of the handshake frames' MACs: a checksum, no secret.
_HANDSHAKE_KEY = hashlib.sha256(b"rtcr migration handshake").digest()


class Kind(enum.IntEnum):
    """What a frame says; the payload of each is described where it is sent."""

    HELLO = 1
    CHALLENGE = 2
    PROOF = 3
    WELCOME = 4
    REFUSE = 5  # JSON {"reason": text}: the peer will not go on, and says why
    BEGIN = 10  # JSON: a checkpoint starts (parent, final)
    DECLARE = 11  # JSON: a memory object of it (key, npages, fresh)
    PAGES = 12  # u16 key length, key, u32 count, u8 codec, count u32 indices, the pages
    COMMIT = 13  # JSON: the manifest and record fields; the receiver commits
    COMMITTED = 14  # JSON: the receiver's record of it (durable; verified if final)
    ABORT = 15  # JSON: the source drops the checkpoint being sent
    STARTED = 16  # JSON: the receiver runs the component
    # Post-copy (see `postcopy`); COMMIT there is empty: every page was sent.
    STATE = 17  # JSON: the manifest and record fields; the RAM pages follow
    READY = 18  # JSON {"checkpoint": id}: restored, to run on GO
    GO = 19  # JSON {}: the source gives the component up: run it
    REQUEST = 20  # JSON {"key", "start", "end"}: pages a fault at the receiver waits for


class ProtocolError(RtcrError):
    """The peer broke the protocol, failed to authenticate, or the connection failed."""


class Refused(ProtocolError):
    """The peer said no (REFUSE), and why."""


@dataclass(frozen=True)
class Frame:
    kind: Kind
    payload: bytes

    def json(self) -> dict[str, Any]:
        """The payload as a JSON object (ProtocolError if it is not one)."""
        try:
            value = json.loads(self.payload)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError(f"{self.kind.name} frame does not hold JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ProtocolError(f"{self.kind.name} frame does not hold a JSON object")
        return value


def _mac(key: bytes, *parts: bytes | bytearray | memoryview) -> bytes:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        mac.update(part)
    return mac.digest()


def _proof(secret: bytes, role: bytes, nonce_source: bytes, nonce_receiver: bytes) -> bytes:
    return _mac(secret, b"rtcr migration proof ", role, nonce_source, nonce_receiver)


def _session_keys(secret: bytes, nonce_source: bytes,
                  nonce_receiver: bytes) -> tuple[bytes, bytes]:
    """(source -> receiver key, receiver -> source key) of one connection."""
    master = _mac(secret, b"rtcr migration session ", nonce_source, nonce_receiver)
    return _mac(master, b"source to receiver"), _mac(master, b"receiver to source")


def read_secret(path: os.PathLike[str] | str) -> bytes:
    """The shared secret in file ``path`` (surrounding whitespace ignored; 16 bytes at least)."""
    try:
        with open(path, "rb") as f:
            secret = f.read().strip()
    except OSError as exc:
        raise ProtocolError(f"cannot read the secret file {path}: "
                            f"{exc.strerror or exc}") from None
    if len(secret) < 16:
        raise ProtocolError(f"the secret in {path} has {len(secret)} bytes; use at least 16 "
                            "(e.g. `head -c 32 /dev/urandom | base64 > FILE`)")
    return secret


class Channel:
    """One side of a connection: frames out and in, each direction numbered from 0."""

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.peer = peer
        self._send_key = _HANDSHAKE_KEY
        self._recv_key = _HANDSHAKE_KEY
        self._send_seq = 0
        self._recv_seq = 0
        self.bytes_sent = 0
        self.authenticated = False
        self._sending = threading.Lock()  # a frame goes out whole, numbered in order

    def keyed(self, send_key: bytes, recv_key: bytes) -> None:
        """From now on, frames carry MACs under the session keys."""
        self._send_key, self._recv_key = send_key, recv_key
        self.authenticated = True

    # -- sending ------------------------------------------------------------------------
    def send(self, kind: Kind, *parts: bytes | memoryview) -> None:
        length = sum(len(p) if isinstance(p, bytes) else p.nbytes for p in parts)
        if length > MAX_PAYLOAD:
            raise ProtocolError(f"a {kind.name} frame of {length} bytes exceeds the limit of "
                                f"{MAX_PAYLOAD}")
        with self._sending:
            header = HEADER.pack(MAGIC, VERSION, kind, self._send_seq, length)
            mac = _mac(self._send_key, header, *parts)
            pending = [memoryview(p).cast("B") for p in (header, *parts, mac)]
            try:
                while pending:  # as few calls as the socket takes: no small-packet delays
                    sent = self.sock.sendmsg(pending)
                    while pending and sent >= pending[0].nbytes:
                        sent -= pending.pop(0).nbytes
                    if pending:
                        pending[0] = pending[0][sent:]
            except OSError as exc:
                # A peer that refuses says why, then closes: the reason may be waiting
                # unread while this side was still sending, and it is the error to report.
                refusal = self._refusal_waiting()
                if refusal is not None:
                    raise refusal from None
                raise ProtocolError(f"sending to {self.peer} failed: "
                                    f"{exc.strerror or exc}") from None
            self._send_seq += 1
            self.bytes_sent += HEADER.size + length + MAC_SIZE

    def send_json(self, kind: Kind, value: dict[str, Any]) -> None:
        self.send(kind, json.dumps(value, separators=(",", ":")).encode())

    def _refusal_waiting(self) -> Refused | None:
        """The peer's REFUSE if it is already here, after a failed send."""
        with contextlib.suppress(OSError):
            self.sock.settimeout(REFUSAL_WAIT)
        try:
            self.recv()
        except Refused as refusal:
            return refusal
        except ProtocolError:
            pass
        return None

    def refuse(self, reason: str) -> None:
        """Tell the peer why this side stops (best effort: the peer may be gone)."""
        with contextlib.suppress(ProtocolError):
            self.send_json(Kind.REFUSE, {"reason": reason})

    # -- receiving ----------------------------------------------------------------------
    def _read(self, n: int, what: str) -> bytearray:
        buffer = bytearray(n)
        view = memoryview(buffer)
        got = 0
        while got < n:
            try:
                k = self.sock.recv_into(view[got:])
            except TimeoutError:
                raise ProtocolError(f"{self.peer} sent nothing for "
                                    f"{self.sock.gettimeout():.0f} s (in {what})") from None
            except OSError as exc:
                raise ProtocolError(f"receiving from {self.peer} failed: "
                                    f"{exc.strerror or exc}") from None
            if k == 0:
                where = "between frames" if what == "a frame header" and got == 0 \
                    else f"in the middle of {what}"
                raise ProtocolError(f"{self.peer} closed the connection {where}")
            got += k
        return buffer

    def recv(self, *expected: Kind) -> Frame:
        """The next frame, checked; a REFUSE raises `Refused`, another kind `ProtocolError`."""
        header = self._read(HEADER.size, "a frame header")
        magic, version, kind, seq, length = HEADER.unpack(header)
        if magic != MAGIC:
            raise ProtocolError(f"{self.peer} does not speak the rtcr migration protocol "
                                f"(frame starts with {bytes(magic)!r})")
        if version != VERSION:
            raise ProtocolError(f"{self.peer} speaks migration protocol version {version}; "
                                f"this rtcr speaks version {VERSION}")
        if length > MAX_PAYLOAD:
            raise ProtocolError(f"{self.peer} announced a frame of {length} bytes, more than "
                                f"the limit of {MAX_PAYLOAD}")
        body = self._read(length + MAC_SIZE, "a frame")
        payload = memoryview(body)[:length]
        if not hmac.compare_digest(_mac(self._recv_key, header, payload), body[length:]):
            raise ProtocolError(f"frame {self._recv_seq} from {self.peer} failed its "
                                "integrity check (corrupted, replayed or forged)")
        if seq != self._recv_seq:  # a genuine frame sent again, or out of order
            raise ProtocolError(f"frame {self._recv_seq} from {self.peer} carries sequence "
                                f"number {seq} (replayed or reordered)")
        self._recv_seq += 1
        try:
            known = Kind(kind)
        except ValueError:
            raise ProtocolError(f"{self.peer} sent a frame of unknown kind {kind}") from None
        frame = Frame(known, bytes(payload))
        if known is Kind.REFUSE and Kind.REFUSE not in expected:
            reason = frame.json().get("reason", "no reason given")
            raise Refused(f"{self.peer} refused: {reason}")
        if expected and known not in expected:
            raise ProtocolError(f"{self.peer} sent {known.name} where "
                                f"{' or '.join(k.name for k in expected)} was due")
        return frame

    def linger(self, seconds: float = 5.0) -> None:
        """After a refusal: read and drop what the peer still sends, so that it gets to
        read the refusal (closing on unread data would reset the connection and lose it)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(seconds)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and self.sock.recv(1 << 16):
                pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _nonce(frame: Frame) -> bytes:
    if len(frame.payload) != NONCE_SIZE:
        raise ProtocolError(f"{frame.kind.name} carries {len(frame.payload)} bytes, "
                            f"not a {NONCE_SIZE}-byte nonce")
    return frame.payload


def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT (``[v6]:PORT`` for an IPv6 address) as a (host, port) pair."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 1 << 16:
        raise ProtocolError(f"{text!r} is not HOST:PORT (example: 127.0.0.1:7070)")
    return host.strip("[]"), int(port)


def connect(address: str, secret: bytes, *, timeout: float = HANDSHAKE_TIMEOUT) -> Channel:
    """Connect to a receiver at HOST:PORT and authenticate both ways."""
    host, port = parse_address(address)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise ProtocolError(f"cannot connect to {address}: {exc.strerror or exc}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    channel = Channel(sock, f"receiver {address}")
    try:
        mine = os.urandom(NONCE_SIZE)
        channel.send(Kind.HELLO, mine)
        theirs = _nonce(channel.recv(Kind.CHALLENGE))
        channel.send(Kind.PROOF, _proof(secret, b"source", mine, theirs))
        welcome = channel.recv(Kind.WELCOME).payload
        if not hmac.compare_digest(welcome, _proof(secret, b"receiver", mine, theirs)):
            raise ProtocolError(f"{channel.peer} could not prove it knows the secret")
        channel.keyed(*_session_keys(secret, mine, theirs))
        sock.settimeout(TRANSFER_TIMEOUT)
    except BaseException:
        channel.close()
        raise
    return channel


def accept(sock: socket.socket, peer: str, secret: bytes) -> Channel:
    """Authenticate a source that connected to this receiver (ProtocolError: refused).

    An unauthenticated peer gets a random nonce and nothing else: no
    reason, no proof.
    """
    sock.settimeout(HANDSHAKE_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    channel = Channel(sock, f"source {peer}")
    theirs = _nonce(channel.recv(Kind.HELLO))
    mine = os.urandom(NONCE_SIZE)
    channel.send(Kind.CHALLENGE, mine)
    proof = channel.recv(Kind.PROOF).payload
    if not hmac.compare_digest(proof, _proof(secret, b"source", theirs, mine)):
        raise ProtocolError(f"{channel.peer} does not know the secret")
    channel.send(Kind.WELCOME, _proof(secret, b"receiver", theirs, mine))
    to_receiver, to_source = _session_keys(secret, theirs, mine)
    channel.keyed(to_source, to_receiver)
    sock.settimeout(TRANSFER_TIMEOUT)
    return channel
