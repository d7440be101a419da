"""The depot autopilot's judgement of a run, fed LOG lines, exits and time."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcr.genode.autopilot import NS_PER_S, Judge, Matcher, Outcome, load_runtime
from rtcr.genode.hid import HidError


def _runtime(tmp_path: Path, criteria: str, head: str = "ram: 4M | caps: 100") -> Path:
    path = tmp_path / "runtime"
    path.write_text(f"runtime | {head} | binary: test-x\n\n{criteria}\n+ config\n-\n")
    return path


def _judge(tmp_path: Path, criteria: str) -> Judge:
    return Judge(load_runtime(_runtime(tmp_path, criteria)))


def _feed(matcher: Matcher, *lines: str) -> bool:
    buffer = "".join("\n" + line for line in lines)
    matcher.feed(buffer)
    return matcher.matched


def test_a_pattern_line_must_start_a_log_line() -> None:
    assert not _feed(Matcher.of(["done"]), "not done")
    assert _feed(Matcher.of(["done"]), "done and more")


def test_a_leading_star_matches_anywhere_in_a_line() -> None:
    assert _feed(Matcher.of(["*Error:"]), "[init] Error: boom")


def test_stars_match_anything_between_fragments() -> None:
    assert _feed(Matcher.of(["a*c*e"]), "abcde")
    assert not _feed(Matcher.of(["a*c*e"]), "aec")


def test_pattern_lines_must_appear_in_order() -> None:
    assert _feed(Matcher.of(["one", "two"]), "one", "x", "two")
    assert not _feed(Matcher.of(["one", "two"]), "two", "one")


def test_a_pattern_matches_across_feeds() -> None:
    matcher = Matcher.of(["one", "two"])
    matcher.feed("\none")
    assert not matcher.matched
    matcher.feed("\none\nand\ntwo")
    assert matcher.matched


def test_a_succeed_pattern_concludes_the_run(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | : --- done ---")
    judge.log("working", 5)
    assert judge.verdict is None
    judge.log("--- done ---", 9)
    assert judge.verdict is not None
    assert (judge.verdict.outcome, judge.verdict.at_ns) == (Outcome.SUCCEED, 9)


def test_a_fail_pattern_concludes_the_run(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | : done\n+ fail | : *Error:")
    judge.log("Error: broken", 3)
    assert judge.verdict is not None and judge.verdict.outcome is Outcome.FAIL


def test_fail_wins_when_both_hold_at_once(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | : *x\n+ fail | : *x")
    judge.log("x", 1)
    assert judge.verdict is not None and judge.verdict.outcome is Outcome.FAIL


def test_an_expected_exit_value_succeeds(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | exit: 0\n+ fail | exit: -1")
    judge.exit(0, 100)
    assert judge.verdict is not None and judge.verdict.outcome is Outcome.SUCCEED


def test_exit_minus_one_is_the_machines_255(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | exit: 0\n+ fail | exit: -1")
    judge.exit(255, 100)
    assert judge.verdict is not None and judge.verdict.outcome is Outcome.FAIL
    assert "exit -1" in judge.verdict.reason


def test_an_exit_nobody_expects_fails(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | : done")
    judge.exit(3, 7)
    assert judge.verdict is not None
    assert (judge.verdict.outcome, judge.verdict.reason) == (Outcome.FAIL,
                                                             "exited with value 3")


def test_a_pattern_with_exit_needs_both(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | exit: 0\n  : done")
    judge.log("done", 1)
    assert judge.verdict is None
    judge.exit(0, 2)
    assert judge.verdict is not None and judge.verdict.outcome is Outcome.SUCCEED


def test_the_deadline_concludes_with_its_criterion(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ fail | after_seconds: 2\n+ succeed | : done")
    judge.tick(2 * NS_PER_S - 1)
    assert judge.verdict is None
    judge.tick(2 * NS_PER_S)
    assert judge.verdict is not None
    assert (judge.verdict.outcome, judge.verdict.at_ns) == (Outcome.FAIL, 2 * NS_PER_S)


def test_a_line_after_the_deadline_comes_too_late(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ fail | after_seconds: 1\n+ succeed | : done")
    judge.log("done", NS_PER_S + 1)
    assert judge.verdict is not None and judge.verdict.outcome is Outcome.FAIL


def test_a_timed_succeed_needs_its_pattern(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | after_seconds: 3\n  : one\n  : two")
    judge.log("one", 10)
    judge.stuck("deadlock", 20)
    assert judge.verdict is not None and judge.verdict.outcome is Outcome.FAIL
    assert "before the pattern of line 3 was seen" in judge.verdict.reason


def test_a_stuck_run_jumps_to_the_deadline(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | after_seconds: 3\n  : one")
    judge.log("one", 10)
    judge.stuck("idle", 20)
    assert judge.verdict is not None
    assert (judge.verdict.outcome, judge.verdict.at_ns) == (Outcome.SUCCEED, 3 * NS_PER_S)


def test_a_stuck_run_without_deadline_fails(tmp_path: Path) -> None:
    judge = _judge(tmp_path, "+ succeed | : never")
    judge.stuck("idle", 20)
    assert judge.verdict is not None and judge.verdict.reason == \
        "idle before any criterion held"


def test_the_runtime_gives_quotas_binary_and_config(tmp_path: Path) -> None:
    path = tmp_path / "runtime"
    path.write_text("runtime | ram: 10M | caps: 110 | binary: test-a\n+ succeed | exit: 0\n"
                    "+ config | verbose: yes\n  + item | value: 1\n-\n")
    runtime = load_runtime(path)
    assert (runtime.binary, runtime.ram, runtime.caps) == ("test-a", 10 << 20, 110)
    assert runtime.config == b"config\n  verbose: yes\n+ item\n  value: 1\n-\n"


def test_the_xml_runtime_form_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "runtime"
    path.write_text('<runtime ram="32M" caps="1000" binary="init">\n'
                    '<fail after_seconds="20"/>\n<succeed>\n  [init] *done\n</succeed>\n'
                    '<config><start name="x"/></config>\n</runtime>\n')
    runtime = load_runtime(path)
    assert (runtime.ram, runtime.caps) == (32 << 20, 1000)
    assert runtime.criteria[1].matcher.fragments == ("\n[init] ", "done")
    assert runtime.config == b'<config><start name="x"/></config>'


@pytest.mark.parametrize(("text", "message"), [
    ("config\n-\n", "runtime:1: the top node is 'config', not 'runtime'"),
    ("runtime | ram: 1M | caps: 5\n+ succeed | exit: 0\n-\n",
     "runtime:1: 'runtime' has no 'binary' attribute"),
    ("runtime | ram: lots | caps: 5 | binary: b\n+ succeed | exit: 0\n-\n",
     "runtime:1: ram 'lots' is not a size"),
    ("runtime | ram: 1M | caps: 5 | binary: b\n-\n", "runtime:1: no 'succeed' or 'fail'"),
    ("runtime | ram: 1M | caps: 5 | binary: b\n+ succeed | exit: zero\n-\n",
     "runtime:2: exit 'zero' is not a number"),
    ("runtime | ram: 1M | caps: 5 | binary: b\n+ fail | after_seconds: 1\n"
     "+ succeed | after_seconds: 2\n-\n", "more than one criterion has after_seconds"),
])
def test_a_bad_runtime_file_is_one_line_naming_where(tmp_path: Path, text: str,
                                                     message: str) -> None:
    path = tmp_path / "runtime"
    path.write_text(text)
    with pytest.raises(HidError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_runtime(path)
