"""Scenarios: several components started from an init-style config.

`rtcr run scenario.config` starts what the config's ``start`` nodes name,
as Genode's init does, with the runtime as their parent::

    <config>
      <start name="server" ram="2M" caps="200">
        <binary name="kv_server"/>          (default: the start's name)
        <provides><service name="requests"/></provides>
        <config> ... </config>               (its "config" ROM)
        <route>
          <service name="signal"><child name="client"/></service>
          <service name="ROM" label="table"><parent/></service>
        </route>
      </start>
      ...
    </config>

Components of a scenario talk through what core offers: a component
*announces* a dataspace or signal context as a service it ``provides``; a
component whose ``route`` names that service at a child *requests* it and
gets its own selector. A ROM route (``<service name="ROM" label=...>``, or
without a label: every ROM) gives a component the parent's ROM modules;
its config ROM and its binary it always has.

A config is checked as a whole before anything starts: a mistake is one
`ScenarioError` naming the file and the node (`<start name="x">`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtcr.checkpoint import Launch, Services
from rtcr.errors import RtcrError
from rtcr.machine.elf import parse_elf
from rtcr.toolchain import compile_component

from .autopilot import parse_size
from .hid import HidError, Node, parse

CONFIG_ROM = "config"
ROM_SERVICE = "ROM"
_START_NODES = ("binary", "config", "route", "provides", "resource")
#: Where a binary named NAME is looked for next to the config: an ELF, else a source.
ELF_NAMES = ("{}", "{}.elf")
SOURCE_NAMES = ("{}.cc", "{}.cpp", "{}.c")


class ScenarioError(RtcrError):
    """A scenario config that cannot be started (the message names the node)."""


@dataclass(frozen=True)
class Start:
    """One start node: a component, its quota, config, services and routes."""

    name: str
    binary: str
    ram: int
    caps: int
    config: bytes  # its config ROM: the start node's <config> as XML
    roms: tuple[str, ...] | None  # the parent's ROMs routed to it (None: every one)
    provides: tuple[str, ...]
    routes: tuple[tuple[str, str], ...]  # (service, the child providing it)

    def route(self, service: str) -> str | None:
        return next((child for name, child in self.routes if name == service), None)


@dataclass(frozen=True)
class Scenario:
    path: str
    starts: tuple[Start, ...]


def is_scenario(path: Path) -> bool:
    """A scenario config, not an ELF: named ``*.config`` or an XML document."""
    if path.suffix == ".config":
        return True
    try:
        with path.open("rb") as f:
            return f.read(64).lstrip().startswith(b"<")
    except OSError:
        return False


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read it: {error}") from error
    try:
        root = parse(text)
    except HidError as error:
        raise ScenarioError(f"{path}: {error}") from error
    return scenario_of(root, str(path))


def scenario_of(root: Node, path: str) -> Scenario:
    """Check a parsed config and turn it into a `Scenario`."""
    if root.type != "config":
        raise ScenarioError(f"{path}: the top node is <{root.type}>, not <config>")
    nodes = root.sub_nodes("start")
    if not nodes:
        raise ScenarioError(f"{path}: <config> has no <start> node: nothing to run")
    starts: list[Start] = []
    for node in nodes:
        start = _start(node, path)
        if any(s.name == start.name for s in starts):
            raise ScenarioError(f"{path}: <start name={start.name!r}>: a second start node "
                                "of that name (names must be unique)")
        starts.append(start)
    by_name = {s.name: s for s in starts}
    for start in starts:
        for service, child in start.routes:
            where = f"{path}: <start name={start.name!r}>: route of {service!r}"
            provider = by_name.get(child)
            if provider is None:
                raise ScenarioError(f"{where} names <child name={child!r}>, which no start "
                                    "node starts")
            if provider is start:
                raise ScenarioError(f"{where} names the component itself")
            if service not in provider.provides:
                raise ScenarioError(f"{where}: {child!r} does not provide it (add <provides>"
                                    f"<service name={service!r}/></provides> to its start)")
    return Scenario(path, tuple(starts))


def _start(node: Node, path: str) -> Start:
    name = node.attribute("name")
    if not name:
        raise ScenarioError(f"{path}: a <start> node has no name")
    where = f"{path}: <start name={name!r}>"
    for sub in node.children:
        if sub.type not in _START_NODES:
            raise ScenarioError(f"{where}: unknown node <{sub.type}> (known: "
                                f"{', '.join(f'<{n}>' for n in _START_NODES)})")
    ram, caps = _quota(node, "ram", where), _quota(node, "caps", where)
    binaries = node.sub_nodes("binary")
    if len(binaries) > 1:
        raise ScenarioError(f"{where}: more than one <binary>")
    binary = binaries[0].attribute("name") if binaries else name
    if not binary:
        raise ScenarioError(f"{where}: <binary> has no name")
    configs = node.sub_nodes("config")
    if len(configs) > 1:
        raise ScenarioError(f"{where}: more than one <config>")
    config = configs[0].to_xml().encode() if configs else b"<config/>"
    provides = tuple(_service_names(node, where))
    roms, routes = _routes(node, where)
    return Start(name, binary, ram, caps, config, roms, provides, routes)


def _quota(node: Node, key: str, where: str) -> int:
    """``ram``/``caps`` of a start node (Genode's older ``<resource>`` form too)."""
    value = node.attribute(key)
    if value is None:
        kind = "RAM" if key == "ram" else "CAP"
        value = next((r.attribute("quantum") for r in node.sub_nodes("resource")
                      if r.attribute("name") == kind), None)
    if value is None:
        raise ScenarioError(f"{where}: no {key!r} attribute (its {key} quota)")
    try:
        return parse_size(value, key, where) if key == "ram" else int(value, 0)
    except (HidError, ValueError):
        raise ScenarioError(f"{where}: {key} {value!r} is not a "
                            f"{'size (examples: 4096, 64K, 2M)' if key == 'ram' else 'number'}"
                            ) from None


def _service_names(node: Node, where: str) -> list[str]:
    names: list[str] = []
    for provides in node.sub_nodes("provides"):
        for service in provides.children:
            name = service.attribute("name")
            if service.type != "service" or not name:
                raise ScenarioError(f"{where}: <provides> holds <service name=.../> nodes only")
            if name == ROM_SERVICE:
                raise ScenarioError(f"{where}: only the parent provides ROMs")
            names.append(name)
    return names


def _routes(node: Node, where: str) -> tuple[tuple[str, ...] | None, tuple[tuple[str, str], ...]]:
    roms: list[str] | None = []
    routes: list[tuple[str, str]] = []
    for route in node.sub_nodes("route"):
        for service in route.children:
            name = service.attribute("name")
            if service.type != "service" or not name:
                raise ScenarioError(f"{where}: <route> holds <service name=...> nodes only")
            targets = service.children
            if len(targets) != 1 or targets[0].type not in ("parent", "child"):
                raise ScenarioError(f"{where}: route of {name!r} needs one <parent/> or "
                                    "<child name=.../>")
            target = targets[0]
            if name == ROM_SERVICE:
                if target.type != "parent":
                    raise ScenarioError(f"{where}: ROMs come from the <parent/> only")
                label = service.attribute("label")
                if label is None:
                    roms = None
                elif roms is not None:
                    roms.append(label)
                continue
            if target.type != "child" or not target.attribute("name"):
                raise ScenarioError(f"{where}: route of {name!r}: the parent provides ROMs "
                                    "only; name the <child name=.../> that provides it")
            if any(existing == name for existing, _ in routes):
                raise ScenarioError(f"{where}: a second route of {name!r}")
            routes.append((name, target.attributes["name"]))
    return (None if roms is None else tuple(roms)), tuple(routes)


def launches(scenario: Scenario, modules: dict[str, bytes], build_dir: Path, *,
             on_diagnostics: Callable[[str], None] | None = None) -> tuple[list[Launch],
                                                                          Services]:
    """What to start for each start node, and the services between them.

    A binary is the ROM module of its name (``--rom NAME=FILE``), else a
    file next to the config: NAME or NAME.elf, else a source NAME.cc, .cpp
    or .c, compiled into `build_dir`. A component may open its config, its
    binary (to start it as a child) and the modules its ROM route names.
    """
    binaries: dict[str, bytes] = {}
    out: list[Launch] = []
    for start in scenario.starts:
        where = f"{scenario.path}: <start name={start.name!r}>"
        if start.binary not in binaries:
            binaries[start.binary] = _binary(scenario, start, where, modules, build_dir,
                                             on_diagnostics)
        data = binaries[start.binary]
        image = parse_elf(data, start.name, where=f"{where}: binary {start.binary!r}")
        routed = sorted(modules) if start.roms is None else start.roms
        missing = [label for label in routed if label not in modules]
        if missing:
            raise ScenarioError(f"{where}: its ROM route names {missing[0]!r}, which is no "
                                f"ROM module (give --rom {missing[0]}=FILE)")
        roms = {label: modules[label] for label in routed}
        roms.update({start.binary: data, CONFIG_ROM: start.config})
        out.append(Launch(start.name, image, start.ram, start.caps, roms))
    services = Services({s.name: s.provides for s in scenario.starts},
                        {(s.name, service): child for s in scenario.starts
                         for service, child in s.routes})
    return out, services


def _binary(scenario: Scenario, start: Start, where: str, modules: dict[str, bytes],
            build_dir: Path, on_diagnostics: Callable[[str], None] | None) -> bytes:
    if start.binary in modules:
        return modules[start.binary]
    directory = Path(scenario.path).parent
    for pattern in ELF_NAMES:
        path = directory / pattern.format(start.binary)
        if path.is_file():
            return path.read_bytes()
    for pattern in SOURCE_NAMES:
        path = directory / pattern.format(start.binary)
        if path.is_file():
            elf = compile_component([path], build_dir / f"{start.binary}.elf",
                                    on_diagnostics=on_diagnostics)
            return elf.read_bytes()
    raise ScenarioError(f"{where}: no binary {start.binary!r}: give --rom {start.binary}=FILE, "
                        f"or put {start.binary}, {start.binary}.elf or a source "
                        f"{start.binary}.cc or .c next to the config")
