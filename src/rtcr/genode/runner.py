"""Running a test package on rtcr, and re-running it from its checkpoints.

`run_package` runs the binary under the checkpoint runtime with the
package's quotas and config ROM, feeding every LOG line (with the virtual
time it appeared at) to a `Judge`, and stops as soon as the judge has a
verdict or virtual time passes the package's deadline. With a store and
`every`, it checkpoints on the way; `rerun_from` restores one of those
checkpoints into a fresh machine and judges the continued run again, fed
first with the LOG lines the original run had printed before that
checkpoint (checkpoint transparency: the restored run must pass, and print
exactly what the original printed from there on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rtcr.checkpoint import Outcome as RunOutcome
from rtcr.checkpoint import Session, SessionResult
from rtcr.machine import Component, ElfImage
from rtcr.store import Store

from .autopilot import Judge, RuntimeFile, Verdict

CONFIG_ROM = "config"
LINKER_ROM = "ld.lib.so"  # Genode's dynamic linker, as a package's content names it


@dataclass(frozen=True)
class Line:
    text: str
    at_ns: int  # virtual time it was printed at


@dataclass
class PackageRun:
    verdict: Verdict
    lines: list[Line]
    result: SessionResult
    checkpoints: list[int] = field(default_factory=list)


LineSink = Callable[[Line], None]


def _drive(session: Session, judge: Judge, lines: list[Line], *, every: int | None,
           max_instructions: int | None) -> PackageRun:
    machine = session.machine
    deadline = judge.deadline_ns

    def stop() -> bool:
        return judge.verdict is not None or (
            deadline is not None and machine.scheduler.now_ns >= deadline)

    result = session.run(every=every, max_instructions=max_instructions, stop_when=stop)
    now = machine.scheduler.now_ns
    if result.outcome is RunOutcome.EXITED:
        judge.exit(result.exit_code, now)
    elif result.outcome is RunOutcome.STOPPED:
        judge.tick(now)
    elif result.outcome is RunOutcome.LIMIT:
        judge.stuck(f"stopped after {result.instructions} instructions", now)
    else:
        judge.stuck(f"{result.outcome.value} ({result.diagnostic})", now)
    assert judge.verdict is not None
    return PackageRun(judge.verdict, lines, result,
                      [c.id for c in result.checkpoints])


def _sink(judge: Judge, lines: list[Line],
          on_line: LineSink | None) -> Callable[[Component, str], None]:
    def sink(component: Component, text: str) -> None:
        line = Line(text, component.machine.scheduler.now_ns)
        lines.append(line)
        judge.log(line.text, line.at_ns)
        if on_line is not None:
            on_line(line)
    return sink


def content_roms(runtime: RuntimeFile, elf: bytes) -> dict[str, bytes]:
    """The package's `content` ROMs that are its binary: the binary and the linker.

    rtcr's binaries are static, so the `ld.lib.so` a package lists is
    served with the binary itself (a test that starts itself as a child
    opens both); other content ROMs are not provided.
    """
    return {label: elf for label in runtime.roms if label in (runtime.binary, LINKER_ROM)}


def run_package(runtime: RuntimeFile, image: ElfImage, *, store: Store | None = None,
                every: int | None = None, max_instructions: int | None = None,
                on_line: LineSink | None = None, elf: bytes | None = None) -> PackageRun:
    """Run and judge the package; `elf` (the binary's bytes) serves its content ROMs."""
    judge = Judge(runtime)
    lines: list[Line] = []
    roms = content_roms(runtime, elf) if elf is not None else {}
    session = Session.start(image, ram_quota=runtime.ram, cap_quota=runtime.caps,
                            roms={**roms, CONFIG_ROM: runtime.config}, store=store,
                            log_sink=_sink(judge, lines, on_line))
    return _drive(session, judge, lines, every=every if store else None,
                  max_instructions=max_instructions)


def rerun_from(runtime: RuntimeFile, store: Store, checkpoint: int, reference: PackageRun, *,
               max_instructions: int | None = None) -> PackageRun:
    """Restore `checkpoint` and judge the continued run (fed the LOG before it first)."""
    judge = Judge(runtime)
    lines: list[Line] = []
    session = Session.resume(store, checkpoint, log_sink=_sink(judge, lines, None),
                             checkpoint=False)
    for line in reference.lines[:session.restored_log_lines]:
        lines.append(line)
        judge.log(line.text, line.at_ns)
    return _drive(session, judge, lines, every=None, max_instructions=max_instructions)


def divergence(reference: PackageRun, rerun: PackageRun) -> str | None:
    """How a re-run's LOG differs from the original's, or None (up to the verdict)."""
    for index, (want, got) in enumerate(zip(reference.lines, rerun.lines, strict=False)):
        if want != got:
            return (f"LOG line {index + 1} differs: {got.text!r} at {got.at_ns} ns instead of "
                    f"{want.text!r} at {want.at_ns} ns")
    if len(reference.lines) != len(rerun.lines):
        return (f"{len(rerun.lines)} LOG lines instead of {len(reference.lines)}")
    return None
