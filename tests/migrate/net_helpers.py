"""Loopback plumbing of the migration tests: a listening receiver thread and a relay."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any


class Listener:
    """A loopback TCP listener; ``serve(handler)`` runs ``handler(sock)`` for one connection.

    The handler's return value or exception is kept in ``result`` / ``error``.
    """

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def serve(self, handler: Callable[[socket.socket], Any]) -> None:
        def run() -> None:
            conn, _ = self.sock.accept()
            try:
                self.result = handler(conn)
            except BaseException as exc:  # the test asserts on it
                self.error = exc
            finally:
                conn.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def join(self) -> None:
        assert self._thread is not None
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the receiver side did not finish"

    def close(self) -> None:
        self.sock.close()


class Relay:
    """A TCP relay between a client and ``target``: it records, can cut and can inject.

    ``cut_after`` closes both sides once that many bytes went from client
    to target; ``flip_bit`` flips that bit of the client's byte stream.
    ``upstream`` holds every byte the client sent; ``inject`` sends raw
    bytes to the target as if the client had.
    """

    def __init__(self, target: str, cut_after: int | None = None,
                 flip_bit: int | None = None) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self.cut_after = cut_after
        self.flip_bit = flip_bit
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.upstream = bytearray()
        self._to_target: socket.socket | None = None
        self.cut = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        client, _ = self.sock.accept()
        target = socket.create_connection(self._target)
        self._to_target = target
        down = threading.Thread(target=self._pump, args=(target, client, False), daemon=True)
        down.start()
        self._pump(client, target, True)

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if up and self.flip_bit is not None:
                    at = self.flip_bit // 8 - len(self.upstream)
                    if 0 <= at < len(data):
                        data = data[:at] + bytes([data[at] ^ 1 << self.flip_bit % 8]) \
                            + data[at + 1:]
                if up and self.cut_after is not None:
                    room = self.cut_after - len(self.upstream)
                    if room <= len(data):
                        dst.sendall(data[:room])
                        self.upstream += data[:room]
                        break
                if up:
                    self.upstream += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self.cut.set()
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def wait_upstream(self, n: int, timeout: float = 30) -> None:
        """Until the client has sent ``n`` bytes through the relay."""
        deadline = time.monotonic() + timeout
        while len(self.upstream) < n:
            assert time.monotonic() < deadline, f"only {len(self.upstream)} of {n} bytes came"
            time.sleep(0.001)

    def inject(self, data: bytes) -> None:
        assert self._to_target is not None
        self._to_target.sendall(data)

    def close(self) -> None:
        self.sock.close()
