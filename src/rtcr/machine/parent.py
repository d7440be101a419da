"""The parent interface: the sessions a component's requests are served by.

In Genode a component's PD, RAM, RM, CPU, LOG and timer sessions are
provided by its parent, which may forward them to core or interpose. The
machine routes every guest system call that creates or changes core
objects through a `Parent`; `CoreParent` forwards straight to core, and the
checkpoint runtime implements the same interface to record and track.
"""

from __future__ import annotations

from typing import Protocol

from rtcr.core import (
    Core,
    Dataspace,
    Fault,
    ProtectionDomain,
    RamDataspace,
    Range,
    RegionMap,
    SignalContext,
    SignalReceiver,
)
from rtcr.errors import Denied, InvalidDataspace


class ChildMachine(Protocol):
    """The machine a child runs on, as its parent sees it: the core serving it."""

    @property
    def core(self) -> Core: ...


class Child(Protocol):
    """A component as its parent sees it (``Component``, which is above parents).

    Its name, PD and ROM modules, and the core behind it: what a parent
    needs to serve its sessions.
    """

    @property
    def name(self) -> str: ...

    @property
    def pd(self) -> ProtectionDomain: ...

    @property
    def roms(self) -> dict[str, bytes]: ...

    @property
    def machine(self) -> ChildMachine: ...

    @property
    def creator(self) -> Child | None:
        """The component that started it (None: its parent started it itself)."""
        ...


class Parent(Protocol):
    def rom(self, child: Child, name: str, data: bytes) -> Dataspace: ...

    def rom_session(self, child: Child, name: str) -> Dataspace:
        """The ROM module `name` of `child.roms`, one dataspace per name; `Denied` if none."""
        ...

    # The RAM calls act on `pd`, a PD session of the child (None: its own PD).
    def ram_alloc(self, child: Child, size: int, *,
                  pd: ProtectionDomain | None = None) -> Dataspace:
        """RAM charged to `pd`; the capability goes to the child's space (the caller's)."""
        ...

    def ram_free(self, child: Child, ds: Dataspace, *,
                 pd: ProtectionDomain | None = None) -> None:
        """Free `ds` if `pd` owns it (`Denied` otherwise, nothing changes)."""
        ...

    def ram_seal(self, child: Child, ds: Dataspace, *, revoke: bool = False,
                 pd: ProtectionDomain | None = None) -> None:
        """Genode's seal; `revoke` also downgrades existing writable mappings."""
        ...

    def ram_of(self, child: Child, ds: Dataspace) -> RamDataspace:
        """The RAM dataspace behind a capability the child holds (`InvalidDataspace`)."""
        ...

    def pd_session(self, child: Child, name: str) -> ProtectionDomain:
        """A new PD session (Genode's `Pd_connection`), paid by the child's PD."""
        ...

    def rm_create(self, child: Child, size: int) -> RegionMap: ...

    def rm_destroy(self, child: Child, rm: RegionMap) -> None: ...

    def rm_dataspace(self, child: Child, rm: RegionMap) -> Dataspace: ...

    def attach(
        self,
        child: Child,
        rm: RegionMap,
        ds: Dataspace,
        *,
        size: int,
        offset: int,
        at: int | None,
        executable: bool,
        writeable: bool,
    ) -> Range: ...

    def detach(self, child: Child, rm: RegionMap, at: int) -> None: ...

    def fault_handler(
        self, child: Child, rm: RegionMap, context: SignalContext | None
    ) -> None: ...

    def fault(self, child: Child, rm: RegionMap) -> Fault: ...

    def signal_receiver(self, child: Child) -> SignalReceiver: ...

    def signal_context(self, child: Child,
                       receiver: SignalReceiver | None = None) -> SignalContext:
        """A context delivered at `receiver` (None: the PD's own receiver)."""
        ...

    def signal_free(self, child: Child, context: SignalContext) -> None:
        """Genode's `free_context`: dissolve it and revoke it from every holder."""
        ...

    def pd_address_space(self, child: Child, pd: ProtectionDomain) -> RegionMap:
        """The address space of a PD session of the child (Genode's `address_space()`)."""
        ...

    def pd_stack_area(self, child: Child, pd: ProtectionDomain) -> RegionMap:
        """The stack area of a PD session of the child (Genode's `stack_area()`)."""
        ...

    def child_started(self, child: Child) -> None:
        """`child` (a component started by one of this parent's) is about to be loaded."""
        ...

    def announce(self, child: Child, name: str, obj: Dataspace | SignalContext) -> None:
        """Offer `obj` as `child`'s service `name` (Genode: the parent's ``announce``)."""
        ...

    def request(self, child: Child, name: str) -> Dataspace | SignalContext:
        """What the provider of `name` on `child`'s route announced.

        `Denied` without a route, `NotYet` before the provider announced it.
        """
        ...


def drop_capabilities(child: Child, rm: RegionMap) -> None:
    """Revoke a destroyed map and its dataspace from every PD that holds them (refunds)."""
    core = child.machine.core
    core.revoke(rm)
    core.revoke(rm.dataspace())


def stack_area_of(pd: ProtectionDomain) -> RegionMap:
    """The PD's stack area; `Denied` for a PD without one (a component's own)."""
    if pd.stack_area is None:
        raise Denied(f"{pd.name} has no stack area (only PD sessions have one)")
    return pd.stack_area


class CoreParent:
    """Serve every request directly from core: no interposition."""

    def __init__(self) -> None:
        self._rom_sessions: dict[tuple[int, str], Dataspace] = {}

    def rom(self, child: Child, name: str, data: bytes) -> Dataspace:
        return child.machine.core.create_rom(name, data)

    def rom_session(self, child: Child, name: str) -> Dataspace:
        if name not in child.roms:
            raise Denied(f"{child.name} has no ROM named {name!r}")
        key = (id(child), name)
        if key not in self._rom_sessions:
            self._rom_sessions[key] = self.rom(child, name, child.roms[name])
        return self._rom_sessions[key]

    def ram_alloc(self, child: Child, size: int, *,
                  pd: ProtectionDomain | None = None) -> Dataspace:
        return (pd or child.pd).alloc_ram(size)

    def ram_free(self, child: Child, ds: Dataspace, *,
                 pd: ProtectionDomain | None = None) -> None:
        (pd or child.pd).free_ram(ds)
        child.machine.core.revoke(ds)

    def ram_seal(self, child: Child, ds: Dataspace, *, revoke: bool = False,
                 pd: ProtectionDomain | None = None) -> None:
        (pd or child.pd).seal_ram(ds, revoke=revoke)

    def ram_of(self, child: Child, ds: Dataspace) -> RamDataspace:
        if not isinstance(ds, RamDataspace):
            raise InvalidDataspace(f"{ds!r} is not a RAM dataspace")
        return ds

    def pd_session(self, child: Child, name: str) -> ProtectionDomain:
        return child.machine.core.create_pd_session(child.pd, name)

    def rm_create(self, child: Child, size: int) -> RegionMap:
        return child.machine.core.create_region_map(size)

    def rm_destroy(self, child: Child, rm: RegionMap) -> None:
        child.machine.core.destroy_region_map(rm)
        drop_capabilities(child, rm)

    def rm_dataspace(self, child: Child, rm: RegionMap) -> Dataspace:
        return rm.dataspace()

    def attach(
        self,
        child: Child,
        rm: RegionMap,
        ds: Dataspace,
        *,
        size: int,
        offset: int,
        at: int | None,
        executable: bool,
        writeable: bool,
    ) -> Range:
        return rm.attach(
            ds, size=size, offset=offset, at=at, executable=executable, writeable=writeable
        )

    def detach(self, child: Child, rm: RegionMap, at: int) -> None:
        rm.detach(at)

    def fault_handler(self, child: Child, rm: RegionMap, context: SignalContext | None) -> None:
        rm.fault_handler(context)

    def fault(self, child: Child, rm: RegionMap) -> Fault:
        return rm.fault()

    def signal_receiver(self, child: Child) -> SignalReceiver:
        return SignalReceiver(child.machine.core.next_badge)

    def signal_context(self, child: Child,
                       receiver: SignalReceiver | None = None) -> SignalContext:
        return (receiver or child.pd.signal_receiver).create_context()

    def signal_free(self, child: Child, context: SignalContext) -> None:
        context.receiver.dissolve(context)
        child.machine.core.revoke(context)

    def pd_address_space(self, child: Child, pd: ProtectionDomain) -> RegionMap:
        return pd.address_space

    def pd_stack_area(self, child: Child, pd: ProtectionDomain) -> RegionMap:
        return stack_area_of(pd)

    def child_started(self, child: Child) -> None:
        pass

    def announce(self, child: Child, name: str, obj: Dataspace | SignalContext) -> None:
        raise Denied(f"{child.name} cannot announce {name!r}: services are routed only in a "
                     "scenario (rtcr run SCENARIO.config)")

    def request(self, child: Child, name: str) -> Dataspace | SignalContext:
        raise Denied(f"{child.name} has no route to a service {name!r}: services are routed "
                     "only in a scenario (rtcr run SCENARIO.config)")
