"""Migrations that fail: the component keeps running at the source, nothing is lost,
and the receiver goes on serving (a retry succeeds)."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from migrate_helpers import (
    RTCR,
    Finished,
    Receiver,
    assert_continued,
    assert_ran_here,
    migrate,
    reference,
    secret_file,
)
from net_helpers import Relay

from rtcr.migrate.wire import HEADER, MAC_SIZE, NONCE_SIZE

ROOT = Path(__file__).resolve().parent.parent.parent
HANDSHAKE_UPSTREAM = 2 * (HEADER.size + NONCE_SIZE + MAC_SIZE)
STOP_AND_COPY = ("--migrate-at", "4M", "--migrate-mode", "stop-and-copy")


@pytest.fixture
def counter(example: Callable[[str], Path]) -> Path:
    return example("counter")


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    serving = Receiver(tmp_path)
    yield serving
    serving.kill()


def retry_succeeds(elf: Path, receiver: Receiver, tmp_path: Path) -> None:
    """The receiver that refused one migration takes the next one, and it is exact."""
    source = migrate(elf, receiver.address, tmp_path, *STOP_AND_COPY)
    assert_continued(reference(elf), source, receiver.wait())


@pytest.mark.parametrize("cut_after", [10, HANDSHAKE_UPSTREAM + 10, 100_000, 2_000_000])
def test_a_cut_connection_leaves_the_component_running_and_a_retry_succeeds(
        noisy: Path, counter: Path, receiver: Receiver, tmp_path: Path, cut_after: int) -> None:
    relay = Relay(receiver.address, cut_after=cut_after)  # (noisy sends about 2.1 MB)
    source = migrate(noisy, relay.address, tmp_path, *STOP_AND_COPY)
    assert "the component keeps running here" in source.stderr
    assert_ran_here(reference(noisy), source)
    retry_succeeds(counter, receiver, tmp_path)


def test_a_connection_cut_during_pre_copy_rounds_loses_nothing(
        noisy: Path, receiver: Receiver, tmp_path: Path) -> None:
    relay = Relay(receiver.address, cut_after=(2 << 20) + 200_000)  # past the full round
    source = migrate(noisy, relay.address, tmp_path, "--migrate-at", "20M",
                     "--downtime-ms", "0.001", "--max-rounds", "6")
    assert "the component keeps running here" in source.stderr
    assert_ran_here(reference(noisy), source)


def test_a_receiver_killed_mid_transfer_leaves_the_component_running(
        noisy: Path, receiver: Receiver, tmp_path: Path) -> None:
    relay = Relay(receiver.address)
    outcome: list[Finished] = []
    thread = threading.Thread(target=lambda: outcome.append(migrate(
        noisy, relay.address, tmp_path, "--migrate-at", "20M", "--downtime-ms", "0.001",
        "--max-rounds", "6")))
    thread.start()
    deadline = time.monotonic() + 60
    while len(relay.upstream) < 1 << 20 and time.monotonic() < deadline:
        time.sleep(0.001)
    receiver.kill()
    thread.join(timeout=120)
    (source,) = outcome
    assert "the component keeps running here" in source.stderr
    assert_ran_here(reference(noisy), source)


def test_a_wrong_secret_is_refused_at_both_ends_and_a_retry_succeeds(
        counter: Path, receiver: Receiver, tmp_path: Path) -> None:
    wrong = secret_file(tmp_path, "not the secret the receiver was given\n")
    source = migrate(counter, receiver.address, tmp_path, *STOP_AND_COPY, secret=wrong)
    assert "the component keeps running here" in source.stderr
    assert_ran_here(reference(counter), source)
    retry_succeeds(counter, receiver, tmp_path)
    assert "does not know the secret" in receiver.messages()


def test_a_corrupted_frame_is_refused_and_a_retry_succeeds(
        counter: Path, receiver: Receiver, tmp_path: Path) -> None:
    relay = Relay(receiver.address, flip_bit=8 * (HANDSHAKE_UPSTREAM + 300) + 5)
    source = migrate(counter, relay.address, tmp_path, *STOP_AND_COPY)
    assert "the component keeps running here" in source.stderr
    assert_ran_here(reference(counter), source)
    retry_succeeds(counter, receiver, tmp_path)
    assert "failed its integrity check" in receiver.messages()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_receiver_with_a_full_disk_refuses_and_the_component_runs_on(
        noisy: Path, tmp_path: Path, tiny_disk: Path) -> None:
    receiver = Receiver(tmp_path, store=tiny_disk / "store")
    try:
        source = migrate(noisy, receiver.address, tmp_path, "--migrate-at", "10M",
                         "--migrate-mode", "stop-and-copy")
    finally:
        receiver.kill()
    assert "refused" in source.stderr and "the component keeps running here" in source.stderr
    assert_ran_here(reference(noisy), source)
    assert "refused the migration" in receiver.messages()


def received_until_closed(sock: socket.socket) -> bytes:
    """What a peer got before the receiver closed (or reset) the connection."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(1 << 16):
            data += chunk
    return data


@pytest.mark.parametrize(("sent", "complaint"), [
    (b"GET / HTTP/1.1\r\nHost: receiver\r\n\r\n", "does not speak the rtcr migration protocol"),
    (HEADER.pack(b"RTCM", 1, 1, 0, 0xFFFF_FFFF), "more than the limit"),
    (HEADER.pack(b"RTCM", 9, 1, 0, NONCE_SIZE), "speaks migration protocol version 9"),
])
def test_rtcr_serve_refuses_a_hostile_peer_and_serves_the_next(
        counter: Path, receiver: Receiver, tmp_path: Path, sent: bytes, complaint: str) -> None:
    host, port = receiver.address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as hostile:
        hostile.sendall(sent)
        assert received_until_closed(hostile) == b""  # refused: it is told nothing
    assert complaint in receiver.messages()
    retry_succeeds(counter, receiver, tmp_path)


def test_sigint_abandons_a_migration_and_stops_the_run(noisy: Path, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path)
    relay = Relay(receiver.address)
    try:
        source = subprocess.Popen(
            [*RTCR, "run", str(noisy), "--migrate-to", relay.address, "--secret-file",
             str(secret_file(tmp_path)), "--migrate-at", "20M", "--max-rounds", "50",
             "--downtime-ms", "0.001"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        deadline = time.monotonic() + 60
        while len(relay.upstream) < 1 << 20 and time.monotonic() < deadline:
            time.sleep(0.001)
        source.send_signal(signal.SIGINT)
        _, err = source.communicate(timeout=120)
    finally:
        receiver.kill()
    assert source.returncode == 128 + signal.SIGINT
    assert "abandoned: interrupted" in err
