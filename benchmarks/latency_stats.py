"""Percentiles and verdicts of the latency benchmark (see :mod:`benchmarks.latency`)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

# ---------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1), linear interpolation between order statistics."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> tuple[int, float, float, float]:
    if not values:
        return 0, float("nan"), float("nan"), float("nan")
    return len(values), statistics.median(values), percentile(values, 0.95), max(values)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"
