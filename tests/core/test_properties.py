"""Property tests: rights, frame exclusivity, quota conservation, TLB coherence."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from rtcr.core import (
    PAGE_SIZE,
    Access,
    Core,
    Dataspace,
    Mapping,
    ProtectionDomain,
    RamDataspace,
    Region,
    RegionMap,
    Unresolved,
    WalkFailure,
    resolve,
)
from rtcr.errors import Denied, InvalidDataspace, OutOfCaps, OutOfRam, RegionConflict

# ---------------------------------------------------------------- rights


@given(
    levels=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=5),
    leaf=st.sampled_from(["ram", "sealed", "revoked", "rom"]),
)
@settings(max_examples=200, deadline=None)
def test_effective_rights_are_and_along_path(levels: list[tuple[bool, bool]], leaf: str) -> None:
    core = Core(ram_size=1 << 20)
    pd = core.create_pd("p", ram_quota=1 << 20, cap_quota=10)
    maps = [core.create_region_map(1 << 16) for _ in levels]
    ds: Dataspace
    if leaf == "rom":
        ds = core.create_rom("rom", b"rom")
    else:
        ds = pd.alloc_ram(PAGE_SIZE)
        if leaf in ("sealed", "revoked"):
            pd.seal_ram(ds, revoke=leaf == "revoked")
    for i, (writeable, executable) in enumerate(levels):
        target = maps[i + 1].dataspace() if i + 1 < len(maps) else ds
        maps[i].attach(target, size=PAGE_SIZE, at=0, writeable=writeable, executable=executable)
    # A plain seal takes the right from the later attach (all of them here).
    want_w = all(w for w, _ in levels) and leaf == "ram"
    want_x = all(x for _, x in levels)
    assert resolve(maps[0], 8, Access.READ) == Mapping(ds.frame(0), want_w, want_x)
    assert isinstance(resolve(maps[0], 8, Access.WRITE), Mapping) == want_w
    assert isinstance(resolve(maps[0], 8, Access.EXEC), Mapping) == want_x
    denied = resolve(maps[0], 8, Access.WRITE)
    if isinstance(denied, Unresolved):
        # Genode's rule: whichever level denies, the leaf -- the map whose
        # region holds the regular dataspace -- hears of the violation.
        assert denied.region_map is maps[-1]
        assert denied.fault.addr == 8
        assert denied.reason is WalkFailure.WRITE_VIOLATION


# ------------------------------------------------- frame exclusivity


@given(st.lists(st.tuples(st.sampled_from(["alloc", "free", "rom"]), st.integers(1, 6))))
@settings(max_examples=100, deadline=None)
def test_no_physical_page_in_two_dataspaces(ops: list[tuple[str, int]]) -> None:
    core = Core(ram_size=32 * PAGE_SIZE)
    pd = core.create_pd("p", ram_quota=1 << 20, cap_quota=1000)
    live: list[Dataspace] = []
    for op, n in ops:
        try:
            if op == "alloc":
                ds = pd.alloc_ram(n * PAGE_SIZE)
                assert ds.read(0, ds.size) == bytes(ds.size)  # nothing leaks from freed RAM
                ds.write(0, b"\xff" * ds.size)
                live.append(ds)
            elif op == "rom":
                live.append(core.create_rom("r", b"\x01" * (n * PAGE_SIZE)))
            elif op == "free":
                owned = [ds for ds in live if isinstance(ds, RamDataspace)]
                if owned:
                    victim = owned[n % len(owned)]
                    pd.free_ram(victim)
                    live.remove(victim)
        except OutOfRam:
            pass
        frames = [ds.frame(i) for ds in live for i in range(ds.size // PAGE_SIZE)]
        assert len(frames) == len(set(frames))
        assert len(frames) + core.ram.free_frames == core.ram.frame_count


# -------------------------------------------------- quota conservation


class QuotaMachine(RuleBasedStateMachine):
    """Random RAM/cap/region operations by two PDs; accounts always balance."""

    dataspaces = Bundle("dataspaces")
    selectors = Bundle("selectors")

    def __init__(self) -> None:
        super().__init__()
        self.core = Core(ram_size=64 * PAGE_SIZE)
        self.pds = [
            self.core.create_pd("a", ram_quota=24 * PAGE_SIZE, cap_quota=8),
            self.core.create_pd("b", ram_quota=48 * PAGE_SIZE, cap_quota=5),
        ]
        self.roms = 0

    @rule(target=dataspaces, who=st.integers(0, 1), pages=st.integers(0, 30))
    def alloc(self, who: int, pages: int) -> RamDataspace | None:
        pd = self.pds[who]
        before = (pd.used_ram(), pd.avail_caps(), self.core.ram.free_frames)
        try:
            return pd.alloc_ram(pages * PAGE_SIZE)
        except (Denied, OutOfRam, OutOfCaps):
            assert (pd.used_ram(), pd.avail_caps(), self.core.ram.free_frames) == before
            return None

    @rule(ds=dataspaces, who=st.integers(0, 1))
    def free(self, ds: RamDataspace | None, who: int) -> None:
        if ds is None:
            return
        pd = self.pds[who]
        try:
            pd.free_ram(ds)
        except Denied:
            assert ds.owner is not pd
        except InvalidDataspace:
            assert not ds.valid

    @rule(ds=dataspaces, who=st.integers(0, 1))
    def seal(self, ds: RamDataspace | None, who: int) -> None:
        if ds is None:
            return
        with contextlib.suppress(Denied, InvalidDataspace):
            self.pds[who].seal_ram(ds)

    @rule(ds=dataspaces, who=st.integers(0, 1), writeable=st.booleans())
    def attach(self, ds: RamDataspace | None, who: int, writeable: bool) -> None:
        if ds is None:
            return
        try:
            self.pds[who].address_space.attach(ds, writeable=writeable)
        except InvalidDataspace:
            assert not ds.valid

    @rule(ds=dataspaces)
    def detach_all(self, ds: RamDataspace | None) -> None:
        if ds is None:
            return
        for region in ds.regions:
            assert isinstance(region, Region)  # a dataspace sees its regions narrowly
            region.region_map.detach(region.start)

    @rule(target=selectors, who=st.integers(0, 1))
    def insert_cap(self, who: int) -> tuple[ProtectionDomain, int] | None:
        pd = self.pds[who]
        try:
            return pd, pd.cap_space.insert(pd.signal_receiver.create_context())
        except OutOfCaps:
            return None

    @rule(entry=consumes(selectors))
    def remove_cap(self, entry: tuple[ProtectionDomain, int] | None) -> None:
        if entry is not None:
            pd, sel = entry
            pd.cap_space.remove(sel)

    @precondition(lambda self: self.roms < 3)
    @rule(pages=st.integers(1, 4))
    def rom(self, pages: int) -> None:
        try:
            self.core.create_rom("rom", bytes(pages * PAGE_SIZE))
            self.roms += 1
        except OutOfRam:
            pass

    @invariant()
    def accounts_balance(self) -> None:
        used_frames = 0
        for pd in self.pds:
            owned = pd.ram_dataspaces()
            assert pd.used_ram() == sum(ds.size for ds in owned)
            assert pd.used_ram() + pd.avail_ram() == pd.ram_quota()
            assert pd.used_caps() + pd.avail_caps() == pd.cap_quota()
            assert pd.used_caps() == pd.cap_space.charged
            assert all(pd.cap_space.selector(ds) is not None for ds in owned)
            used_frames += sum(ds.size // PAGE_SIZE for ds in owned)
        used_frames += sum(rom.size // PAGE_SIZE for rom in self.core.roms())
        assert used_frames + self.core.ram.free_frames == self.core.ram.frame_count


TestQuotaConservation = QuotaMachine.TestCase
TestQuotaConservation.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


# ---------------------------------------------------- TLB coherence


PAGES = 8  # pages per window; few, so that rules hit the same pages often
WINDOW = PAGES * PAGE_SIZE
DIRECT, SUB0_AT, SUB1_AT = 0x100000, 0x200000, 0x300000  # windows of the root map


class TlbMachine(RuleBasedStateMachine):
    """A software TLB fed by resolve and emptied by flush listeners never goes stale.

    The root (a PD's address space) has RAM attached directly and two sub maps
    attached as windows; sub map 1 is also visible through sub map 0, so a
    change in it must be flushed through two paths.
    """

    def __init__(self) -> None:
        super().__init__()
        self.core = Core(ram_size=256 * PAGE_SIZE)
        self.pd = self.core.create_pd("p", ram_quota=200 * PAGE_SIZE, cap_quota=200)
        self.root = self.pd.address_space
        self.subs = [self.core.create_region_map(WINDOW) for _ in range(2)]
        self.subs[0].attach(self.subs[1].dataspace(), size=0x3000, offset=0x1000, at=0x5000)
        self.windows = [SUB0_AT, SUB1_AT]
        for sub, at in zip(self.subs, self.windows, strict=True):
            self.root.attach(sub.dataspace(), at=at)
        self.maps: list[RegionMap] = [self.root, *self.subs]
        self.pool = [self.pd.alloc_ram((1 + i % 2) * PAGE_SIZE) for i in range(4)]
        self.tlb: dict[int, Mapping] = {}
        self.root.bind_address_space(self)

    def flush(self, start: int, size: int) -> None:
        for page in [p for p in self.tlb if start <= p < start + size]:
            del self.tlb[page]

    @staticmethod
    def _base(m: int) -> int:
        return DIRECT if m == 0 else 0

    @rule(pages=st.integers(1, 3))
    def alloc(self, pages: int) -> None:
        if len(self.pool) < 6:
            self.pool.append(self.pd.alloc_ram(pages * PAGE_SIZE))

    @rule(
        m=st.integers(0, 2),
        idx=st.integers(0, 5),
        page=st.integers(0, PAGES - 1),
        writeable=st.booleans(),
    )
    def attach(self, m: int, idx: int, page: int, writeable: bool) -> None:
        if not self.pool:
            return
        ds = self.pool[idx % len(self.pool)]
        with contextlib.suppress(RegionConflict):
            self.maps[m].attach(ds, at=self._base(m) + page * PAGE_SIZE, writeable=writeable)

    @rule(m=st.integers(0, 2), idx=st.integers(0, 15))
    def detach(self, m: int, idx: int) -> None:
        regions = self.maps[m].regions()
        if regions:
            self.maps[m].detach(regions[idx % len(regions)].start)

    @rule(i=st.integers(0, 1), writeable=st.booleans())
    def toggle_window(self, i: int, writeable: bool) -> None:
        at = self.windows[i]
        if self.root.region_at(at) is not None:
            self.root.detach(at)
        else:
            self.root.attach(self.subs[i].dataspace(), at=at, writeable=writeable)

    @rule(idx=st.integers(0, 5))
    def free(self, idx: int) -> None:
        if self.pool:
            self.pd.free_ram(self.pool.pop(idx % len(self.pool)))

    @rule(idx=st.integers(0, 5))
    def seal(self, idx: int) -> None:
        if self.pool:
            self.pd.seal_ram(self.pool[idx % len(self.pool)])

    @invariant()
    def tlb_agrees_with_fresh_resolve(self) -> None:
        """Check every cached translation, then touch every page (refill the TLB).

        Refilling after each step means each operation runs against a full
        TLB, so any flush it forgets leaves a stale entry for the next check.
        """
        for page, cached in self.tlb.items():
            assert resolve(self.root, page, Access.READ) == cached
        for window in (DIRECT, SUB0_AT, SUB1_AT):
            for page in range(window, window + WINDOW, PAGE_SIZE):
                if page not in self.tlb:
                    result = resolve(self.root, page, Access.READ)
                    if isinstance(result, Mapping):
                        self.tlb[page] = result


TestTlbCoherence = TlbMachine.TestCase
TestTlbCoherence.settings = settings(max_examples=100, stateful_step_count=50, deadline=None)
