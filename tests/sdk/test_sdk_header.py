"""rtcr.h repeats rtcr.abi's numbers; both must agree."""

from __future__ import annotations

import re

from rtcr import abi, sdk

DEFINE = re.compile(r"^#define\s+(RTCR_\w+)\s+\(?(-?\w+)L?\)?", re.MULTILINE)


def _defines() -> dict[str, int]:
    out: dict[str, int] = {}
    for name, value in DEFINE.findall(sdk.HEADER.read_text()):
        try:
            out[name] = int(value.rstrip("UL"), 0)
        except ValueError:
            continue
    return out


def test_syscall_numbers_agree() -> None:
    d = _defines()
    header = {k[len("RTCR_SYS_") :]: v for k, v in d.items() if k.startswith("RTCR_SYS_")}
    assert header == {s.name: s.value for s in abi.Syscall}


def test_error_codes_agree() -> None:
    d = _defines()
    header = {k[len("RTCR_") :]: v for k, v in d.items() if re.fullmatch(r"RTCR_E[A-Z]+", k)}
    assert header == {e.name: e.value for e in abi.Errno}


def test_fault_types_and_flags_agree() -> None:
    d = _defines()
    for t in abi.FaultTypeCode:
        assert d[f"RTCR_FAULT_{t.name}"] == t.value
    assert d["RTCR_W"] == abi.ATTACH_WRITEABLE
    assert d["RTCR_X"] == abi.ATTACH_EXECUTABLE
    assert d["RTCR_ANYWHERE"] == abi.ATTACH_ANYWHERE
    assert d["RTCR_ADDRESS_SPACE"] == abi.ADDRESS_SPACE_SELECTOR
    assert d["RTCR_SEAL_REVOKE"] == abi.SEAL_REVOKE
    assert d["RTCR_ROM_NAME_MAX"] == abi.ROM_NAME_MAX
    assert d["RTCR_ABI_VERSION"] == abi.ABI_VERSION


def test_pd_session_numbers_agree() -> None:
    d = _defines()
    assert d["RTCR_QUOTA_RAM"] == abi.QUOTA_RAM
    assert d["RTCR_QUOTA_CAPS"] == abi.QUOTA_CAPS
    assert {q.name: q.value for q in abi.PdQuota} == {
        k[len("RTCR_PD_"):]: v for k, v in d.items()
        if k.startswith("RTCR_PD_") and k.endswith(("_LIMIT", "_USED"))}
    assert d["RTCR_PD_SESSION_RAM"] == abi.PD_SESSION_RAM_QUOTA
    assert d["RTCR_PD_SESSION_CAPS"] == abi.PD_SESSION_CAP_QUOTA
    assert d["RTCR_PD_LABEL_MAX"] == abi.PD_LABEL_MAX
    assert d["RTCR_STACK_AREA_BASE"] == abi.STACK_AREA_BASE
    assert d["RTCR_STACK_AREA_SIZE"] == abi.STACK_AREA_SIZE


def test_sleep_limit_agrees() -> None:
    text = sdk.HEADER.read_text()
    assert "#define RTCR_SLEEP_MAX_US ((1UL << 40) - 1)" in text
    assert abi.SLEEP_MAX_US == (1 << 40) - 1


def test_header_declares_the_guest_api() -> None:
    text = sdk.HEADER.read_text()
    for decl in (
        "void  rtcr_exit(int code)",
        "void  rtcr_log(const char *line)",
        "int   rtcr_printf(const char *fmt, ...)",
        "long  rtcr_ram_alloc(unsigned long size)",
        "long  rtcr_ram_free(long ds)",
        "long  rtcr_ram_seal(long ds)",
        "long  rtcr_rm_create(unsigned long size)",
        "long  rtcr_rm_dataspace(long rm)",
        "long  rtcr_attach(long rm, long ds, unsigned long size, unsigned long offset,",
        "long  rtcr_detach(long rm, unsigned long at)",
        "long  rtcr_fault_handler(long rm, long sigctx)",
        "long  rtcr_fault(long rm, struct rtcr_fault *f)",
        "long  rtcr_signal_context(void)",
        "long  rtcr_signal_wait(void)",
        "long  rtcr_signal_submit(long ctx)",
        "long  rtcr_thread_create(void (*entry)(void *), void *arg, unsigned long stack_size)",
        "long  rtcr_thread_join(long tid)",
        "void  rtcr_thread_exit(void)",
        "unsigned long rtcr_time_us(void)",
        "long  rtcr_sleep_us(unsigned long us)",
        "void  rtcr_yield(void)",
        "long  rtcr_ram_avail(void)",
        "long  rtcr_caps_avail(void)",
        "struct rtcr_fault {",
        "long  rtcr_ram_seal_flags(long ds, unsigned flags)",
        "long  rtcr_ds_size(long ds)",
        "long  rtcr_rm_destroy(long rm)",
        "long  rtcr_rom_open(const char *name)",
        "long  rtcr_signal_receiver(void)",
        "long  rtcr_signal_context_at(long receiver)",
        "long  rtcr_signal_wait_at(long receiver)",
        "long  rtcr_thread_self(void)",
        "long  rtcr_thread_kill(long tid)",
        "void **rtcr_thread_words(void)",
    ):
        assert decl in text, decl


def test_sdk_files_exist() -> None:
    for p in (sdk.HEADER, sdk.LINKER_SCRIPT, sdk.CRT0, *sdk.LIBC_SOURCES, *sdk.CXX_SOURCES,
              *sdk.GENODE_SOURCES):
        assert p.is_file(), p


GENODE_ENUM = re.compile(r"enum : long \{(.*?)\};", re.DOTALL)

#: rtcr/genode.h's short names that are not rtcr.h's name without the prefix.
GENODE_NAME_IN_RTCR_H = {"ATTACH_W": "W", "ATTACH_X": "X"}


def test_the_genode_apis_copy_of_the_numbers_agrees_with_rtcr_h() -> None:
    # rtcr/genode.h repeats rtcr.h's numbers (the Genode headers do not include rtcr.h).
    text = (sdk.GENODE_INCLUDE_DIR / "rtcr" / "genode.h").read_text()
    (block,) = GENODE_ENUM.findall(text)
    numbers = {name: int(value) for name, value in re.findall(r"(\w+)\s*=\s*(-?\d+)", block)}
    assert numbers
    d = _defines()
    assert {name: d[f"RTCR_{GENODE_NAME_IN_RTCR_H.get(name, name)}"] for name in numbers} == \
        numbers


def test_the_sdk_ships_no_prebuilt_object_or_library() -> None:
    # libsupc++, libgcc_eh and libgcc come from the installed compiler (toolchain.py).
    built = [p for p in sdk.SDK_DIR.rglob("*") if p.suffix in (".a", ".o", ".so")]
    assert built == []
