"""Every register a checkpoint image carries survives save -> image -> restore, bit for bit.

The image holds a thread's registers as named integers (machine.registers);
these properties put generated register states into one CPU, read them
back, pass them through the manifest's JSON encoding into a fresh CPU and
read them again. Values are generated within what the architecture can
hold: the 80-bit x87 registers, 128-bit XMM registers, any 64-bit general
register and base, the defined rflags bits, any MXCSR, null data selectors
with any privilege level (a non-null one needs a descriptor table, which
the machine has none of), and the x87 tag word as unicorn keeps it (empty
or not per register; the rest of the tag follows from the register's value).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from unicorn import UC_ARCH_X86, UC_MODE_64, Uc

from rtcr.machine.registers import ALL, read_registers, write_registers
from rtcr.store.format import manifest_json

_RFLAGS_DEFINED = 0x0000_0000_003F_7FD5  # CF PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID


def _bits(width: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=(1 << width) - 1)


_FIELDS: dict[str, st.SearchStrategy[int]] = {name: _bits(64) for name, _ in ALL}
_FIELDS.update({f"fp{i}": _bits(80) for i in range(8)})
_FIELDS.update({f"xmm{i}": _bits(128) for i in range(16)})
_FIELDS.update({name: st.integers(0, 3) for name in ("ds", "es", "fs", "gs", "ss")})
_FIELDS.update(fpcw=_bits(16), fpsw=_bits(16), fcs=_bits(16), fds=_bits(16), fop=_bits(11),
               mxcsr=_bits(16),
               rflags=_bits(64).map(lambda v: v & _RFLAGS_DEFINED | 2),
               fptag=_bits(8).map(lambda empty: sum(3 << (2 * i) for i in range(8)
                                                     if empty >> i & 1)))
STATES = st.fixed_dictionaries(_FIELDS)


def _cpu() -> Uc:
    return Uc(UC_ARCH_X86, UC_MODE_64)


def _through_the_image(regs: dict[str, int]) -> dict[str, Any]:
    return dict(json.loads(manifest_json({"registers": regs}))["registers"])


@settings(max_examples=150, deadline=None)
@given(STATES)
def test_a_register_state_survives_the_image_into_a_fresh_cpu(state: dict[str, int]) -> None:
    first = _cpu()
    write_registers(first, state)
    saved = read_registers(first)
    second = _cpu()
    write_registers(second, _through_the_image(saved))
    assert read_registers(second) == saved


_EXACT = [name for name, _ in ALL if name != "fptag"]


@settings(max_examples=150, deadline=None)
@given(STATES)
def test_the_cpu_keeps_every_architectural_value_it_is_given(state: dict[str, int]) -> None:
    """Nothing is lost between the image's integers and the CPU: each value reads back."""
    cpu = _cpu()
    write_registers(cpu, state)
    saved = read_registers(cpu)
    assert {name: saved[name] for name in _EXACT} == {name: state[name] for name in _EXACT}


@settings(max_examples=50, deadline=None)
@given(STATES)
def test_the_tag_word_keeps_which_x87_registers_are_empty(state: dict[str, int]) -> None:
    cpu = _cpu()
    write_registers(cpu, state)
    tag = read_registers(cpu)["fptag"]
    assert [tag >> (2 * i) & 3 == 3 for i in range(8)] == [
        state["fptag"] >> (2 * i) & 3 == 3 for i in range(8)]
