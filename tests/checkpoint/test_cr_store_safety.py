"""Store safety: crashes lose at most the checkpoint being written, corruption is
always reported (naming the checkpoint) and never restored silently, gc keeps
what it promises.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import (
    ROOT,
    RTCR,
    Outcome,
    assert_all_restore,
    assert_continues,
    checkpointed_run,
    reference,
    restored_run,
    rtcr,
    tagged,
)

from rtcr.errors import CorruptCheckpoint, StoreError
from rtcr.store import Store

Workload = Callable[[str], Path]
NAME = "kvstore"
EVERY = 1_000_000


def one_clear_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


# ---------------------------------------------------------------- SIGKILL


def _checkpoint_count(store_dir: Path) -> int:
    """Committed checkpoints in a store another process may be creating or writing to."""
    if not (store_dir / "store.sqlite").exists():
        return 0
    try:
        with Store.open(store_dir) as store:
            return len(store.ids())
    except StoreError:  # caught while the writer creates it
        return 0


def _kill_after_a_checkpoint(proc: subprocess.Popen[bytes], store_dir: Path, before: int,
                             delay: float) -> None:
    """SIGKILL ``proc`` ``delay`` seconds after it committed a checkpoint beyond ``before``
    (how long a run takes to start is the host's business, not what is tested)."""
    deadline = time.monotonic() + 120
    while (proc.poll() is None and _checkpoint_count(store_dir) <= before
           and time.monotonic() < deadline):
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def _kill_during_run(elf: Path, store_dir: Path, delay: float) -> None:
    proc = subprocess.Popen([*RTCR, "run", str(elf), "--store", str(store_dir),
                             "--every", str(EVERY)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _kill_after_a_checkpoint(proc, store_dir, 0, delay)


@pytest.fixture(scope="module")
def full_run_seconds(example: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
                     ) -> float:
    """How long an uninterrupted `rtcr run --every` of the workload takes here."""
    store = tmp_path_factory.mktemp("timing") / "store"
    started = time.monotonic()
    done = rtcr("run", example(NAME), "--store", store, "--every", EVERY)
    assert done.returncode == reference(example(NAME)).exit_code
    return time.monotonic() - started


def _check_killed_store(store_dir: Path, ref: Outcome) -> int:
    if not (store_dir / "store.sqlite").exists():
        return 0  # killed before the store existed
    listed = rtcr("inspect", store_dir, "--json")
    assert listed.returncode == 0, listed.stderr
    ids = [entry["id"] for entry in json.loads(listed.stdout)]
    assert ids == list(range(1, len(ids) + 1)), "a crash loses at most the newest checkpoint"
    with Store.open(store_dir) as store:
        assert store.ids() == ids
        assert store.verify().ok
        assert_all_restore(store, ref, ids)
    return len(ids)


@pytest.mark.parametrize("kills", [pytest.param(2, id="2-kills"),
                                   pytest.param(10, id="10-kills", marks=pytest.mark.slow)])
def test_sigkill_during_checkpointing_leaves_every_listed_checkpoint_restorable(
        example: Callable[[str], Path], tmp_path: Path, full_run_seconds: float,
        kills: int) -> None:
    elf = example(NAME)
    ref = reference(elf)
    rng = random.Random(20240 + kills)
    counts = []
    for kill in range(kills):
        store_dir = tmp_path / f"store{kill}"
        _kill_during_run(elf, store_dir, rng.uniform(0.0, 0.6) * full_run_seconds)
        counts.append(_check_killed_store(store_dir, ref))
    assert all(counts), "every kill landed after the first checkpoint"


@pytest.mark.parametrize("kills", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_sigkill_during_a_restored_run_keeps_the_continued_chain_restorable(
        example: Callable[[str], Path], tmp_path: Path, full_run_seconds: float,
        kills: int) -> None:
    elf = example(NAME)
    ref = reference(elf)
    store_dir = tmp_path / "store"
    done = rtcr("run", elf, "--store", store_dir, "--every", EVERY * 4)
    assert done.returncode == ref.exit_code
    first = len(json.loads(rtcr("inspect", store_dir, "--json").stdout))
    rng = random.Random(77 + kills)
    for _ in range(kills):
        before = _checkpoint_count(store_dir)
        proc = subprocess.Popen([*RTCR, "restore", str(store_dir), "--checkpoint", "1",
                                 "--every", str(EVERY)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _kill_after_a_checkpoint(proc, store_dir, before,
                                 rng.uniform(0.0, 0.45) * full_run_seconds)
    with Store.open(store_dir) as store:
        assert store.verify().ok
        continued = [cid for cid in store.ids() if cid > first]
        assert continued, "no kill landed after a continued checkpoint"
        for cid in continued:
            assert 1 in store.load(cid).chain, "continued checkpoints link back to 1"
        assert_all_restore(store, ref, [*continued[-3:], first])


def test_a_store_killed_mid_run_takes_new_checkpoints_afterwards(
        example: Callable[[str], Path], tmp_path: Path, full_run_seconds: float) -> None:
    elf = example(NAME)
    ref = reference(elf)
    store_dir = tmp_path / "store"
    _kill_during_run(elf, store_dir, full_run_seconds * 0.3)
    before = _check_killed_store(store_dir, ref)
    done = rtcr("run", elf, "--store", store_dir, "--every", EVERY * 4)
    assert done.returncode == ref.exit_code, done.stderr
    with Store.open(store_dir) as store:
        new = [cid for cid in store.ids() if cid > before]
        assert new and store.info(new[0]).parent is None
        assert_all_restore(store, ref, [new[-1]])


# ---------------------------------------------------------------- corruption


@pytest.fixture(scope="module")
def pristine(example: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the workload with 6 checkpoints (API-written, ids 1..6)."""
    store_dir = tmp_path_factory.mktemp("pristine") / "store"
    elf = example(NAME)
    with Store.create(store_dir) as store:
        checkpointed_run(elf, store, every=reference(elf).instructions // 6 - 1000)
        assert len(store.ids()) == 6
    return store_dir


def _copy(pristine: Path, dest: Path) -> Path:
    shutil.copytree(pristine, dest)
    return dest


def _flip(path: Path, offset: int, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= rng.randrange(1, 256)
    path.write_bytes(bytes(data))


def _blobs_owned_by(store_dir: Path, cid: int) -> list[tuple[int, int, int]]:
    with Store.open(store_dir) as store:
        return [(b.pack, b.offset, b.length) for b in store.blobs()
                if b.owner == cid and b.length >= 64]


def _expect_restore_fails(store_dir: Path, cid: int) -> None:
    done = rtcr("restore", store_dir, "--checkpoint", cid)
    assert done.returncode != 0
    assert done.stdout == "", "nothing of the component ran"
    line = one_clear_line(done.stderr)
    assert f"checkpoint {cid}" in line


def _restore_is_exact_or_refused(store: Store, cid: int, ref: Outcome) -> bool:
    """True if `cid` restored (exactly); False if refused as corrupt, naming `cid`."""
    try:
        got, _, log_lines = restored_run(store, cid)
    except CorruptCheckpoint as error:
        assert error.checkpoint_id == cid and f"checkpoint {cid}" in str(error)
        return False
    assert_continues(ref, got, log_lines, f"checkpoint {cid} restored from a damaged store")
    return True


@pytest.mark.parametrize("seed", [1, 2, pytest.param(3, marks=pytest.mark.slow),
                                  pytest.param(4, marks=pytest.mark.slow)])
def test_a_flipped_pack_byte_fails_the_restore_of_its_checkpoint_only(
        example: Callable[[str], Path], pristine: Path, tmp_path: Path, seed: int) -> None:
    ref = reference(example(NAME))
    rng = random.Random(seed)
    store_dir = _copy(pristine, tmp_path / "store")
    victim = rng.randrange(2, 7)
    pack, offset, length = rng.choice(_blobs_owned_by(store_dir, victim))
    pack_file = next((store_dir / "packs").glob(f"{pack:06d}.pack"))
    _flip(pack_file, offset + rng.randrange(length // 4, length), rng)
    _expect_restore_fails(store_dir, victim)
    with Store.open(store_dir) as store:
        assert store.verify(victim).status(victim) is not None
        for cid in store.ids():
            restored = _restore_is_exact_or_refused(store, cid, ref)
            if cid < victim:
                assert restored, f"intact older checkpoint {cid} must still restore"
            if cid == victim:
                assert not restored
    # The CLI agrees for the newest intact one.
    ok = rtcr("restore", store_dir, "--checkpoint", victim - 1)
    assert ok.returncode == ref.exit_code, ok.stderr
    log_lines = Store.open(store_dir).load(victim - 1).manifest["component"]["log_lines"]
    assert ok.stdout.splitlines() == tagged(ref, NAME)[log_lines:]


@pytest.mark.parametrize("seed", [5, pytest.param(6, marks=pytest.mark.slow)])
def test_a_flipped_manifest_byte_in_the_database_fails_the_restore_naming_the_checkpoint(
        example: Callable[[str], Path], pristine: Path, tmp_path: Path, seed: int) -> None:
    ref = reference(example(NAME))
    rng = random.Random(seed)
    store_dir = _copy(pristine, tmp_path / "store")
    victim = rng.randrange(1, 7)
    with Store.open(store_dir) as store:
        text = json.dumps(store.load(victim).manifest["threads"][0]["registers"])
    db = store_dir / "store.sqlite"
    raw = db.read_bytes()
    conn = sqlite3.connect(db)
    (stored_json,) = conn.execute("SELECT json FROM manifests WHERE cid=?", (victim,)).fetchone()
    conn.close()
    # A stretch of this manifest's text that occurs exactly once in the file.
    start = stored_json.find('"rip"') if '"rip"' in stored_json else len(stored_json) // 2
    needle = stored_json[start:start + 48].encode()
    assert raw.count(needle) == 1, (text[:60], needle)
    at = raw.find(needle) + rng.randrange(8, len(needle))
    data = bytearray(raw)
    data[at] = ord("7") if data[at] != ord("7") else ord("3")
    db.write_bytes(bytes(data))
    _expect_restore_fails(store_dir, victim)
    with Store.open(store_dir) as store:
        for cid in store.ids():
            assert _restore_is_exact_or_refused(store, cid, ref) == (cid != victim)


@pytest.mark.parametrize("seed", [7, 8, pytest.param(9, marks=pytest.mark.slow),
                                  pytest.param(10, marks=pytest.mark.slow)])
def test_random_database_byte_flips_never_restore_different_state(
        example: Callable[[str], Path], pristine: Path, tmp_path: Path, seed: int) -> None:
    ref = reference(example(NAME))
    rng = random.Random(seed)
    store_dir = _copy(pristine, tmp_path / "store")
    db = store_dir / "store.sqlite"
    size = db.stat().st_size
    for _ in range(4):
        _flip(db, rng.randrange(100, size), rng)  # past the SQLite file header
    for cid in range(1, 7):
        done = rtcr("restore", store_dir, "--checkpoint", cid)
        if done.returncode == ref.exit_code and done.stderr == "":
            with Store.open(store_dir) as store:
                log_lines = store.load(cid).manifest["component"]["log_lines"]
            assert done.stdout.splitlines() == tagged(ref, NAME)[log_lines:]
        else:
            assert done.returncode != 0
            assert done.stdout == ""
            line = one_clear_line(done.stderr)
            assert f"checkpoint {cid}" in line or str(store_dir) in line, line


# ---------------------------------------------------------------- gc


def test_gc_keep_two_keeps_the_newest_two_restorable(
        example: Callable[[str], Path], pristine: Path, tmp_path: Path) -> None:
    ref = reference(example(NAME))
    store_dir = _copy(pristine, tmp_path / "store")
    done = rtcr("gc", store_dir, "--keep", 2)
    assert done.returncode == 0, done.stderr
    listed = json.loads(rtcr("inspect", store_dir, "--json").stdout)
    assert [entry["id"] for entry in listed] == [5, 6]
    assert listed[0]["parent"] is None, "the oldest kept checkpoint became self-contained"
    with Store.open(store_dir) as store:
        assert store.verify().ok
        assert_all_restore(store, ref)
    gone = rtcr("restore", store_dir, "--checkpoint", 4)
    assert gone.returncode != 0 and "4" in one_clear_line(gone.stderr)
    ok = rtcr("restore", store_dir, "--checkpoint", 5)
    assert ok.returncode == ref.exit_code


def test_a_chain_continues_from_a_checkpoint_kept_by_gc(
        example: Callable[[str], Path], pristine: Path, tmp_path: Path) -> None:
    ref = reference(example(NAME))
    store_dir = _copy(pristine, tmp_path / "store")
    with Store.open(store_dir) as store:
        store.gc(2)
        got, result, log_lines = restored_run(store, 5, checkpoint=True,
                                              every=ref.instructions // 10)
        assert_continues(ref, got, log_lines, "checkpoint 5 after gc")
        new = [c.id for c in result.checkpoints]
        assert new and store.info(new[0]).parent == 5
        store.gc(3)
        assert store.ids() == sorted(store.ids())[-3:]
        assert_all_restore(store, ref)


# ---------------------------------------------------------------- one pause, read-only


def test_inspect_reports_the_pause_summary_json_reports(
        example: Callable[[str], Path], tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    summary = tmp_path / "summary.json"
    done = rtcr("run", example(NAME), "--store", store_dir, "--every", EVERY,
                "--summary-json", summary)
    assert done.returncode == reference(example(NAME)).exit_code, done.stderr
    reported = {c["id"]: (c["pause_us"], c["commit_us"])
                for c in json.loads(summary.read_text())["checkpoints"]}
    listed = {c["id"]: (c["pause_us"], c["commit_us"])
              for c in json.loads(rtcr("inspect", store_dir, "--json").stdout)}
    assert reported and listed == reported
    assert all(commit >= pause for pause, commit in listed.values())


def test_a_store_on_a_read_only_mount_restores_and_refuses_new_checkpoints_in_one_line(
        example: Callable[[str], Path], pristine: Path, tmp_path: Path) -> None:
    ref = reference(example(NAME))
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root for a read-only bind mount")
    for args in (["mount", "--bind", str(pristine), str(ro)],
                 ["mount", "-o", "remount,bind,ro", str(ro)]):
        if subprocess.run(args, capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", str(ro)], check=False)
            pytest.skip("a read-only bind mount was refused")
    try:
        done = rtcr("restore", ro, "--checkpoint", 3)
        assert done.returncode == ref.exit_code, done.stderr
        with Store.open(pristine) as store:
            log_lines = store.load(3).manifest["component"]["log_lines"]
        assert done.stdout.splitlines() == tagged(ref, NAME)[log_lines:]
        refused = rtcr("restore", ro, "--checkpoint", 3, "--every", "1M")
        assert (refused.returncode, refused.stdout, refused.stderr) == (2, "", (
            f"rtcr: error: {ro}: the store is read-only, so the restored run cannot checkpoint "
            "into it (--every, --every-ms, --checkpoint-on-exit, --keep, --max-store-size); "
            "--into NEW_STORE continues in a new one\n"))
        forked = rtcr("restore", ro, "--checkpoint", 3, "--every", "1M", "--into",
                      tmp_path / "fork")
        assert forked.returncode == ref.exit_code, forked.stderr
        assert forked.stdout == done.stdout
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)
