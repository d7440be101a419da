"""Bad input at every door of the `rtcr` command line.

Every case must end with a non-zero exit status and exactly one line on
stderr saying what is wrong ("rtcr: error: ..." or click's "Error: ..."),
never a traceback. (A failed compile may show the compiler's diagnostics
too; its own verdict is still one line.)
"""

from __future__ import annotations

import pytest
from reliability_harness import component, rtcr

from rtcr.store import Store

# (name, argv with {elf} {store} {dir} {file} {empty} {junk} {src} placeholders, words expected)
CASES: list[tuple[str, list[str], str]] = [
    ("cc-missing-source", ["cc", "{dir}/missing.c", "-o", "{dir}/x.elf"], "not found"),
    ("cc-bad-c", ["cc", "{dir}/bad.c", "-o", "{dir}/x.elf"], "failed"),
    ("cc-output-is-dir", ["cc", "{src}", "-o", "{empty}"], "directory"),
    ("cc-output-under-file", ["cc", "{src}", "-o", "{file}/x.elf"], ""),
    ("cc-no-args", ["cc"], "missing"),
    ("cc-elf-as-source", ["cc", "{elf}", "-o", "{dir}/y.elf"], ""),
    ("run-missing", ["run", "{dir}/missing.elf"], ""),
    ("run-not-elf", ["run", "{file}"], "elf"),
    ("run-directory", ["run", "{empty}"], ""),
    ("run-truncated-elf", ["run", "{dir}/trunc.elf"], ""),
    ("run-c-source", ["run", "{src}"], "elf"),
    ("run-every-0", ["run", "{elf}", "--store", "{dir}/s0", "--every", "0"], "--every"),
    ("run-every-abc", ["run", "{elf}", "--store", "{dir}/s0", "--every", "abc"], "--every"),
    ("run-every-negative", ["run", "{elf}", "--store", "{dir}/s0", "--every", "-5"], "--every"),
    ("run-every-ms-0", ["run", "{elf}", "--store", "{dir}/s0", "--every-ms", "0"], "--every-ms"),
    ("run-every-ms-nan", ["run", "{elf}", "--store", "{dir}/s0", "--every-ms", "nan"], "-ms"),
    ("run-every-ms-inf", ["run", "{elf}", "--store", "{dir}/s0", "--every-ms", "inf"], "-ms"),
    ("run-every-without-store", ["run", "{elf}", "--every", "1k"], "store"),
    ("run-ram-negative", ["run", "{elf}", "--ram", "-1"], "--ram"),
    ("run-ram-zero", ["run", "{elf}", "--ram", "0"], "--ram"),
    ("run-ram-garbage", ["run", "{elf}", "--ram", "16Q"], "--ram"),
    ("run-ram-too-small", ["run", "{elf}", "--ram", "1"], "ram"),
    ("run-ram-absurd", ["run", "{elf}", "--ram", "999999G"], "ram"),
    ("run-granularity-0", ["run", "{elf}", "--granularity", "0"], "--granularity"),
    ("run-granularity-abc", ["run", "{elf}", "--granularity", "abc"], "--granularity"),
    ("run-strategy-bogus", ["run", "{elf}", "--strategy", "bogus"], "--strategy"),
    ("run-max-instructions-0", ["run", "{elf}", "--max-instructions", "0"], "--max-instructions"),
    ("run-store-is-file", ["run", "{elf}", "--store", "{file}", "--every", "1M"], ""),
    ("run-store-not-a-store", ["run", "{elf}", "--store", "{junk}", "--every", "1M"], "store"),
    ("run-store-nonempty-dir", ["run", "{elf}", "--store", "{dir}/full", "--every", "1M"], ""),
    ("run-summary-unwritable", ["run", "{elf}", "--summary-json", "{file}/x.json"], ""),
    ("run-summary-is-dir", ["run", "{elf}", "--summary-json", "{empty}"], ""),
    ("run-summary-missing-dir", ["run", "{elf}", "--summary-json", "{dir}/none/x.json"],
     "does not exist"),
    ("restore-summary-missing-dir", ["restore", "{store}", "--summary-json", "{dir}/none/x.json"],
     "does not exist"),
    ("run-unknown-option", ["run", "{elf}", "--frobnicate"], "frobnicate"),
    ("restore-missing", ["restore", "{dir}/nothing"], "does not exist"),
    ("restore-empty-dir", ["restore", "{empty}"], "store"),
    ("restore-file", ["restore", "{file}"], "archive"),  # a file is taken for an export
    ("restore-junk", ["restore", "{junk}"], "store"),
    ("restore-no-checkpoints", ["restore", "{dir}/emptystore"], "checkpoint"),
    ("restore-unknown-id", ["restore", "{store}", "--checkpoint", "999"], "999"),
    ("restore-id-0", ["restore", "{store}", "--checkpoint", "0"], "no checkpoint 0"),
    ("restore-id-abc", ["restore", "{store}", "--checkpoint", "abc"], "tag 'abc'"),
    ("restore-every-0", ["restore", "{store}", "--every", "0"], "--every"),
    ("restore-granularity-0", ["restore", "{store}", "--granularity", "0"], "--granularity"),
    ("inspect-missing", ["inspect", "{dir}/nothing"], "does not exist"),
    ("inspect-file", ["inspect", "{file}"], "store"),
    ("inspect-empty-dir", ["inspect", "{empty}"], "store"),
    ("inspect-junk", ["inspect", "{junk}"], "store"),
    ("inspect-plot-unwritable", ["inspect", "{store}", "--plot", "{file}/x.png"], ""),
    ("gc-missing", ["gc", "{dir}/nothing", "--keep", "1"], "does not exist"),
    ("gc-keep-negative", ["gc", "{store}", "--keep", "-1"], "--keep"),
    ("gc-keep-abc", ["gc", "{store}", "--keep", "abc"], "--keep"),
    ("gc-no-keep", ["gc", "{store}"], "--keep"),
    ("gc-junk", ["gc", "{junk}", "--keep", "1"], "store"),
    ("verify-missing", ["verify", "{dir}/nothing"], "does not exist"),
    ("verify-file", ["verify", "{file}"], "store"),
    ("verify-junk", ["verify", "{junk}"], "store"),
    ("verify-unknown-id", ["verify", "{store}", "--checkpoint", "999"], "999"),
    ("verify-id-abc", ["verify", "{store}", "--checkpoint", "abc"], "--checkpoint"),
    ("bench-bogus-option", ["bench", "--no-such-option"], "no-such-option"),
    ("bench-report-only-missing", ["bench", "--report-only", "--out", "{dir}/nobench"],
     "results.json"),
    ("bench-report-only-not-json", ["bench", "--report-only", "--out", "{dir}/badbench"],
     "not json"),
    ("bench-report-only-foreign", ["bench", "--report-only", "--out", "{dir}/otherbench"],
     "does not hold the results"),
    ("unknown-command", ["frobnicate"], "frobnicate"),
]


@pytest.fixture(scope="module")
def doors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("doors")
    elf = component("probe")
    (d / "bad.c").write_text("this is not C\n")
    (d / "ok.c").write_text("int main(void) { return 0; }\n")
    (d / "file").write_text("just a file\n")
    (d / "trunc.elf").write_bytes(elf.read_bytes()[:100])
    (d / "empty").mkdir()
    (d / "full").mkdir()
    (d / "full" / "something").write_text("x")
    for name, text in (("badbench", '{"summary": '), ("otherbench", '{"summary": 1}')):
        (d / name).mkdir()
        (d / name / "results.json").write_text(text)
    junk = d / "junk"
    (junk / "packs").mkdir(parents=True)
    (junk / "store.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    Store.create(d / "emptystore").close()
    store = d / "store"
    proc = rtcr("run", str(elf), "--store", str(store), "--every", "20k")
    assert proc.returncode == 0, proc.stderr
    return {"elf": str(elf), "store": str(store), "dir": str(d), "file": str(d / "file"),
            "empty": str(d / "empty"), "junk": str(junk), "src": str(d / "ok.c")}


@pytest.mark.parametrize(("argv", "words"), [pytest.param(a, w, id=n) for n, a, w in CASES])
def test_bad_input_is_one_clear_line(doors: dict[str, str], argv: list[str], words: str) -> None:
    proc = rtcr(*[a.format(**doors) for a in argv], timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode != 0, (proc.stdout[-300:], proc.stderr)
    verdicts = [line for line in proc.stderr.splitlines()
                if line.startswith(("rtcr: error:", "Error:", "rtcr: "))]
    assert len(verdicts) == 1, proc.stderr
    assert words.lower() in verdicts[0].lower(), verdicts[0]
    if argv[0] != "cc":  # only a compile may add diagnostics
        noise = [line for line in proc.stderr.splitlines()
                 if line.strip() and line not in verdicts
                 and not line.startswith(("Usage:", "Try '"))]
        assert noise == [], proc.stderr


def test_the_store_survives_the_bad_input(doors: dict[str, str]) -> None:
    """After all that (gc/verify with bad options included) the store is intact."""
    proc = rtcr("verify", doors["store"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
