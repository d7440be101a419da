"""The parent interface: the sessions a component's requests are served by.

In Genode a component's PD, RAM, RM, CPU, LOG and timer sessions are
provided by its parent, which may forward them to core or interpose. The
machine routes every guest system call that creates or changes core
objects through a `Parent`; `CoreParent` forwards straight to core, and the
checkpoint runtime implements the same interface to record and track.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from rtcr.core import Dataspace, Fault, Range, RegionMap, SignalContext

if TYPE_CHECKING:
    from .component import Component


class Parent(Protocol):
    def rom(self, child: Component, name: str, data: bytes) -> Dataspace: ...

    def ram_alloc(self, child: Component, size: int) -> Dataspace: ...

    def ram_free(self, child: Component, ds: Dataspace) -> None: ...

    def ram_seal(self, child: Component, ds: Dataspace, *, revoke: bool) -> None: ...

    def rm_create(self, child: Component, size: int) -> RegionMap: ...

    def rm_destroy(self, child: Component, rm: RegionMap) -> None: ...

    def rm_dataspace(self, child: Component, rm: RegionMap) -> Dataspace: ...

    def attach(
        self,
        child: Component,
        rm: RegionMap,
        ds: Dataspace,
        *,
        size: int,
        offset: int,
        at: int | None,
        executable: bool,
        writeable: bool,
    ) -> Range: ...

    def detach(self, child: Component, rm: RegionMap, at: int) -> None: ...

    def fault_handler(
        self, child: Component, rm: RegionMap, context: SignalContext | None
    ) -> None: ...

    def fault(self, child: Component, rm: RegionMap) -> Fault: ...

    def signal_context(self, child: Component) -> SignalContext: ...


def drop_capabilities(child: Component, rm: RegionMap) -> None:
    """Remove the child's selectors of a destroyed map and its dataspace (refunds the caps)."""
    caps = child.pd.cap_space
    for obj in (rm, rm.dataspace()):
        for selector in caps.selectors(obj):
            caps.remove(selector)


class CoreParent:
    """Serve every request directly from core: no interposition."""

    def rom(self, child: Component, name: str, data: bytes) -> Dataspace:
        return child.machine.core.create_rom(name, data)

    def ram_alloc(self, child: Component, size: int) -> Dataspace:
        return child.pd.alloc_ram(size)

    def ram_free(self, child: Component, ds: Dataspace) -> None:
        child.pd.free_ram(ds)

    def ram_seal(self, child: Component, ds: Dataspace, *, revoke: bool) -> None:
        child.pd.seal_ram(ds, revoke=revoke)

    def rm_create(self, child: Component, size: int) -> RegionMap:
        return child.machine.core.create_region_map(size)

    def rm_destroy(self, child: Component, rm: RegionMap) -> None:
        child.machine.core.destroy_region_map(rm)
        drop_capabilities(child, rm)

    def rm_dataspace(self, child: Component, rm: RegionMap) -> Dataspace:
        return rm.dataspace()

    def attach(
        self,
        child: Component,
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

    def detach(self, child: Component, rm: RegionMap, at: int) -> None:
        rm.detach(at)

    def fault_handler(self, child: Component, rm: RegionMap, context: SignalContext | None) -> None:
        rm.fault_handler(context)

    def fault(self, child: Component, rm: RegionMap) -> Fault:
        return rm.fault()

    def signal_context(self, child: Component) -> SignalContext:
        return child.pd.signal_receiver.create_context()
