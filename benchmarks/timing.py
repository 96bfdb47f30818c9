"""Interleaved timing: ours and the reference alternate, so machine noise hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(
    functions: dict[str, Callable[[], object]], budget_s: float = 0.5
) -> dict[str, float]:
    """Median wall time in ms of each function, calls interleaved round-robin.

    After a warm-up, the number of rounds is chosen so the whole comparison takes about
    ``budget_s`` seconds (at least 20 rounds): fast functions get many more samples.
    """
    start = time.perf_counter()
    for function in functions.values():
        function()
        function()
    warm_up_s = (time.perf_counter() - start) / 2
    repeats = max(20, min(2000, int(budget_s / max(warm_up_s, 1e-6))))
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            samples[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(times) for name, times in samples.items()}
