"""Retention while running: `run/restore --keep N` and `--max-store-size SIZE`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cr_helpers import assert_all_restore, reference, rtcr

from rtcr.errors import InvalidArgument
from rtcr.store import Retention, Store
from rtcr.store.retention import occupied_bytes

# Every round writes 256 KiB of fresh, incompressible data: each checkpoint stores about that.
CHURN = r"""
#include <rtcr.h>
#define WORDS (64 * 512)
static unsigned long buf[WORDS];

int main(void)
{
	unsigned long x = 88172645463325252UL, sum = 0;
	for (int round = 0; round < 24; round++) {
		for (int i = 0; i < WORDS; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			buf[i] = x;
		}
		sum += buf[round];
	}
	rtcr_printf("churned %lx\n", sum);
	return 0;
}
"""


@pytest.fixture(scope="module")
def churn(compile_c: Callable[[str, str], Path]) -> Path:
    return compile_c("churn", CHURN)


def ids(store: Path) -> list[int]:
    with Store.open(store) as s:
        return s.ids()


def test_a_run_with_keep_3_ends_with_its_newest_3_checkpoints(
        tmp_path: Path, example: Callable[[str], Path]) -> None:
    done = rtcr("run", example("counter"), "--store", tmp_path / "ck", "--every", 100_000,
                "--keep", 3)
    assert done.returncode == 0, done.stderr
    assert ids(tmp_path / "ck") == [78, 79, 80]
    assert "rtcr: 80 checkpoints, newest 80\nrtcr: removed checkpoints 1–77 while running (" \
        in done.stderr


def test_every_checkpoint_a_rolling_window_kept_restores(
        tmp_path: Path, example: Callable[[str], Path]) -> None:
    elf = example("counter")
    done = rtcr("run", elf, "--store", tmp_path / "ck", "--every", 100_000, "--keep", 3)
    assert done.returncode == 0, done.stderr
    with Store.open(tmp_path / "ck") as store:
        assert len(assert_all_restore(store, reference(elf))) == 3


def test_a_restore_with_keep_keeps_the_tagged_checkpoints_besides(
        tmp_path: Path, example: Callable[[str], Path]) -> None:
    store = tmp_path / "ck"
    assert rtcr("run", example("counter"), "--store", store, "--every", 1_000_000).returncode == 0
    assert rtcr("tag", store, "early", 2).returncode == 0
    done = rtcr("restore", store, "--checkpoint", 4, "--every", 1_000_000, "--keep", 2)
    assert done.returncode == 0, done.stderr
    newest = ids(store)[-2:]
    assert ids(store) == [2, *newest]
    with Store.open(store) as s:
        assert s.tags() == {"early": 2}


def test_max_store_size_keeps_the_store_under_the_bound(tmp_path: Path, churn: Path) -> None:
    store = tmp_path / "ck"
    done = rtcr("run", churn, "--store", store, "--every", 500_000, "--max-store-size", "3M")
    assert done.returncode == 0, done.stderr
    assert occupied_bytes(store) <= 3 << 20
    assert "removed checkpoints 1–" in done.stderr
    assert "warning" not in done.stderr


def test_what_max_store_size_keeps_restores(tmp_path: Path, churn: Path) -> None:
    store = tmp_path / "ck"
    done = rtcr("run", churn, "--store", store, "--every", 500_000, "--max-store-size", "3M")
    assert done.returncode == 0, done.stderr
    with Store.open(store) as s:
        assert len(assert_all_restore(s, reference(churn))) >= 1


def test_max_store_size_says_when_the_newest_checkpoint_alone_is_over_it(
        tmp_path: Path, churn: Path) -> None:
    store = tmp_path / "ck"
    done = rtcr("run", churn, "--store", store, "--every", 2_000_000, "--max-store-size", "64k")
    assert done.returncode == 0, done.stderr
    assert len(ids(store)) == 1
    newest = ids(store)[0]
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) >= 1
    assert warnings[-1].endswith(
        f"with only checkpoint {newest} (and the tagged ones) left, more than --max-store-size "
        "64 KiB: the newest checkpoint is always kept")


def test_keep_without_a_store_is_refused(example: Callable[[str], Path]) -> None:
    done = rtcr("run", example("counter"), "--keep", 3)
    assert done.returncode == 2
    assert "--keep/--max-store-size need a store to keep checkpoints in (--store DIR)" \
        in done.stderr


def test_keep_0_is_refused(tmp_path: Path, example: Callable[[str], Path]) -> None:
    done = rtcr("run", example("counter"), "--store", tmp_path / "ck", "--keep", 0)
    assert done.returncode == 2
    assert "Invalid value for '--keep'" in done.stderr
    assert not (tmp_path / "ck").exists()


def test_max_store_size_refuses_what_is_not_a_size(tmp_path: Path,
                                                   example: Callable[[str], Path]) -> None:
    done = rtcr("run", example("counter"), "--store", tmp_path / "ck", "--max-store-size",
                "lots")
    assert done.returncode == 2
    assert "'lots' is not a size in bytes" in done.stderr


def test_run_help_shows_the_rolling_window_with_an_example() -> None:
    text = rtcr("run", "--help").stdout
    assert "rtcr run counter.elf --store ck --every 1M --keep 3" in text
    assert "Tagged checkpoints are kept besides" in " ".join(text.split())


def test_a_retention_that_would_keep_no_checkpoint_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="keeps at least its newest checkpoint"):
        Retention(keep=0)


def test_keep_with_migrate_to_is_refused_before_a_store_is_made(
        tmp_path: Path, example: Callable[[str], Path]) -> None:
    secret = tmp_path / "secret"
    secret.write_text("0123456789abcdef0123456789abcdef\n")
    done = rtcr("run", example("counter"), "--store", tmp_path / "ck", "--keep", 3,
                "--migrate-to", "127.0.0.1:9", "--migrate-at", 1000, "--secret-file", secret)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == ("Error: --keep/--max-store-size keep a store's "
                                            "checkpoints; --migrate-to writes none here")
    assert not (tmp_path / "ck").exists()
