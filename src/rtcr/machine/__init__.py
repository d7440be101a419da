"""The emulated platform: CPUs (unicorn), threads, scheduler, guest ABI, ELF loading."""

from .component import Component
from .cpu import GuestCrash
from .elf import ElfImage, Segment, load_elf, parse_elf, read_elf_file
from .machine import Machine, RunResult, Status
from .parent import CoreParent, Parent
from .registers import Registers
from .thread import (
    Blocker,
    FaultStop,
    FaultWait,
    JoinWait,
    SignalWait,
    SleepUntil,
    Thread,
    ThreadState,
)

__all__ = [
    "Blocker", "Component", "CoreParent", "ElfImage", "FaultStop", "FaultWait", "GuestCrash",
    "JoinWait",
    "Machine", "Parent", "Registers", "RunResult", "Segment", "SignalWait", "SleepUntil",
    "Status", "Thread", "ThreadState", "load_elf", "parse_elf", "read_elf_file",
]
