"""Shared fixtures for the core tests."""

from __future__ import annotations

import pytest

from rtcr.core import Core, ProtectionDomain


@pytest.fixture
def core() -> Core:
    return Core(ram_size=16 << 20)


@pytest.fixture
def pd(core: Core) -> ProtectionDomain:
    return core.create_pd("app", ram_quota=8 << 20, cap_quota=100)
