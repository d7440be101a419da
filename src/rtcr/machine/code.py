"""Code coherence: a write to a physical frame invalidates the code translated from it.

x86 guarantees it whatever mapping wrote the frame, and whoever wrote it;
unicorn caches translated code per physical frame but notices only writes
through TLB entries made after the code was translated. `CodeFrames` is the
machine's one record of which frames hold translated code: a byte per frame
that every CPU's TLB-fill hook shares (tlb.c, code_fill, keeps the rule that
no CPU holds a writable entry for a frame with code, nor code for a frame
it may write), and the listener that hears every host write of physical RAM
(`PhysicalRam.written`: the kernel's copy-outs, the loader, the zeroing of
freed frames). It passes both kinds of news to the CPUs, which invalidate
the code at once (`Cpu.drop_code`).
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Iterable
from typing import Protocol

from rtcr.core import PAGE_SIZE
from rtcr.core.ram import PhysicalRam

from .tlb import EVENT_WRITTEN, FRAME_CODE, SoftwareTlb

log = logging.getLogger("rtcr.machine")
_CODE = bytes([FRAME_CODE])


class Cpu(Protocol):
    """What code coherence needs of a CPU (machine.cpu.Cpu)."""

    tlb: SoftwareTlb

    def code_event(self, event: int, frame: int) -> None: ...

    def drop_code(self, frames: Iterable[int]) -> None: ...

    def flush_unicorn_tlb(self) -> None: ...


class CodeFrames:
    """Which physical frames have translated code, shared by every CPU of a machine."""

    def __init__(self, ram: PhysicalRam) -> None:
        self.state = (ctypes.c_uint8 * (ram.size // PAGE_SIZE))()
        self._cpus: list[Cpu] = []
        ram.write_listeners.append(self.host_written)

    def attach(self, cpu: Cpu) -> None:
        """`cpu` keeps the rule and hears of every frame whose code dies."""
        if cpu.tlb.attach_code(self.state, lambda event, frame: cpu.code_event(event, frame)):
            self._cpus.append(cpu)
        else:
            log.warning("no C fill hook: code written through one mapping and executed "
                        "through another may run stale")

    def changed(self, event: int, frame: int) -> None:
        """A fill hook changed `frame`'s state: no CPU may keep entries of the old one."""
        for cpu in self._cpus:
            if event == EVENT_WRITTEN:
                cpu.drop_code((frame,))
            cpu.flush_unicorn_tlb()

    def host_written(self, phys: int, size: int) -> None:
        """The host wrote `[phys, phys + size)`: code translated from it is stale on every CPU."""
        if size <= 0:
            return
        first = phys // PAGE_SIZE
        states = bytes(memoryview(self.state)[first:(phys + size - 1) // PAGE_SIZE + 1])
        if _CODE not in states:
            return  # the common case, found in C: no code there
        frames = [first + i for i, state in enumerate(states) if state == FRAME_CODE]
        for cpu in self._cpus:
            cpu.drop_code(frames)


__all__ = ["CodeFrames"]
