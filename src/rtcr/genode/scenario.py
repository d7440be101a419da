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

from dataclasses import dataclass
from pathlib import Path

from rtcr.errors import RtcrError

from .autopilot import parse_size
from .hid import HidError, Node, parse

CONFIG_ROM = "config"
ROM_SERVICE = "ROM"
_START_NODES = ("binary", "config", "route", "provides", "resource")


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
