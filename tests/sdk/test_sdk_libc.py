"""The SDK's libc (printf family, string functions, rtcr_printf line
splitting), run for real on an emulated CPU by the mini runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from sdk_minirun import run
from sdk_support import needs_cc

from rtcr.toolchain import compile_component

pytestmark = needs_cc

# (format, C arguments, expected text)
CASES: list[tuple[str, str, str]] = [
    ("%d", "42", "42"),
    ("%d", "-42", "-42"),
    ("%i", "0", "0"),
    ("%5d|", "42", "   42|"),
    ("%-5d|", "42", "42   |"),
    ("%05d", "-42", "-0042"),
    ("%+d", "7", "+7"),
    ("%u", "4294967295u", "4294967295"),
    ("%x", "255", "ff"),
    ("%X", "255", "FF"),
    ("%08x", "0xbeef", "0000beef"),
    ("%#x", "255", "0xff"),
    ("%o", "8", "10"),
    ("%lx", "0x123456789abcdefUL", "123456789abcdef"),
    ("%ld", "-9223372036854775807L - 1", "-9223372036854775808"),
    ("%lu", "18446744073709551615UL", "18446744073709551615"),
    ("%llx", "0xffffffffffffffffULL", "ffffffffffffffff"),
    ("%lld", "-1LL", "-1"),
    ("%llu", "12345678901234ULL", "12345678901234"),
    ("%zu", "(size_t)99", "99"),
    ("%016lx", "0xabcUL", "0000000000000abc"),
    ("%s", '"text"', "text"),
    ("%8s|", '"ab"', "      ab|"),
    ("%-8s|", '"ab"', "ab      |"),
    ("%.3s", '"abcdef"', "abc"),
    ("%s", "(char *)0", "(null)"),
    ("%c%c", "'o', 'k'", "ok"),
    ("%3c|", "'z'", "  z|"),
    ("%p", "(void *)0x1234", "0x1234"),
    ("100%%", "0", "100%"),
    ("%*d|", "6, 12", "    12|"),
    ("%.5d", "42", "00042"),
    ("%hhd", "257", "1"),
    ("%hd", "65537", "1"),
    ("a%sb%dc", '"-", 3', "a-b3c"),
]


def _c_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


PROGRAM = r"""
#include <rtcr.h>

static char buf[256];

static void check(const char *got, const char *want, int n, int line)
{
    if (strcmp(got, want) != 0 || n != (int)strlen(want))
        rtcr_printf("FAIL %d: got '%s' (%d) want '%s'\n", line, got, n, want);
}

int main(void)
{
    int n;
@CASES@
    /* truncation: returns the untruncated length, always terminates */
    n = snprintf(buf, 4, "%s", "abcdef");
    if (n != 6 || strcmp(buf, "abc") != 0)
        rtcr_printf("FAIL truncation\n");
    n = snprintf(buf, 0, "%d", 12345);
    if (n != 5)
        rtcr_printf("FAIL size 0\n");

    /* string functions */
    char s[32];
    strcpy(s, "foo");
    strcat(s, "bar");
    if (strcmp(s, "foobar") || strlen(s) != 6 || strncmp(s, "foobaz", 5)
        || !strncmp(s, "foobaz", 6) || strchr(s, 'b') != s + 3 || strchr(s, 'q')
        || strchr(s, 0) != s + 6 || strcmp("a", "b") >= 0 || strcmp("b", "a") <= 0)
        rtcr_printf("FAIL strings\n");
    strncpy(s, "xy", 5);
    if (s[0] != 'x' || s[2] || s[4] || s[5] != 'r')
        rtcr_printf("FAIL strncpy\n");
    unsigned char m[100];
    for (int i = 0; i < 100; i++)
        m[i] = (unsigned char)i;
    memmove(m + 10, m, 50);  /* overlapping forward */
    if (m[10] != 0 || m[59] != 49 || m[60] != 60)
        rtcr_printf("FAIL memmove fwd\n");
    memmove(m, m + 10, 50);  /* overlapping backward */
    if (m[0] != 0 || m[49] != 49)
        rtcr_printf("FAIL memmove back\n");
    memset(m + 3, 0xab, 37);
    if (m[2] != 2 || m[3] != 0xab || m[39] != 0xab || m[40] != 40)
        rtcr_printf("FAIL memset\n");
    memcpy(m + 1, "hello world, long enough", 24);
    if (memcmp(m + 1, "hello world, long enough", 24) || memcmp("a", "b", 1) >= 0)
        rtcr_printf("FAIL memcpy/memcmp\n");

    /* PRNG determinism */
    rtcr_rand_seed(1);
    uint64_t a = rtcr_rand();
    rtcr_rand_seed(1);
    if (rtcr_rand() != a || a != 1082269761UL)
        rtcr_printf("FAIL rand %lu\n", a);

    /* rtcr_printf line handling */
    rtcr_printf("part one, ");
    rtcr_printf("part two\nsecond line\n");
    rtcr_printf("two\nlines\n");
    rtcr_printf("\n");
    rtcr_printf("partial then flush");
    rtcr_flush();
    rtcr_log("plain log");
    rtcr_printf("left over at exit");
    return 0;
}
"""


@pytest.fixture(scope="module")
def libc_run(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    body = []
    for i, (fmt, args, want) in enumerate(CASES):
        body.append(
            f"\tn = snprintf(buf, sizeof(buf), {_c_string(fmt)}, {args});\n"
            f"\tcheck(buf, {_c_string(want)}, n, {i});"
        )
    d = tmp_path_factory.mktemp("libc")
    src = d / "libc_test.c"
    src.write_text(PROGRAM.replace("@CASES@", "\n".join(body)))
    elf = compile_component([src], d / "libc_test.elf", extra_flags=["-Wno-format"])
    result = run(Path(elf))
    assert result.error is None
    assert result.exit_code == 0
    return result.lines


def test_formatting(libc_run: list[str]) -> None:
    fails = [line for line in libc_run if line.startswith("FAIL")]
    assert fails == []


def test_line_splitting(libc_run: list[str]) -> None:
    assert libc_run == [
        "part one, part two",
        "second line",
        "two",
        "lines",
        "",
        "partial then flush",
        "plain log",
        "left over at exit",
    ]


def test_main_with_argc_argv(tmp_path: Path) -> None:
    src = tmp_path / "args.c"
    src.write_text(
        "#include <rtcr.h>\n"
        "int main(int argc, char **argv, char **envp) {\n"
        '  rtcr_printf("argc %d argv[0] %p envp[0] %p\\n", argc, (void *)argv[0],\n'
        "              (void *)envp[0]);\n"
        "  return 7;\n}\n"
    )
    result = run(compile_component([src], tmp_path / "args.elf"))
    assert result.lines == ["argc 0 argv[0] 0x0 envp[0] 0x0"]
    assert result.exit_code == 7


def test_stack_alignment(tmp_path: Path) -> None:
    """Calls made by main see rsp % 16 == 8 at entry (the SysV ABI), so SSE
    spills with movaps are safe."""
    src = tmp_path / "align.c"
    src.write_text(
        "#include <rtcr.h>\n"
        "long probe(void);\n"
        '__asm__(".globl probe\\nprobe:\\n mov %rsp, %rax\\n and $15, %rax\\n ret\\n");\n'
        "int main(void) {\n"
        '  rtcr_printf("%ld\\n", probe());\n'
        "  return 0;\n}\n"
    )
    result = run(compile_component([src], tmp_path / "align.elf"))
    assert result.lines == ["8"]
