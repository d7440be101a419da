"""An adversarial state machine over the whole Python core API, with an oracle.

Unlike tests/core/test_properties.py (quota and TLB properties of
well-formed calls), every rule here also throws garbage at the API -- zero,
negative, huge and misaligned sizes and offsets, freed and foreign
dataspaces, other PDs' dataspaces, region maps nested into themselves --
and compares the outcome with an independent model: a shadow of every
region map's regions and of every dataspace's contents, and a shadow pager
that decides what each access through a region map must do.

After every step: no exception except `RtcrError`s; quotas conserved; no
physical page in two dataspaces, none leaked; every region map holds exactly
the shadow's regions; every live dataspace holds exactly the shadow's bytes
(so no write landed through a read-only or sealed path, nor in memory the
writer could not reach).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from reliability_harness import core_violations

from rtcr.core import (
    MAX_NESTING,
    PAGE_SIZE,
    Core,
    Dataspace,
    Fault,
    ManagedDataspace,
    ProtectionDomain,
    RamDataspace,
    RegionMap,
    Rights,
    RomDataspace,
    SynchronousHandler,
    Verdict,
    WalkFailure,
    host_read,
    host_write,
)
from rtcr.errors import (
    Denied,
    InvalidArgument,
    InvalidDataspace,
    NestingTooDeep,
    OutOfCaps,
    OutOfRam,
    PageFault,
    RegionConflict,
    RtcrError,
)

P = PAGE_SIZE


class _Declines(SynchronousHandler):
    """A handler that resolves nothing: every fault it hears of stays unhandled."""

    def handle_fault(self, region_map: RegionMap, fault: Fault, reason: WalkFailure,
                     rights: Rights) -> Verdict:
        return Verdict.DECLINED


_DECLINES = _Declines()
RAM_SIZE = 96 * P
# Mostly well-formed values (so that state builds up), often garbage.
_GOOD_SIZES = st.sampled_from([P, 2 * P, 3 * P, 4 * P, 100])
_BAD_SIZES = st.one_of(st.integers(-2, 3 * P + 1), st.sampled_from([0, 1 << 62, -P]),
                       st.integers(-(1 << 64), 1 << 64))
SIZES = st.one_of(_GOOD_SIZES, _GOOD_SIZES, _BAD_SIZES)
ATTACH_SIZES = st.one_of(st.just(0), st.just(0), st.sampled_from([P, 2 * P]), _BAD_SIZES)
OFFSETS = st.one_of(st.just(0), st.just(0), st.just(0), st.just(P),
                    st.sampled_from([P, 2 * P, 1, P - 1, -P, 1 << 40]),
                    st.integers(-P, 5 * P))
ATS = st.one_of(st.none(), st.integers(0, 20).map(lambda n: n * P),
                st.integers(0, 20).map(lambda n: n * P),
                st.sampled_from([0, 15 * P, 3, -P, 1 << 50, 1 << 47]))


@dataclass
class Shadow:
    start: int
    size: int
    ds: Dataspace
    offset: int
    writeable: bool


class CoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.core = Core(ram_size=RAM_SIZE)
        self.pds: list[ProtectionDomain] = []
        self.dss: list[Dataspace] = []  # every dataspace ever made (freed ones too)
        self.rms: list[RegionMap] = []
        self.content: dict[int, bytearray] = {}  # id(ds) -> expected bytes (live RAM, ROM)
        self.shadow: dict[int, list[Shadow]] = {}  # id(rm) -> regions
        self.low: dict[int, int] = {}

    # -------------------------------------------------------------- helpers
    def _rm_of(self, ds: Dataspace) -> RegionMap | None:
        return ds.region_map if isinstance(ds, ManagedDataspace) else None

    def _add_rm(self, rm: RegionMap, low: int = 0) -> None:
        self.rms.append(rm)
        self.shadow[id(rm)] = []
        self.low[id(rm)] = low
        if not low:  # a PD's address space is attached elsewhere only by its own rule
            self.dss.append(rm.dataspace())

    def _children(self, rm: RegionMap) -> list[RegionMap]:
        return [c for s in self.shadow[id(rm)] if (c := self._rm_of(s.ds)) is not None]

    def _height(self, rm: RegionMap) -> int:
        return 1 + max((self._height(c) for c in self._children(rm)), default=0)

    def _depth(self, rm: RegionMap) -> int:
        parents = [p for p in self.rms if rm in self._children(p)]
        return 1 + max((self._depth(p) for p in parents), default=0)

    def _reaches(self, rm: RegionMap, other: RegionMap) -> bool:
        return rm is other or any(self._reaches(c, other) for c in self._children(rm))

    def _find(self, rm: RegionMap, addr: int) -> Shadow | None:
        for s in self.shadow[id(rm)]:
            if s.start <= addr < s.start + s.size:
                return s
        return None

    def _walk(self, rm: RegionMap, addr: int, write: bool) -> tuple[Dataspace, int] | None:
        """The shadow pager: (RAM/ROM dataspace, offset) the access reaches, or None (fault)."""
        writeable = True
        for _ in range(MAX_NESTING):
            s = self._find(rm, addr)
            if s is None:
                return None
            writeable = writeable and s.writeable
            addr = addr - s.start + s.offset
            sub = self._rm_of(s.ds)
            if sub is None:
                if id(s.ds) not in self.content:  # freed RAM: reserved, faults
                    return None
                if write and not (writeable and s.ds.writeable):
                    return None
                return s.ds, addr
            rm = sub
        raise AssertionError("shadow path longer than MAX_NESTING")

    def _pd(self, who: int) -> ProtectionDomain | None:
        return self.pds[who % len(self.pds)] if self.pds else None

    def _ds(self, i: int) -> Dataspace | None:
        return self.dss[i % len(self.dss)] if self.dss else None

    def _rm(self, i: int) -> RegionMap | None:
        return self.rms[i % len(self.rms)] if self.rms else None

    # -------------------------------------------------------------- rules
    @rule(ram=st.sampled_from([0, P, 8 * P, 40 * P, 200 * P]), caps=st.integers(0, 6))
    @precondition(lambda self: len(self.pds) < 3)
    def create_pd(self, ram: int, caps: int) -> None:
        pd = self.core.create_pd(f"pd{len(self.pds)}", ram_quota=ram, cap_quota=caps)
        self.pds.append(pd)
        self._add_rm(pd.address_space, low=pd.address_space.low_limit)

    @rule(size=st.integers(-5, 1 << 20))
    def create_pd_garbage(self, size: int) -> None:
        try:
            self.core.create_pd("bad", ram_quota=-size - 1, cap_quota=size)
        except InvalidArgument:
            return
        raise AssertionError("a negative RAM quota was accepted")

    @rule(who=st.integers(0, 2), size=SIZES)
    def alloc_ram(self, who: int, size: int) -> None:
        pd = self._pd(who)
        if pd is None:
            return
        before = (pd.avail_ram(), pd.avail_caps(), self.core.ram.free_frames)
        try:
            ds = pd.alloc_ram(size)
        except (Denied, InvalidArgument, OutOfRam, OutOfCaps) as err:
            assert (pd.avail_ram(), pd.avail_caps(), self.core.ram.free_frames) == before
            rounded = (size + P - 1) // P * P
            if isinstance(err, OutOfRam):
                assert rounded > before[0] or rounded // P > before[2]
            if isinstance(err, Denied | InvalidArgument):
                assert size <= 0
            return
        assert size > 0
        assert ds.size == (size + P - 1) // P * P
        assert ds.read(0, ds.size) == bytes(ds.size)
        self.dss.append(ds)
        self.content[id(ds)] = bytearray(ds.size)

    @rule(pages=st.integers(0, 3), fill=st.integers(0, 255))
    def create_rom(self, pages: int, fill: int) -> None:
        data = bytes([fill]) * (pages * P + (7 if pages else 0))
        free = self.core.ram.free_frames
        try:
            rom = self.core.create_rom(f"rom{len(self.dss)}", data)
        except OutOfRam:  # ROMs come out of physical RAM; nothing taken on failure
            assert self.core.ram.free_frames == free < max(pages + 1, 1)
            return
        self.dss.append(rom)
        expected = bytearray(rom.size)
        expected[:len(data)] = data
        self.content[id(rom)] = expected

    @rule(who=st.integers(0, 2), i=st.integers(0, 1000))
    def free_ram(self, who: int, i: int) -> None:
        pd, ds = self._pd(who), self._ds(i)
        if pd is None or ds is None:
            return
        before = pd.avail_ram()
        owned = isinstance(ds, RamDataspace) and ds.owner is pd and id(ds) in self.content
        try:
            pd.free_ram(ds)
        except (Denied, InvalidDataspace):
            assert not owned
            assert pd.avail_ram() == before
            return
        assert owned, f"{pd} freed {ds!r} it does not own (or twice)"
        assert pd.avail_ram() == before + ds.size
        del self.content[id(ds)]

    @rule(who=st.integers(0, 2), i=st.integers(0, 1000), revoke=st.booleans())
    def seal_ram(self, who: int, i: int, revoke: bool) -> None:
        pd, ds = self._pd(who), self._ds(i)
        if pd is None or ds is None:
            return
        owned = isinstance(ds, RamDataspace) and ds.owner is pd and id(ds) in self.content
        was_writeable = ds.writeable
        try:
            pd.seal_ram(ds, revoke=revoke)
        except (Denied, InvalidDataspace):
            assert not owned
            return
        assert owned
        assert ds.sealed
        assert ds.writeable == (was_writeable and not revoke)

    @rule(size=st.one_of(st.integers(-P, 40 * P), st.sampled_from([16 * P, 1 << 47])))
    @precondition(lambda self: len(self.rms) < 12)
    def create_region_map(self, size: int) -> None:
        try:
            rm = self.core.create_region_map(size)
        except InvalidArgument:
            assert size <= 0
            return
        assert size > 0 and rm.size == (size + P - 1) // P * P
        self._add_rm(rm)

    @rule(r=st.integers(0, 1000), i=st.integers(0, 1000), size=ATTACH_SIZES, offset=OFFSETS,
          at=ATS,
          writeable=st.booleans(), executable=st.booleans())
    def attach(self, r: int, i: int, size: int, offset: int, at: int | None, writeable: bool,
               executable: bool) -> None:
        rm, ds = self._rm(r), self._ds(i)
        if rm is None or ds is None:
            return
        regions = self.shadow[id(rm)]
        low = self.low[id(rm)]
        if at is not None and low and 0 <= at < (1 << 20) and (at // P) % 4:
            at += low  # mostly above a PD address space's null guard
        valid = isinstance(ds, ManagedDataspace) or id(ds) in self.content
        span = ds.size - offset if size == 0 else size
        sub = self._rm_of(ds)
        nesting_ok = sub is None or (not self._reaches(sub, rm)
                                     and self._depth(rm) + self._height(sub) <= MAX_NESTING)
        well_formed = (valid and offset >= 0 and offset % P == 0 and size >= 0
                       and size % P == 0 and offset < ds.size and offset + span <= ds.size
                       and span <= rm.size - low and nesting_ok)
        fits = at is None or (at >= low and at % P == 0 and at + span <= rm.size and not any(
            s.start < at + span and at < s.start + s.size for s in regions))
        try:
            rng = rm.attach(ds, size=size, offset=offset, at=at, executable=executable,
                            writeable=writeable)
        except (InvalidDataspace, InvalidArgument, RegionConflict, NestingTooDeep) as err:
            assert not (well_formed and fits and at is not None), f"refused: {err}"
            assert self.shadow[id(rm)] == regions
            return
        assert well_formed and fits, "an attach that must fail succeeded"
        assert rng.size == span and rng.start % P == 0 and rng.start >= low
        assert rng.start + rng.size <= rm.size
        assert at is None or rng.start == at
        assert not any(s.start < rng.start + span and rng.start < s.start + s.size
                       for s in regions), "attach overlapped an existing region"
        # Genode: an attach of sealed RAM is read-only whatever was asked.
        regions.append(Shadow(rng.start, span, ds, offset, writeable and not ds.sealed))

    @rule(who=st.integers(0, 2), r=st.integers(0, 1000), size=st.sampled_from([0, P, 4 * P]),
          offset=st.sampled_from([0, 0x10000, 0x400000]))
    def attach_address_space(self, who: int, r: int, size: int, offset: int) -> None:
        """Nest a PD's whole address space (or a window of it) into some region map."""
        pd = self._pd(who)
        if pd is None:
            return
        self.dss.append(pd.address_space.dataspace())
        self.attach(r, len(self.dss) - 1, size, offset, None, True, False)
        self.dss.pop()

    @rule(r=st.integers(0, 1000), at=st.one_of(st.integers(-P, 24 * P), st.just(1 << 60)),
          pick=st.booleans(), j=st.integers(0, 100))
    def detach(self, r: int, at: int, pick: bool, j: int) -> None:
        rm = self._rm(r)
        if rm is None:
            return
        regions = self.shadow[id(rm)]
        if pick and regions:
            s = regions[j % len(regions)]
            at = s.start + (j * 97) % s.size
        hit = self._find(rm, at)
        try:
            rm.detach(at)
        except RtcrError:
            assert hit is None, f"detach of {at:#x} refused though a region is there"
            return
        assert hit is not None, "detach succeeded where nothing is attached"
        regions.remove(hit)

    def _addr(self, rm: RegionMap, addr: int, pick: int) -> int:
        regions = self.shadow[id(rm)]
        if pick % 4 and regions:
            s = regions[pick % len(regions)]
            return s.start + (addr % s.size) - (pick % 3)
        return addr

    @rule(r=st.integers(0, 1000), addr=st.integers(-1, 24 * P), n=st.integers(0, 2 * P + 3),
          byte=st.integers(1, 255), pick=st.integers(0, 1000))
    def write_through(self, r: int, addr: int, n: int, byte: int, pick: int) -> None:
        rm = self._rm(r)
        if rm is None:
            return
        addr = self._addr(rm, addr, pick)
        targets = [self._walk(rm, a, write=True) for a in range(max(addr, 0), addr + n)]
        try:
            host_write(rm, addr, bytes([byte]) * n)
        except (PageFault, InvalidArgument):
            assert addr < 0 or None in targets
            # every page is translated before the first byte is written: nothing changed
            return
        assert addr >= 0 and None not in targets, "a write went through a faulting path"
        for ds, off in targets:  # type: ignore[misc]
            self.content[id(ds)][off] = byte

    @rule(r=st.integers(0, 1000), addr=st.integers(-1, 24 * P), n=st.integers(0, 2 * P + 3),
          pick=st.integers(0, 1000))
    def read_through(self, r: int, addr: int, n: int, pick: int) -> None:
        rm = self._rm(r)
        if rm is None:
            return
        addr = self._addr(rm, addr, pick)
        targets = [self._walk(rm, a, write=False) for a in range(max(addr, 0), addr + n)]
        try:
            data = host_read(rm, addr, n)
        except (PageFault, InvalidArgument):
            assert addr < 0 or None in targets
            return
        assert addr >= 0 and None not in targets, "a read went through a faulting path"
        expected = bytes(self.content[id(ds)][off] for ds, off in targets)  # type: ignore[misc]
        assert data == expected

    @rule(i=st.integers(0, 1000), offset=st.integers(-2, 5 * P), n=st.integers(-1, P + 2),
          byte=st.integers(0, 255))
    def host_write(self, i: int, offset: int, n: int, byte: int) -> None:
        ds = self._ds(i)
        if ds is None or isinstance(ds, ManagedDataspace):
            return
        live = id(ds) in self.content
        try:
            ds.write(offset, bytes([byte]) * max(n, 0))
        except (Denied, InvalidDataspace, InvalidArgument):
            assert not (live and ds.writeable and offset >= 0 and offset + max(n, 0) <= ds.size)
            return
        assert live and ds.writeable, f"host write into {ds!r} (sealed, ROM or freed)"
        self.content[id(ds)][offset:offset + n] = bytes([byte]) * max(n, 0)

    @rule(r=st.integers(0, 1000))
    def handler_that_attaches_nothing(self, r: int) -> None:
        rm = self._rm(r)
        if rm is not None:
            rm.fault_handler(_DECLINES)

    # ---------------------------------------------------------- invariants
    @invariant()
    def core_is_consistent(self) -> None:
        assert core_violations(self.core) == []

    @invariant()
    def regions_match_the_shadow(self) -> None:
        for rm in self.rms:
            got = [(r.start, r.size, r.dataspace, r.offset, r.writeable) for r in rm.regions()]
            want = sorted((s.start, s.size, s.ds, s.offset, s.writeable)
                          for s in self.shadow[id(rm)])
            assert [g[:2] for g in got] == [w[:2] for w in want]
            assert all(g[2] is w[2] and g[3:] == w[3:] for g, w in zip(got, want, strict=True))

    @invariant()
    def contents_match_the_shadow(self) -> None:
        for ds in self.dss:
            expected = self.content.get(id(ds))
            if expected is not None:
                assert ds.read(0, ds.size) == bytes(expected), f"{ds!r} changed behind our back"
            elif isinstance(ds, RamDataspace | RomDataspace):
                assert not ds.valid


CoreMachine.TestCase.settings = settings(
    max_examples=120, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestCoreAdversarial = CoreMachine.TestCase
