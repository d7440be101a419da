"""Judging a Genode test package's run as Genode's depot autopilot does.

A package's ``runtime`` file names the binary, its RAM and capability
quota, its config and its *criteria*: ``succeed`` or ``fail`` nodes, each
with a LOG pattern (quoted content; ``*`` is a wildcard, each pattern line
must start a LOG line unless it starts with ``*``, and the lines must
appear in that order), an ``exit`` value, or ``after_seconds``.

The rules, as Genode's autopilot applies them (``repos/gems/src/app/
depot_autopilot``), in rtcr's *virtual* time:

- a criterion without ``after_seconds`` holds when its pattern has been
  seen and the component's exit value equals its ``exit`` (no ``exit``:
  the component has not exited);
- an exit whose value no criterion names fails the test;
- when exactly one criterion has ``after_seconds``, reaching that virtual
  time concludes the test with that criterion's outcome.

Deliberate differences (docs/architecture.md): a timed ``succeed`` whose
pattern has not been seen by its deadline fails (Genode ignores the
pattern there); when a ``succeed`` and a ``fail`` hold at the same moment,
the test fails; a component that can make no progress any more (idle,
deadlocked, crashed) lets virtual time jump to the deadline, since nothing
can happen in between.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from .hid import HidError, Node, parse

NS_PER_S = 1_000_000_000
_SIZE_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


class Outcome(enum.Enum):
    SUCCEED = "succeed"
    FAIL = "fail"


@dataclass
class Matcher:
    """Genode's LOG pattern: fragments to find in order in the LOG buffer."""

    fragments: tuple[str, ...]
    text: str  # the pattern as written, for reports
    _next: int = 0  # fragment to find next
    _pos: int = 0  # where to look for it

    @classmethod
    def of(cls, lines: list[str]) -> Matcher:
        fragments: list[str] = []
        for line in lines:
            line = line.strip(" \t")
            if not line:
                continue
            for index, piece in enumerate(line.split("*")):
                if piece:
                    # a pattern line starts a LOG line, unless it starts with '*'
                    fragments.append("\n" + piece if index == 0 else piece)
        return cls(tuple(fragments), "\n".join(lines))

    @property
    def matched(self) -> bool:
        return self._next == len(self.fragments)

    def feed(self, buffer: str) -> None:
        """Advance over the whole LOG buffer so far (it only ever grows)."""
        while not self.matched:
            found = buffer.find(self.fragments[self._next], self._pos)
            if found < 0:
                # a fragment may straddle the end: keep looking where it could start
                self._pos = max(self._pos, len(buffer) - len(self.fragments[self._next]) + 1)
                return
            self._pos = found + len(self.fragments[self._next])
            self._next += 1


@dataclass
class Criterion:
    outcome: Outcome
    after_seconds: int  # 0: none
    exit: int | None
    matcher: Matcher
    line: int

    def describe(self) -> str:
        parts = []
        if self.matcher.fragments:
            first = self.matcher.text.strip().splitlines()[0].strip()
            more = " ..." if len(self.matcher.text.strip().splitlines()) > 1 else ""
            parts.append(f"log {first!r}{more}")
        if self.exit is not None:
            parts.append(f"exit {self.exit}")
        if self.after_seconds:
            parts.append(f"after {self.after_seconds} s")
        return ", ".join(parts) or "always"


@dataclass
class RuntimeFile:
    """What rtcr needs of a test package's ``runtime`` file."""

    path: str
    binary: str
    ram: int
    caps: int
    config: bytes  # the config ROM, in the syntax of the runtime file
    criteria: list[Criterion]
    roms: list[str] = field(default_factory=list)  # labels of its `content`


def parse_size(text: str, what: str, where: str) -> int:
    """A size as Genode writes them (4096, 64K, 10M); `HidError` names `where`."""
    text = text.strip()
    number = text.rstrip("KMG")
    suffix = text[len(number):]
    if not number.isdigit() or suffix not in _SIZE_SUFFIXES:
        raise HidError(f"{where}: {what} {text!r} is not a size (examples: 4096, 64K, 10M)")
    return int(number) * _SIZE_SUFFIXES[suffix]


def _int(text: str, what: str, where: str) -> int:
    try:
        return int(text.strip(), 0)
    except ValueError:
        raise HidError(f"{where}: {what} {text!r} is not a number") from None


def load_runtime(path: Path) -> RuntimeFile:
    """Read and check a runtime file (HID or the older XML form); HidError names the line."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise HidError(f"{path}: cannot read it: {error}") from error
    try:
        root = parse(text)
    except HidError as error:
        raise HidError(f"{path}: {error}") from error
    xml = text.lstrip().startswith("<")
    return _runtime(root, str(path), xml)


def _where(path: str, node: Node) -> str:
    return f"{path}:{node.line}" if node.line else f"{path}: <{node.type}>"


def _runtime(root: Node, path: str, xml: bool) -> RuntimeFile:
    where = _where(path, root)
    if root.type != "runtime":
        raise HidError(f"{where}: the top node is {root.type!r}, not 'runtime'")
    for key in ("binary", "ram", "caps"):
        if root.attribute(key) is None:
            raise HidError(f"{where}: 'runtime' has no {key!r} attribute")
    criteria: list[Criterion] = []
    for node in root.children:
        if node.type not in ("succeed", "fail"):
            continue
        at = _where(path, node)
        exit_value = node.attribute("exit")
        criteria.append(Criterion(
            Outcome(node.type), _int(node.attribute("after_seconds", "0") or "0",
                                     "after_seconds", at),
            None if exit_value is None else _int(exit_value, "exit", at),
            Matcher.of(node.quoted), node.line))
    if not criteria:
        raise HidError(f"{where}: no 'succeed' or 'fail' criterion")
    if sum(1 for c in criteria if c.after_seconds) > 1:
        timed = ", ".join(_where(path, Node("", c.line)) for c in criteria if c.after_seconds)
        raise HidError(f"{where}: more than one criterion has after_seconds ({timed}); "
                       "the autopilot would ignore them all")
    configs = root.sub_nodes("config")
    config = _config_text(configs[0], xml) if configs else (b"<config/>" if xml else
                                                            b"config\n-\n")
    roms = [r.attribute("label") or "" for c in root.sub_nodes("content")
            for r in c.sub_nodes("rom")]
    return RuntimeFile(path, root.attributes["binary"],
                       parse_size(root.attributes["ram"], "ram", where),
                       _int(root.attributes["caps"], "caps", where), config, criteria, roms)


def _config_text(config: Node, xml: bool) -> bytes:
    if not xml:
        return config.to_hid().encode()
    return config.to_xml().encode()


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    at_ns: int


class Judge:
    """The autopilot's evaluation of one run, fed LOG lines, the exit and the time."""

    def __init__(self, runtime: RuntimeFile) -> None:
        self.runtime = runtime
        self.criteria = [Criterion(c.outcome, c.after_seconds, c.exit,
                                   Matcher(c.matcher.fragments, c.matcher.text), c.line)
                         for c in runtime.criteria]
        timed = [c for c in self.criteria if c.after_seconds]
        self.timed = timed[0] if timed else None
        self.buffer = ""
        self.exited: int | None = None
        self.verdict: Verdict | None = None

    @property
    def deadline_ns(self) -> int | None:
        return None if self.timed is None else self.timed.after_seconds * NS_PER_S

    def tick(self, now_ns: int) -> None:
        """Virtual time has reached `now_ns`: the deadline may have passed."""
        deadline = self.deadline_ns
        if self.verdict is not None or deadline is None or now_ns < deadline:
            return
        timed = self.timed
        assert timed is not None
        if timed.outcome is Outcome.SUCCEED and timed.matcher.fragments \
                and not timed.matcher.matched:
            self.verdict = Verdict(Outcome.FAIL, f"timeout {timed.after_seconds} s before "
                                   f"the pattern of line {timed.line} was seen", deadline)
        else:
            self.verdict = Verdict(timed.outcome, f"timeout {timed.after_seconds} s "
                                   f"({timed.describe()})", deadline)

    def log(self, line: str, now_ns: int) -> None:
        self.tick(now_ns)
        if self.verdict is not None:
            return
        self.buffer += "\n" + line
        for criterion in self.criteria:
            criterion.matcher.feed(self.buffer)
        self._check(now_ns, "log")

    def exit(self, code: int, now_ns: int) -> None:
        self.tick(now_ns)
        if self.verdict is not None:
            return
        self.exited = code & 0xFF
        if not any(c.exit is not None and c.exit & 0xFF == self.exited
                   for c in self.criteria):
            self.verdict = Verdict(Outcome.FAIL, f"exited with value {code}", now_ns)
            return
        self._check(now_ns, "exit")

    def stuck(self, what: str, now_ns: int) -> None:
        """Nothing can happen any more (idle, deadlock, crash): time runs to the deadline."""
        if self.verdict is not None:
            return
        deadline = self.deadline_ns
        if deadline is not None:
            self.tick(max(now_ns, deadline))
            return
        self.verdict = Verdict(Outcome.FAIL, f"{what} before any criterion held", now_ns)

    def _check(self, now_ns: int, why: str) -> None:
        held = [c for c in self.criteria if not c.after_seconds and c.matcher.matched
                and (c.exit is None if self.exited is None
                     else c.exit is not None and c.exit & 0xFF == self.exited)]
        if not held:
            return
        failing = [c for c in held if c.outcome is Outcome.FAIL]
        chosen = failing[0] if failing else held[0]
        self.verdict = Verdict(chosen.outcome, f"{why}: {chosen.describe()} "
                               f"(line {chosen.line})", now_ns)
