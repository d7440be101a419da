"""Every example compiles with the SDK, loads, and (where a single-threaded
mini runner suffices) prints exactly its documented expected output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sdk_minirun import run
from sdk_support import EXAMPLES, EXPECTED_DIR, needs_cc

from rtcr.machine.elf import load_elf

pytestmark = needs_cc

REQUIRED = {
    "hello",
    "counter",
    "kvstore",
    "sort",
    "life",
    "self_pager",
    "ro_fault",
    "exec_fault",
    "threads",
    "signals",
    "seal",
    "abi_garbage",
}
# Examples the single-threaded mini runner can execute.
SINGLE_THREADED = ["hello", "counter", "kvstore", "sort", "life"]


def test_all_examples_present() -> None:
    assert set(EXAMPLES) >= REQUIRED


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_compiles_and_loads(name: str, compiled_example: Callable[[str], Path]) -> None:
    image = load_elf(compiled_example(name))
    assert image.name == name
    segs = image.segments
    text = [s for s in segs if s.executable]
    rodata = [s for s in segs if not s.executable and not s.writeable]
    data = [s for s in segs if s.writeable]
    assert len(text) == 1 and len(rodata) == 1 and len(data) == 1, segs
    assert not text[0].writeable
    assert text[0].vaddr == 0x400000
    assert text[0].vaddr <= image.entry < text[0].end
    for s in segs:
        assert s.vaddr % 0x1000 == 0 and s.size % 0x1000 == 0
        assert s.data_offset + len(s.data) <= s.size


def test_examples_document_themselves() -> None:
    from sdk_support import EXAMPLES_DIR

    for name in EXAMPLES:
        head = (EXAMPLES_DIR / f"{name}.c").read_text()[:3000]
        assert head.startswith("/*"), name
        assert "xpected" in head, f"{name}: no expected-output description"


@pytest.mark.parametrize("name", SINGLE_THREADED)
def test_example_output(name: str, compiled_example: Callable[[str], Path]) -> None:
    result = run(compiled_example(name))
    assert result.error is None
    assert result.exit_code == 0
    out = "".join(f"[{name}] {line}\n" for line in result.lines)
    assert out == (EXPECTED_DIR / f"{name}.txt").read_text()
