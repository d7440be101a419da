"""``rtcr doctor``: can this machine build, run and checkpoint components; is a store sound?"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import click

from rtcr.compilers import find_compiler, find_cxx_compiler
from rtcr.core.quota import format_bytes
from rtcr.errors import RtcrError
from rtcr.toolchain import CXX_SUPPORT_LIBRARIES, compile_component, support_library

#: Below this much free space where checkpoints go, a long run may fill the disk.
LOW_DISK_BYTES = 1 << 30

_PROBE = "#include <rtcr.h>\nint main(void) { rtcr_printf(\"ok\\n\"); return 7; }\n"


class Verdict(Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    """One check: what was checked, how it went, and what to do if it did not go well."""

    check: str
    verdict: Verdict
    detail: str

    def line(self) -> str:
        return f"{self.verdict.value:>4}  {self.check}: {self.detail}"


def _compiler() -> Finding:
    cc = find_compiler()
    return Finding("C compiler", Verdict.OK, f"{cc.name} ({cc.family})")


def _cxx_compiler() -> Finding:
    cxx = find_cxx_compiler()
    for name in CXX_SUPPORT_LIBRARIES:
        support_library(cxx, name)
    return Finding("C++ compiler", Verdict.OK,
                   f"{cxx.name}, with {', '.join(CXX_SUPPORT_LIBRARIES)}")


def _component_runs() -> Finding:
    from rtcr.checkpoint import Session

    with tempfile.TemporaryDirectory(prefix="rtcr-doctor-") as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text(_PROBE)
        elf = compile_component([src], Path(tmp) / "probe.elf")
        lines: list[str] = []
        result = Session.start(elf, log_sink=lambda _c, line: lines.append(line)).run()
    if (result.exit_code, lines) != (7, ["ok"]):
        return Finding("machine", Verdict.FAIL,
                       f"a probe component printed {lines!r} and exited {result.exit_code} "
                       f"(expected ['ok'] and 7): report this as a bug")
    return Finding("machine", Verdict.OK,
                   f"a compiled probe ran ({result.instructions:,} instructions)")


def _disk(path: Path) -> Finding:
    where = path if path.exists() else path.parent if path.parent.exists() else Path.cwd()
    free = shutil.disk_usage(where).free
    if free < LOW_DISK_BYTES:
        return Finding("disk", Verdict.WARN,
                       f"{format_bytes(free)} free at {where}: a checkpointing run may fill "
                       f"it; free space, or bound the store (gc --keep N)")
    return Finding("disk", Verdict.OK, f"{format_bytes(free)} free at {where}")


def _store(path: Path) -> Finding:
    from rtcr.store import Store

    with Store.open(path) as store:
        report = store.verify()
        stats = store.stats()
    size = format_bytes(stats.pack_bytes + stats.db_bytes)
    if not report.ok:
        bad = ", ".join(f"{cid}: {why}" for cid, why in sorted(report.corrupt.items()))
        problems = "; ".join(report.store_errors + ([bad] if bad else []))
        return Finding("store", Verdict.FAIL,
                       f"{path}: {problems}; restore an older checkpoint, and drop the "
                       f"damaged ones with rtcr gc")
    return Finding("store", Verdict.OK,
                   f"{path}: {stats.checkpoints} checkpoint(s) verified, {size} on disk")


def _run_check(name: str, check: Callable[[], Finding]) -> Finding:
    try:
        return check()
    except RtcrError as exc:
        return Finding(name, Verdict.FAIL, str(exc))


@click.command("doctor")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), default=None,
              metavar="DIR", help="Also verify this store and check the space beside it.")
def command(store_dir: Path | None) -> None:
    """Check that this machine can compile, run and checkpoint components.

    Finds the C and C++ compilers (and GCC's C++ support libraries), compiles
    and runs a probe component, checks the free disk space where checkpoints
    go and, with --store, verifies every checkpoint of that store. Each line
    says ok, warn or FAIL, and what to do; the exit status is 1 if anything
    failed.

    \b
    Example:
      rtcr doctor --store ck
    """
    findings = [_run_check("C compiler", _compiler),
                _run_check("C++ compiler", _cxx_compiler),
                _run_check("machine", _component_runs),
                _disk(store_dir if store_dir is not None else Path.cwd())]
    if store_dir is not None:
        findings.append(_run_check("store", lambda: _store(store_dir)))
    for finding in findings:
        click.echo(finding.line())
    if any(f.verdict is Verdict.FAIL for f in findings):
        sys.exit(1)
