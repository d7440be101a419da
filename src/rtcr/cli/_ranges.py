"""Checkpoint ids as a person reads many of them: ``1–320, 322, 400–402``."""

from __future__ import annotations

from collections.abc import Iterable


def id_ranges(ids: Iterable[int]) -> str:
    """Sorted ids with consecutive runs joined by an en dash; ``none`` for no ids."""
    runs: list[list[int]] = []
    for cid in sorted(set(ids)):
        if runs and cid == runs[-1][1] + 1:
            runs[-1][1] = cid
        else:
            runs.append([cid, cid])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs) or "none"
