"""Genode's structured data, HID and XML, parsed into one tree (`Node`).

HID ("human-inclined data", Genode's doc/hid.txt) is read as segments:
each line splits at ``|`` (a segment starting with ``:`` -- quoted
content -- or ``.`` -- a comment -- takes the rest of the line), and every
segment keeps its column. A node's scope is every following segment at a
column at least that of its type word; an inner ``+`` node opens its own
scope the same way, so an attribute or quoted line belongs to the innermost
node whose scope holds it. ``x`` disables a node with its scope, ``-`` at
column 0 ends the document. The guest-side parser (``sdk/genode/src/node.cc``)
follows the same rules.

Offline, as the HID document asks of tools, a syntax error is refused:
`HidError` names the line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from rtcr.errors import RtcrError

_TAG = re.compile(r"[a-z][a-z0-9_-]*")
_ATTRIBUTE = re.compile(r"([a-z][a-z0-9_-]*):(?:\s+(.*)|\s*)$")


class HidError(RtcrError):
    """A HID or XML document that does not parse (the message names the line)."""


@dataclass
class Node:
    """One node: its type, attributes in order, quoted content lines, sub nodes."""

    type: str
    line: int
    attributes: dict[str, str] = field(default_factory=dict)
    quoted: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def attribute(self, name: str, default: str | None = None) -> str | None:
        return self.attributes.get(name, default)

    def sub_nodes(self, type_: str | None = None) -> list[Node]:
        return [c for c in self.children if type_ is None or c.type == type_]

    def to_hid(self) -> str:
        """This node as a HID document of its own (one attribute per line, expanded)."""
        lines: list[str] = []
        self._emit(lines, 0)
        return "\n".join([*lines, "-", ""])

    def to_xml(self) -> str:
        """This node as an XML element of its own (quoted lines become its text)."""
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in self.attributes.items())
        inner = "".join(c.to_xml() for c in self.children) + escape("\n".join(self.quoted))
        return f"<{self.type}{attrs}>{inner}</{self.type}>" if inner else f"<{self.type}{attrs}/>"

    def _emit(self, lines: list[str], depth: int) -> None:
        name = self.attributes.get("name")
        header = self.type if name is None else f"{self.type} {name}"
        indent = "  " * max(0, depth - 1)
        lines.append(f"{indent}+ {header}" if depth else header)
        own = "  " * max(1, depth)  # at or right of the type word
        lines.extend(f"{own}{key}: {value}" if value else f"{own}{key}:"
                     for key, value in self.attributes.items() if key != "name" or
                     name is None)
        lines.extend(f"{own}: {text}" if text else f"{own}:" for text in self.quoted)
        for child in self.children:
            child._emit(lines, depth + 1)


@dataclass(frozen=True)
class _Segment:
    text: str
    col: int
    line: int


def _segments(text: str) -> list[_Segment]:
    out: list[_Segment] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw:
            raise HidError(f"line {number}: a tab (HID indents with spaces only)")
        col = 0
        while col < len(raw):
            while col < len(raw) and raw[col] == " ":
                col += 1
            if col >= len(raw):
                break
            if raw[col] == "|":
                col += 1
                continue
            start = col
            if raw[col] in ":." and (col + 1 == len(raw) or raw[col + 1] == " "):
                col = len(raw)
            else:
                while col < len(raw) and raw[col] != "|":
                    col += 1
            out.append(_Segment(raw[start:col].rstrip(), start, number))
    return out


def _header(seg: _Segment) -> tuple[str, str | None, int]:
    """The node type, its name, and the column of the type word."""
    text, col = seg.text, seg.col
    if text[:2] in ("+ ", "x "):
        rest = text[2:]
        col += 2 + (len(rest) - len(rest.lstrip(" ")))
        text = rest.lstrip(" ")
    type_, _, name = text.partition(" ")
    if not _TAG.fullmatch(type_):
        raise HidError(f"line {seg.line}: {type_!r} is not a node type (a-z, 0-9, _ and -)")
    name = name.strip()
    return type_, name or None, col


def parse_hid(text: str) -> Node:
    """Parse a HID document into its top node."""
    segments = [s for s in _segments(text) if not s.text.startswith(".")]
    if not segments:
        raise HidError("line 1: empty document (a HID document starts with its node type)")
    top_type, top_name, _ = _header(segments[0])
    top = Node(top_type, segments[0].line)
    if top_name is not None:
        top.attributes["name"] = top_name
    # open nodes: (type column, node or None for a disabled one)
    stack: list[tuple[int, Node | None]] = [(0, top)]
    ended = False
    for seg in segments[1:]:
        if ended:
            raise HidError(f"line {seg.line}: text after the end marker '-'")
        if seg.text == "-" and seg.col == 0:
            ended = True
            continue
        while len(stack) > 1 and stack[-1][0] > seg.col:
            stack.pop()
        owner = stack[-1][1]
        if seg.text[:2] in ("+ ", "x "):
            type_, name, type_col = _header(seg)
            node = Node(type_, seg.line) if seg.text[0] == "+" and owner is not None else None
            if node is not None:
                if name is not None:
                    node.attributes["name"] = name
                assert owner is not None
                owner.children.append(node)
            stack.append((type_col, node))
            continue
        if owner is None:
            continue  # inside a disabled node
        if seg.text.startswith(":"):
            owner.quoted.append(seg.text[2:] if seg.text.startswith(": ") else "")
            continue
        match = _ATTRIBUTE.match(seg.text)
        if match is None:
            raise HidError(f"line {seg.line}: {seg.text!r} is neither an attribute "
                           "('tag: value'), a sub node ('+ type'), quoted content (': ') "
                           "nor a comment ('. ')")
        key, value = match.group(1), (match.group(2) or "").strip()
        if key in owner.attributes:
            raise HidError(f"line {seg.line}: attribute {key!r} of {owner.type!r} "
                           f"(line {owner.line}) is given twice")
        owner.attributes[key] = value
    return top


def parse_xml(text: str) -> Node:
    """Parse an XML document into the same tree (text content becomes quoted lines)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        line = error.position[0] if error.position else 1
        raise HidError(f"line {line}: {error}") from error
    return _from_element(root)


def _from_element(element: ET.Element) -> Node:
    node = Node(element.tag, 0, dict(element.attrib))
    content = (element.text or "") + "".join(child.tail or "" for child in element)
    node.quoted = [line for line in content.split("\n") if line.strip()]
    node.children = [_from_element(child) for child in element]
    return node


def parse(text: str) -> Node:
    """XML when it starts with '<', else HID."""
    return parse_xml(text) if text.lstrip().startswith("<") else parse_hid(text)
