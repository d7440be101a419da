#!/usr/bin/env python3
"""The checkpoint-runtime benchmark: a thin wrapper around ``rtcr bench``.

    python benchmarks/bench_checkpoint.py [--quick] [--out DIR] [...]

takes the same options as ``rtcr bench`` (see ``rtcr bench --help``); the
harness itself lives in ``rtcr.bench``.
"""

from __future__ import annotations

import sys

from rtcr.cli.bench import command

if __name__ == "__main__":
    sys.exit(command.main(args=sys.argv[1:], prog_name="bench_checkpoint.py"))
