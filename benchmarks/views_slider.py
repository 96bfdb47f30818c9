"""Part d of :mod:`benchmarks.views`: slider latency on the feature-map view against the image
view."""

from __future__ import annotations

import random
from typing import Any

from .latency_drag import VIEWPORT, Network, measure_drag
from .latency_stats import summary
from .views_cases import IMAGE, verdict

TARGET_DRAG_RATIO = 1.5


# ---------------------------------------------------------------- d. slider latency


def slider_latency(browser: Any, url: str, rounds: int, values: int) -> dict[str, list[Any]]:
    """Standard dropout's p dragged on the image and feature-map views, alternating, in one
    context; each view's latencies pooled over the rounds."""
    rng = random.Random(0)
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    pooled: dict[str, list[Any]] = {"image": [], "feature_maps": []}
    try:
        page = context.new_page()
        network = Network(page)
        for _ in range(rounds):
            for view in pooled:
                pooled[view].append(
                    measure_drag(page, network, url, "standard", IMAGE, values, rng, view=view)
                )
    finally:
        context.close()
    return pooled


def print_latency(pooled: dict[str, list[Any]], rounds: int) -> None:
    print(
        f"\nd. Slider input -> frame painted (ms), standard dropout's p, {IMAGE}, 1600 x 1000, "
        f"one input every 60-100 ms; {rounds} drag(s) per view alternating, one browser context"
    )
    print(
        f"target: feature-map median <= {TARGET_DRAG_RATIO:g}x the image view's median (same run); "
        "fetch = median duration of the frame requests (network + server)"
    )
    header = (
        f"{'view':<14}{'inputs':>7}{'n':>5}{'median':>8}{'p95':>8}{'max':>8}{'fetch':>8}"
        f"{'ratio':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    medians = {}
    for view, results in pooled.items():
        values = [ms for r in results for ms in r["latencies"]]
        fetches = [ms for r in results for ms in r["fetches"]]
        n, median, p95, most = summary(values)
        medians[view] = median
        ratio = median / medians["image"]
        ok = view == "image" or ratio <= TARGET_DRAG_RATIO
        inputs = sum(r["inputs"] for r in results)
        print(
            f"{view:<14}{inputs:>7}{n:>5}{median:>8.1f}{p95:>8.1f}{most:>8.1f}"
            f"{summary(fetches)[1]:>8.1f}{ratio:>7.2f}x  {verdict(ok)}"
        )
        errors = sorted({e for r in results for e in r["errors"]})
        if errors:
            print(f"    page errors: {errors}")
