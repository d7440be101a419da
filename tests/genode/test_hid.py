"""Genode's HID syntax and the XML form, parsed into one tree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtcr.genode.hid import HidError, Node, parse, parse_hid, parse_xml

CONFIG = """\
config
       verbose: yes
       arch:    x86_64

+ default-route
  + any-service
    + parent
    + any-child

+ start osci | ram: 8M | pkg: nfeske/pkg/rom_osci
  . a comment | with a pipe
  + config
  |        fps: 50
  | + channel | label: mic_left  | color: #ff6633
  | + channel | label: mic_right | color: #cc7777
  + route
    + service ROM | label: recording | + child record_rom
x start disabled | ram: 1M
+ arg -c
  : while true; do
  :  echo | cat
  : done
-
"""


def test_attributes_on_their_own_lines_belong_to_the_top_node() -> None:
    assert parse_hid(CONFIG).attributes == {"verbose": "yes", "arch": "x86_64"}


def test_sub_nodes_nest_by_indentation() -> None:
    route = parse_hid(CONFIG).sub_nodes("default-route")[0]
    assert [c.type for c in route.sub_nodes("any-service")[0].children] == ["parent",
                                                                           "any-child"]


def test_a_node_name_is_its_name_attribute() -> None:
    start = parse_hid(CONFIG).sub_nodes("start")[0]
    assert start.attributes == {"name": "osci", "ram": "8M", "pkg": "nfeske/pkg/rom_osci"}


def test_compacted_lines_split_at_pipes() -> None:
    channels = parse_hid(CONFIG).sub_nodes("start")[0].sub_nodes("config")[0].children
    assert [(c.attributes["label"], c.attributes["color"]) for c in channels] == [
        ("mic_left", "#ff6633"), ("mic_right", "#cc7777")]


def test_a_compacted_sub_node_belongs_to_the_segment_before_it() -> None:
    service = parse_hid(CONFIG).sub_nodes("start")[0].sub_nodes("route")[0].children[0]
    assert service.attributes["label"] == "recording"
    assert [(c.type, c.attributes["name"]) for c in service.children] == [
        ("child", "record_rom")]


def test_disabled_nodes_are_left_out() -> None:
    assert [s.attributes["name"] for s in parse_hid(CONFIG).sub_nodes("start")] == ["osci"]


def test_quoted_lines_keep_pipes_and_inner_spaces() -> None:
    arg = parse_hid(CONFIG).sub_nodes("arg")[0]
    assert arg.quoted == ["while true; do", " echo | cat", "done"]


def test_a_line_that_is_nothing_names_its_line() -> None:
    with pytest.raises(HidError, match="line 3: 'what is this' is neither"):
        parse_hid("config\n  a: 1\n  what is this\n-\n")


def test_a_duplicate_attribute_names_both_lines() -> None:
    with pytest.raises(HidError, match=r"line 3: attribute 'a' of 'config' \(line 1\)"):
        parse_hid("config\n  a: 1\n  a: 2\n-\n")


def test_text_after_the_end_marker_is_refused() -> None:
    with pytest.raises(HidError, match="line 3: text after the end marker"):
        parse_hid("config\n-\n+ late\n")


def test_xml_becomes_the_same_tree() -> None:
    node = parse_xml('<config verbose="yes"><start name="a" ram="1M"/>text</config>')
    assert (node.type, node.attributes, node.quoted) == ("config", {"verbose": "yes"},
                                                         ["text"])
    assert node.children[0].attributes == {"name": "a", "ram": "1M"}


def test_parse_tells_the_syntaxes_apart() -> None:
    assert parse("  <a/>").type == "a"
    assert parse("a\n-\n").type == "a"


_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
_values = st.from_regex(r"[A-Za-z0-9#./_-][A-Za-z0-9#./ _-]{0,10}[A-Za-z0-9]|[A-Za-z0-9]",
                        fullmatch=True)


def _trees(depth: int) -> st.SearchStrategy[Node]:
    children = st.lists(_trees(depth - 1), max_size=3) if depth else st.just([])
    return st.builds(lambda t, a, q, c: Node(t, 0, a, q, c), _names,
                     st.dictionaries(_names.filter(lambda n: n != "name"), _values,
                                     max_size=3),
                     st.lists(st.from_regex(r"[ -~]{0,12}", fullmatch=True).map(str.rstrip),
                              max_size=2),
                     children)


def _shape(node: Node) -> tuple[object, ...]:
    return (node.type, node.attributes, node.quoted, [_shape(c) for c in node.children])


@given(_trees(3))
def test_emitted_hid_parses_back_to_the_same_tree(tree: Node) -> None:
    assert _shape(parse_hid(tree.to_hid())) == _shape(tree)
