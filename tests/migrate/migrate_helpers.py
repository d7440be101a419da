"""Two rtcr processes on loopback: a receiver (`rtcr serve --once`) and a migrating source."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rtcr.checkpoint import Session

RTCR = [sys.executable, "-m", "rtcr"]
SECRET = "a secret shared by both hosts, long enough\n"
TIMEOUT = 120


@dataclass(frozen=True)
class Reference:
    """The uninterrupted run: what a migrated one must add up to."""

    lines: tuple[str, ...]
    exit_code: int
    instructions: int
    digest: str


@cache
def reference(elf: Path) -> Reference:
    lines: list[str] = []
    session = Session.start(elf, log_sink=lambda component, line: lines.append(
        f"[{component.name}] {line}"))
    result = session.run()
    return Reference(tuple(lines), result.exit_code, result.instructions,
                     session.memory_digest())


@dataclass(frozen=True)
class Finished:
    returncode: int
    lines: tuple[str, ...]
    stderr: str
    summary: dict[str, Any] | None


def secret_file(directory: Path, text: str = SECRET) -> Path:
    path = directory / f"secret-{len(text)}-{abs(hash(text)) % 10**6}"
    path.write_text(text)
    return path


class Receiver:
    """`rtcr serve [--once]` on a free port (``prefix``: e.g. `ip netns exec NS`)."""

    def __init__(self, directory: Path, *, secret: Path | None = None,
                 store: Path | None = None, listen: str = "127.0.0.1:0",
                 prefix: tuple[str, ...] = (), once: bool = True) -> None:
        self.directory = directory
        self.summary_path = directory / "receiver.json"
        self.stderr_path = directory / "receiver.err"
        self.store = store or directory / "received"
        self._stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            [*prefix, *RTCR, "serve", "--listen", listen, "--store", str(self.store),
             "--secret-file", str(secret or secret_file(directory)),
             *(("--once", "--summary-json", str(self.summary_path)) if once else ())],
            stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        self.address = self._announced()

    def _announced(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"serving migrations on (\S+) into", self.stderr_path.read_text())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise AssertionError(f"rtcr serve ended: {self.stderr_path.read_text()}")
            time.sleep(0.05)
        raise AssertionError("rtcr serve did not announce its address")

    def messages(self) -> str:
        return self.stderr_path.read_text()

    def wait(self) -> Finished:
        out, _ = self.process.communicate(timeout=TIMEOUT)
        self._stderr.close()
        summary = (json.loads(self.summary_path.read_text())
                   if self.summary_path.exists() else None)
        return Finished(self.process.returncode, tuple(out.splitlines()), self.messages(),
                        summary)

    def kill(self) -> tuple[str, ...]:
        """End it now; what it printed on stdout."""
        out = ""
        if self.process.poll() is None:
            self.process.kill()
            out, _ = self.process.communicate(timeout=TIMEOUT)
        self._stderr.close()
        return tuple((out or "").splitlines())


def migrate(elf: Path, address: str, directory: Path, *args: str,
            secret: Path | None = None, command: tuple[str, ...] = (),
            prefix: tuple[str, ...] = ()) -> Finished:
    """Run ``elf`` with --migrate-to ``address`` (``args``: --migrate-at, --migrate-mode...)."""
    summary = directory / "source.json"
    summary.unlink(missing_ok=True)
    done = subprocess.run(
        [*prefix, *RTCR, *(command or ("run", str(elf))), "--migrate-to", address,
         "--secret-file", str(secret or secret_file(directory)), "--summary-json",
         str(summary), *args],
        capture_output=True, text=True, timeout=TIMEOUT)
    return Finished(done.returncode, tuple(done.stdout.splitlines()), done.stderr,
                    json.loads(summary.read_text()) if summary.exists() else None)


def assert_continued(ref: Reference, source: Finished, receiver: Finished) -> None:
    """The receiver continued exactly where the source stopped, to the same end."""
    assert source.returncode == 0, source.stderr
    assert source.summary is not None and receiver.summary is not None
    assert source.summary["outcome"] == "migrated"
    assert source.lines + receiver.lines == ref.lines
    assert receiver.returncode == ref.exit_code
    assert receiver.summary["instructions"] == ref.instructions
    assert receiver.summary["memory_digest"] == ref.digest


def assert_ran_here(ref: Reference, source: Finished) -> None:
    """The component ran to its end at the source, as if nothing had been tried."""
    assert source.returncode == ref.exit_code, source.stderr
    assert source.lines == ref.lines
    assert source.summary is not None
    assert source.summary["instructions"] == ref.instructions
