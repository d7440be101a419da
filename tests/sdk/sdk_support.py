"""What the SDK tests share: where the examples are, and whether a C compiler is here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"
EXPECTED_DIR = EXAMPLES_DIR / "expected"
EXAMPLES = sorted(p.stem for p in EXAMPLES_DIR.glob("*.c"))

HAVE_CC = any(shutil.which(c) for c in ("cc", "gcc", "clang"))
needs_cc = pytest.mark.skipif(not HAVE_CC, reason="no C compiler")
