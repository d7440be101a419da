"""Crash safety of `rtcr run --store`: SIGKILL, full disk, I/O errors, corruption.

- SIGKILL the run (and the restores continuing it) at seeded random moments
  while it checkpoints: every listed checkpoint loads, `rtcr verify` is
  clean, the newest committed checkpoint is never lost, and the chain finally
  finishes with exactly the uninterrupted run's output.
- A full disk (a 256 KiB tmpfs): one clear line naming the disk and the
  checkpoint that failed; earlier checkpoints stay restorable.
- I/O errors injected through RTCR_STORE_FAULTS (rtcr/store/_faults.py).
- Bytes flipped or files truncated anywhere in a store: detected and
  reported with the checkpoint id, never restored silently.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_harness import DONE_RE, component, patch_fuzz, rtcr

from rtcr.checkpoint import EXIT_STORE, Session
from rtcr.errors import StoreError
from rtcr.store import Store

FUZZ_CALLS = 12_000


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A fuzz ELF and the checksum its uninterrupted run ends with."""
    elf = patch_fuzz(component("fuzz"), 4242, FUZZ_CALLS,
                     tmp_path_factory.mktemp("fuzz") / "fuzz.elf")
    done = run_to_end(rtcr("run", str(elf)))
    return elf, done


def run_to_end(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    match = DONE_RE.search(proc.stdout)
    assert match and match.group(3) == "0", proc.stdout[-500:]
    return match.group(0)


def newest(path: Path) -> int:
    """The newest committed checkpoint, read while a writer may be busy."""
    if not (path / "store.sqlite").exists():
        return 0
    try:
        with Store.open(path) as store:
            return store.newest() or 0
    except StoreError:
        return 0


def check_store(path: Path, rng: random.Random | None = None) -> list[int]:
    """`rtcr verify` is clean, every checkpoint loads, a sample restores; no orphans."""
    verify = rtcr("verify", str(path))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Traceback" not in verify.stderr
    with Store.open(path) as store:
        ids: list[int] = store.ids()
        assert ids, "no checkpoint"
        for cid in ids:
            store.load(cid)
        sample = {ids[0], ids[-1]} | set((rng or random.Random(0)).sample(ids, min(3, len(ids))))
        for cid in sorted(sample):
            session = Session.resume(store, cid, log_sink=lambda c, line: None,
                                     checkpoint=False)
            assert session.machine.instructions > 0
        registered = {f"{p:06d}.pack" for (p,) in store.backend.conn().execute(
            "SELECT id FROM packs")}
    assert {p.name for p in (path / "packs").iterdir()} == registered, "orphan pack files"
    return ids


def test_sigkill_during_checkpointing_loses_nothing_committed(
        tmp_path: Path, fuzz: tuple[Path, str]) -> None:
    elf, done = fuzz
    store = tmp_path / "store"
    rng = random.Random(31337)
    # Kill times are fractions of an uninterrupted run, so the test does not
    # depend on how fast this machine is: three rounds of at most 0.3 of a run
    # each cannot finish it, so at least three kills land.
    started = time.monotonic()
    run_to_end(rtcr("run", str(elf), "--store", str(tmp_path / "timing"), "--every", "40k"))
    full_run = time.monotonic() - started
    kills = 0
    last_seen = 0
    for _round in range(6):
        if newest(store) == 0:  # killed before the first commit: nothing to lose
            shutil.rmtree(store, ignore_errors=True)
            args = ["run", str(elf), "--store", str(store)]
        else:
            args = ["restore", str(store)]
        proc = subprocess.Popen([sys.executable, "-m", "rtcr", *args, "--every", "40k"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + rng.uniform(0.1, 0.3) * full_run
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        seen = newest(store)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate()
        assert "Traceback" not in err, err
        if newest(store) == 0:
            continue
        ids = check_store(store, rng)
        assert ids[-1] >= seen >= last_seen, (ids, seen, last_seen)
        last_seen = ids[-1]
        if proc.returncode == 0:
            break
    assert kills >= 3
    # the surviving chain finishes with exactly the uninterrupted output
    assert run_to_end(rtcr("restore", str(store))) == done


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a full-disk test needs root to mount a tmpfs (not root here)")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"mounting a 256k tmpfs was refused: {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_is_one_clear_line_and_earlier_checkpoints_survive(
        tiny_disk: Path, fuzz: tuple[Path, str]) -> None:
    elf, done = fuzz
    store = tiny_disk / "store"
    proc = rtcr("run", str(elf), "--store", str(store), "--every", "20k", "--strategy", "full")
    assert proc.returncode == EXIT_STORE
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, proc.stderr
    assert "disk full" in errors[0] and "checkpoint" in errors[0], errors[0]
    failed = int(errors[0].split("checkpoint ")[1].split()[0])
    ids = check_store(store)
    assert ids and ids[-1] == failed - 1, (ids, failed)
    # the newest survivor continues (without checkpoints: the disk is still full)
    assert run_to_end(rtcr("restore", str(store))) == done


SLOW = pytest.mark.slow


@pytest.mark.parametrize("fault", ["pack-write:20", "pack-sync:3", "commit:2:28",
                                   pytest.param("pack-write:30:28", marks=SLOW),
                                   pytest.param("commit:4", marks=SLOW)])
def test_injected_io_errors(tmp_path: Path, fuzz: tuple[Path, str], fault: str) -> None:
    elf, done = fuzz
    store = tmp_path / "store"
    proc = rtcr("run", str(elf), "--store", str(store), "--every", "100k",
                env=dict(os.environ, RTCR_STORE_FAULTS=fault))
    assert proc.returncode == EXIT_STORE, proc.stderr  # a store failure, not bad input
    assert "Traceback" not in proc.stderr
    # rtcr's own lines; the fuzzer's wild threads add core's fault reports beside them.
    lines = [line for line in proc.stderr.splitlines() if line.startswith("rtcr:")]
    assert len(lines) == 1 and lines[0].startswith("rtcr: error: checkpoint "), proc.stderr
    full = fault.endswith(":28")
    assert ("disk full" in lines[0]) == full
    assert full or "I/O error" in lines[0] or "Input/output error" in lines[0], lines[0]
    failed = int(lines[0].split("checkpoint ")[1].split()[0])
    ids = check_store(store)
    assert ids == list(range(1, failed)), (ids, failed)
    # the chain continues past the failed checkpoint, then ends like an undisturbed run
    assert run_to_end(rtcr("restore", str(store), "--every", "300k")) == done
    check_store(store)


def test_the_fault_seam_is_off_by_default(tmp_path: Path, fuzz: tuple[Path, str]) -> None:
    elf, _ = fuzz
    env = {k: v for k, v in os.environ.items() if k != "RTCR_STORE_FAULTS"}
    proc = rtcr("run", str(elf), "--store", str(tmp_path / "s"), "--every", "200k", env=env)
    assert proc.returncode == 0, proc.stderr
    assert errno.EIO  # (the seam's default error)


# ---------------------------------------------------------------- corruption


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory,
             fuzz: tuple[Path, str]) -> tuple[Path, dict[int, dict[str, list[bytes]]]]:
    """A closed store of a fuzz run and every page of every checkpoint in it."""
    elf, _ = fuzz
    path = tmp_path_factory.mktemp("pristine") / "store"
    proc = rtcr("run", str(elf), "--store", str(path), "--every", "150k")
    assert proc.returncode == 0, proc.stderr
    pages: dict[int, dict[str, list[bytes]]] = {}
    with Store.open(path) as store:
        for cid in store.ids():
            cp = store.load(cid)
            pages[cid] = {key: [cp.page(key, i) for i in range(n)]
                          for key, n in cp.objects().items()}
            pages[cid]["__manifest__"] = [repr(cp.manifest).encode()]
    return path, pages


def _mutate(root: Path, rng: random.Random) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "store.lock"
                   and p.stat().st_size > 0)
    victim = rng.choice(files)
    data = bytearray(victim.read_bytes())
    how = rng.choice(["flip", "flip", "flip", "truncate", "zero"])
    at = rng.randrange(len(data))
    if how == "flip":
        data[at] ^= 1 << rng.randrange(8)
    elif how == "truncate":
        del data[at:]
    else:
        data[at:at + 4096] = bytes(len(data[at:at + 4096]))
    victim.write_bytes(bytes(data))
    return f"{how} {victim.relative_to(root)} at {at}"


def _restored_pages(path: Path, cid: int) -> dict[str, list[bytes]] | str:
    """Every page of checkpoint `cid` as the store hands it out, or why it refused."""
    try:
        with Store.open(path) as store:
            cp = store.load(cid)
            out = {key: [cp.page(key, i) for i in range(n)] for key, n in cp.objects().items()}
            out["__manifest__"] = [repr(cp.manifest).encode()]
            return out
    except StoreError as exc:
        return str(exc)


@pytest.mark.parametrize("batch", [0, 1, *(pytest.param(b, marks=SLOW) for b in range(2, 10))])
def test_corruption_anywhere_is_detected_never_restored(
        tmp_path: Path, pristine: tuple[Path, dict[int, dict[str, list[bytes]]]],
        batch: int) -> None:
    source, pages = pristine
    rng = random.Random(batch)
    for trial in range(5):
        path = tmp_path / f"t{trial}"
        shutil.copytree(source, path)
        what = _mutate(path, rng)
        verify = rtcr("verify", str(path))
        assert "Traceback" not in verify.stderr, (what, verify.stderr)
        assert verify.returncode in (0, 1, 2), what
        if verify.returncode == 2:  # the store as a whole is unreadable: one line
            assert len(verify.stderr.strip().splitlines()) == 1, (what, verify.stderr)
        store_level = any(line.startswith("store:") for line in verify.stdout.splitlines())
        bad = {int(line.split()[1].rstrip(":")) for line in verify.stdout.splitlines()
               if line.startswith("checkpoint ") and "CORRUPT" in line}
        for cid, expected in pages.items():
            got = _restored_pages(path, cid)
            if isinstance(got, dict):
                assert got == expected, f"{what}: checkpoint {cid} restored corrupt data"
                assert cid not in bad, f"{what}: verify calls {cid} corrupt, yet it loads"
                continue
            assert verify.returncode != 0, f"{what}: verify OK, but {cid} refused: {got}"
            assert f"checkpoint {cid}" in got or verify.returncode == 2 or store_level, \
                f"{what}: refusal does not name checkpoint {cid}: {got}"
            if verify.returncode == 1 and not store_level:
                assert cid in bad, f"{what}: checkpoint {cid} refused but verify said OK"
        restore = rtcr("restore", str(path), "--max-instructions", "1")
        assert "Traceback" not in restore.stderr, (what, restore.stderr)
        if restore.returncode == 2:
            assert len(restore.stderr.strip().splitlines()) == 1, (what, restore.stderr)
        shutil.rmtree(path)
