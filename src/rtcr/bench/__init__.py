"""`rtcr bench`: the checkpoint-runtime benchmark harness.

Runs bundled C workloads (``benchmarks/workloads``) under every dirty
tracking mode, granularity and checkpoint interval of a matrix, several
times each, plus a no-checkpointing baseline and a few microbenchmarks
(write-fault cost through the runtime and on bare unicorn, guest MIPS,
store and restore throughput, the runtime's resident memory), and writes
``results.json`` (every raw figure), ``report.md`` and PNG plots, all from
the same run.

Modes are entries of :data:`rtcr.bench.modes.MODES`; a new checkpoint mode
is one more entry there (see :func:`rtcr.bench.modes.register_mode`).
"""

from .matrix import BenchOptions
from .modes import MODES, Mode, register_mode
from .runner import run_bench
from .workloads import WORKLOADS, Workload

__all__ = ["MODES", "WORKLOADS", "BenchOptions", "Mode", "Workload", "register_mode",
           "run_bench"]
