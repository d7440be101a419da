"""`rtcr test`: run a Genode test package as Genode's depot autopilot judges it."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import click

from rtcr.genode.autopilot import NS_PER_S, Outcome, RuntimeFile, Verdict, load_runtime
from rtcr.genode.runner import Line, PackageRun, divergence, rerun_from, run_package
from rtcr.machine import load_elf
from rtcr.store import Store
from rtcr.toolchain import compile_component, is_cxx_source

from ._options import COUNT

SOURCE_SUFFIXES = (".c",)


def _elf(binary: Path, name: str, build_dir: Path) -> Path:
    if binary.suffix in SOURCE_SUFFIXES or is_cxx_source(binary):
        def show(text: str) -> None:
            click.echo(text.rstrip("\n"), err=True)

        return compile_component([binary], build_dir / f"{name}.elf", on_diagnostics=show)
    return binary


def _describe(verdict: Verdict) -> str:
    return f"{verdict.reason} at {verdict.at_ns / NS_PER_S:.6f} s virtual time"


def _check_restores(runtime: RuntimeFile, store: Store, reference: PackageRun,
                    max_instructions: int | None) -> str | None:
    """Restore every checkpoint; the first failure, or None.

    A restored run repeats the core's log of the original (its fault
    reports), which the original printed already; it stays quiet, and its
    verdict and LOG say whether anything differs.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        return _first_divergent_restore(runtime, store, reference, max_instructions)
    finally:
        logging.disable(previous)


def _first_divergent_restore(runtime: RuntimeFile, store: Store, reference: PackageRun,
                             max_instructions: int | None) -> str | None:
    for cid in reference.checkpoints:
        rerun = rerun_from(runtime, store, cid, reference, max_instructions=max_instructions)
        if rerun.verdict.outcome is not reference.verdict.outcome:
            return f"restored from checkpoint {cid}: {rerun.verdict.outcome.name} " \
                   f"({_describe(rerun.verdict)})"
        differs = divergence(reference, rerun)
        if differs is not None:
            return f"restored from checkpoint {cid}: {differs}"
        if rerun.verdict != reference.verdict:
            return f"restored from checkpoint {cid}: verdict {_describe(rerun.verdict)} " \
                   f"instead of {_describe(reference.verdict)}"
    return None


@click.command("test")
# No exists=True: the loaders say what is wrong with a path in one line.
@click.argument("runtime_path", metavar="RUNTIME", type=click.Path(path_type=Path))
@click.option("--binary", type=click.Path(path_type=Path), required=True,
              help="The package's binary: an ELF, or a C/C++ source to compile.")
@click.option("--every", type=COUNT, default=None,
              help="Also checkpoint every N guest instructions and restore EVERY "
                   "checkpoint: each restored run must pass the same way.")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Keep the checkpoints of --every here (default: a "
                                 "temporary store, removed afterwards).")
@click.option("--max-instructions", type=COUNT, default=None,
              help="Give up after this many guest instructions (a FAIL).")
@click.option("-q", "--quiet", is_flag=True, help="Do not print the component's LOG.")
def command(runtime_path: Path, binary: Path, every: int | None, store_dir: Path | None,
            max_instructions: int | None, quiet: bool) -> None:
    """Run a Genode test package's binary as the depot autopilot judges it.

    RUNTIME is the package's `runtime` file (HID, or the older XML form):
    its quotas and config are applied, its succeed/fail criteria judged on
    the LOG (Genode's `*` wildcards, multi-line patterns, exit values,
    after_seconds in virtual time). Prints the LOG as "[binary] text", then
    one PASS or FAIL line with the reason; exits 0 on PASS, 1 on FAIL.
    """
    runtime = load_runtime(runtime_path)
    label = runtime.binary

    def show(line: Line) -> None:
        click.echo(f"[{label}] {line.text}")

    with tempfile.TemporaryDirectory(prefix="rtcr-test-") as tmp:
        elf = _elf(binary, label, Path(tmp))
        image = load_elf(elf)
        store = None
        if every is not None:
            path = store_dir or Path(tmp) / "store"
            store = Store.open(path) if (path / "store.sqlite").exists() else Store.create(path)
        run = run_package(runtime, image, store=store, every=every,
                          max_instructions=max_instructions, on_line=None if quiet else show,
                          elf=elf.read_bytes())
        verdict = run.verdict
        summary = _describe(verdict)
        failure = None
        if store is not None and verdict.outcome is Outcome.SUCCEED:
            if not run.checkpoints:
                failure = f"--every {every} took no checkpoint before the verdict"
            else:
                failure = _check_restores(runtime, store, run, max_instructions)
            if failure is None:
                summary += f"; restored from each of {len(run.checkpoints)} checkpoints, " \
                           "each passes the same way"
        sys.stdout.flush()
        if verdict.outcome is Outcome.SUCCEED and failure is None:
            click.echo(f"PASS {label}: {summary}")
            sys.exit(0)
        click.echo(f"FAIL {label}: {failure or summary}")
        sys.exit(1)
