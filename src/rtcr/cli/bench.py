"""`rtcr bench`: compare checkpoint strategies on the bundled workloads."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rtcr.bench import MODES, WORKLOADS, BenchOptions, run_bench
from rtcr.bench.matrix import count_tasks

from ._progress import progress


def _names(known: list[str], what: str) -> click.ParamType:  # type: ignore[type-arg]
    class Names(click.ParamType):  # type: ignore[type-arg]
        name = what

        def convert(self, value: object, param: click.Parameter | None,
                    ctx: click.Context | None) -> list[str]:
            if isinstance(value, list):
                return value
            items = [v.strip() for v in str(value).split(",") if v.strip()]
            unknown = [v for v in items if v not in known]
            if unknown or not items:
                self.fail(f"unknown {what} {', '.join(unknown) or '(none)'}; "
                          f"known: {', '.join(known)}", param, ctx)
            return items
    return Names()


class _Ints(click.ParamType):  # type: ignore[type-arg]
    name = "numbers"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> list[int]:
        if isinstance(value, list):
            return value
        try:
            items = [int(v) for v in str(value).split(",") if v.strip()]
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of numbers", param, ctx)
        if not items or any(i < 1 for i in items):
            self.fail(f"{value!r}: give positive numbers, e.g. 1,4", param, ctx)
        return items


def _report_only(out: Path) -> Path:
    """Re-render the report of DIR/results.json; what is wrong with it is one line."""
    from rtcr.bench.report import write_report

    source = out / "results.json"
    try:
        results = json.loads(source.read_text())
    except OSError as exc:
        raise click.FileError(str(source), f"{exc.strerror or exc} (run `rtcr bench --out "
                                           f"{out}` first)") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(f"{source} is not JSON ({exc})") from exc
    try:
        return write_report(results, out)
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise click.ClickException(f"{source} does not hold the results of `rtcr bench` "
                                   f"({type(exc).__name__}: {exc})") from exc


@click.command("bench")
@click.option("--quick", is_flag=True,
              help="Small sizes, granularity 1, one interval, one repeat (< 2 min).")
@click.option("--workloads", type=_names(list(WORKLOADS), "workloads"), default=None,
              help=f"Comma-separated subset of: {', '.join(WORKLOADS)}.")
@click.option("--strategies", type=_names(list(MODES), "strategies"), default=None,
              help=f"Comma-separated subset of: {', '.join(MODES)}.")
@click.option("--granularities", type=_Ints(), default=None,
              help="Pages per tracked part, e.g. 1,4 (default 1,4; quick: 1).")
@click.option("--intervals", "interval_scales", type=_Ints(), default=None,
              help="Checkpoint intervals as multiples of each workload's default "
                   "(default 1,4; quick: 1).")
@click.option("--repeat", type=click.IntRange(min=1), default=None,
              help="Runs per configuration (default 3; quick: 1).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("bench-out"), show_default=True,
              help="Output directory: report.md, results.json, *.png, cache/.")
@click.option("--no-micro", is_flag=True, help="Skip fault-cost, bare-unicorn microbenchmarks.")
@click.option("--no-memory", is_flag=True, help="Skip the resident-memory probe.")
@click.option("--memory-quota", type=str, default=None,
              help="RAM quota of the resident-memory probe (default 1G; quick: 64M).")
@click.option("--no-migration", is_flag=True,
              help="Skip the migration and lazy-restore figures.")
@click.option("--migration-sizes", type=_Ints(), default=None,
              help="Target sizes in MiB of the migration figures, e.g. 64,1024 "
                   "(default 64; quick: 16).")
@click.option("--report-only", is_flag=True,
              help="Only re-render report.md and the plots from DIR/results.json.")
def command(quick: bool, workloads: list[str] | None, strategies: list[str] | None,
            granularities: list[int] | None, interval_scales: list[int] | None,
            repeat: int | None, out: Path, no_micro: bool, no_memory: bool,
            memory_quota: str | None, no_migration: bool, migration_sizes: list[int] | None,
            report_only: bool) -> None:
    """Run the benchmark matrix: workloads × strategies × granularities × intervals.

    Each configuration runs --repeat times, plus a no-checkpointing
    baseline per workload and microbenchmarks of the write-fault path.
    Writes DIR/report.md (medians and ranges), DIR/results.json (every raw
    figure) and PNG plots; every number in the report comes from
    results.json of the same run.
    """
    if report_only:
        click.echo(str(_report_only(out)))
        return
    quota = None
    if memory_quota is not None:
        from ._options import SIZE
        quota = SIZE.convert(memory_quota, None, None)
    options = BenchOptions(out=out, quick=quick, workloads=workloads, strategies=strategies,
                           granularities=granularities, interval_scales=interval_scales,
                           repeat=repeat, micro=not no_micro, memory=not no_memory,
                           memory_quota=quota, migration=not no_migration,
                           migration_sizes=migration_sizes)
    with progress("rtcr bench", count_tasks(options.resolved())) as advance:
        started = [False]

        def tick(what: str) -> None:
            # Called as a task starts: the one before it is done.
            advance(1 if started[0] else 0, what)
            started[0] = True

        results = run_bench(options, tick)
        advance(1)
    checks = results["summary"]["checks"]
    click.echo(f"rtcr bench: {checks['configs']} configurations in "
               f"{results['wall_seconds']:.0f} s; report {out / 'report.md'}", err=True)
    if not (checks["all_exited"] and checks["outputs_match_baseline"]):
        click.echo("rtcr bench: some runs did not exit cleanly or changed the output; "
                   "see results.json", err=True)
        raise SystemExit(1)
