"""Small statistics helpers (no numpy needed)."""

from __future__ import annotations

import math
from collections.abc import Iterable


def _clean(values: Iterable[float | None]) -> list[float]:
    return sorted(float(v) for v in values if v is not None and not math.isnan(float(v)))


def median(values: Iterable[float | None]) -> float | None:
    data = _clean(values)
    if not data:
        return None
    mid = len(data) // 2
    return data[mid] if len(data) % 2 else (data[mid - 1] + data[mid]) / 2


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """Linear-interpolated percentile, q in [0, 100]."""
    data = _clean(values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def spread(values: Iterable[float | None]) -> dict[str, float | None]:
    """Median, min, max and count of repeated measurements."""
    data = _clean(values)
    return {"median": median(data), "min": data[0] if data else None,
            "max": data[-1] if data else None, "n": float(len(data))}


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def mean(values: Iterable[float | None]) -> float | None:
    data = _clean(values)
    return sum(data) / len(data) if data else None
