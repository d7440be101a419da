"""A migration between two network namespaces joined by a veth pair (where the machine
allows creating them: root and a kernel with network namespaces)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from migrate_helpers import Receiver, assert_continued, migrate, reference

SUBNET = "10.213.77"


def ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str]]:
    tag = os.getpid() % 100000
    hosts = (f"rtcr-src-{tag}", f"rtcr-dst-{tag}")
    made: list[str] = []
    try:
        for name in hosts:
            done = ip("netns", "add", name)
            if done.returncode != 0:
                pytest.skip(f"cannot create network namespaces here: {done.stderr.strip()}")
            made.append(name)
        links = (f"vs{tag}", f"vd{tag}")
        done = ip("link", "add", links[0], "type", "veth", "peer", "name", links[1])
        if done.returncode != 0:
            pytest.skip(f"cannot create a veth pair here: {done.stderr.strip()}")
        for number, (name, link) in enumerate(zip(hosts, links, strict=True), start=1):
            for step in (("link", "set", link, "netns", name),
                         ("-n", name, "addr", "add", f"{SUBNET}.{number}/24", "dev", link),
                         ("-n", name, "link", "set", link, "up"),
                         ("-n", name, "link", "set", "lo", "up")):
                done = ip(*step)
                assert done.returncode == 0, done.stderr
        yield hosts
    finally:
        for name in made:
            ip("netns", "del", name)


@pytest.mark.parametrize("mode", ["stop-and-copy", "post-copy"])
def test_a_migration_crosses_network_namespaces(namespaces: tuple[str, str],
                                                example: Callable[[str], Path],
                                                tmp_path: Path, mode: str) -> None:
    source_ns, receiver_ns = namespaces
    elf = example("counter")
    receiver = Receiver(tmp_path, listen=f"{SUBNET}.2:0",
                        prefix=("ip", "netns", "exec", receiver_ns))
    try:
        source = migrate(elf, receiver.address, tmp_path, "--migrate-at", "3M",
                         "--migrate-mode", mode,
                         prefix=("ip", "netns", "exec", source_ns))
        assert_continued(reference(elf), source, receiver.wait())
    finally:
        receiver.kill()
