"""Slider latency: a slider dragged in the page, each value timed from input to paint (see
:mod:`benchmarks.latency`)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from app.loopback import CHROMIUM, CHROMIUM_ARGS

from .latency_stats import summary, verdict

VIEWPORT = {"width": 1600, "height": 1000}
# The slider a person drags for each method, and the stretch of it they drag through.
DRAGS: dict[str, tuple[str, float, float]] = {
    "standard": ("p", 0.05, 0.95),
    "gaussian": ("p", 0.05, 0.9),
    "spatial": ("p", 0.05, 0.95),
    "cutout": ("size", 16, 320),
    "dropblock": ("p", 0.05, 0.8),
    "stochastic": ("mu", 0.02, 0.68),
}

TARGET_MEDIAN_MS = 50.0
TARGET_P95_MS = 100.0


# ---------------------------------------------------------------- slider latency

# Runs in the page: sets the slider to each value in turn, firing `input` as a drag does,
# `gaps[k]` ms apart, then `change` (the mouse released). Resolves when the last value's
# frame is painted.
DRAG_JS = """
async ({ name, values, gaps }) => {
  const slider = document.querySelector(`#params [data-param="${name}"]`);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let k = 0; k < values.length; k += 1) {
    slider.value = String(values[k]);
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    await sleep(gaps[k]);
  }
  slider.dispatchEvent(new Event("change", { bubbles: true }));
}
"""


def grid(low: float, high: float, step: float) -> list[float]:
    """Every position of a slider's step grid from ``low`` to ``high``."""
    count = round((high - low) / step)
    return [round(low + k * step, 6) for k in range(count + 1)]


def drag_values(method: str, count: int, step: float) -> list[float]:
    """``count`` distinct slider positions across the method's drag range, on the step grid."""
    _, low, high = DRAGS[method]
    values: list[float] = []
    for k in range(count):
        raw = low + (high - low) * k / max(1, count - 1)
        snapped = round(round(raw / step) * step, 6)
        if not values or snapped != values[-1]:
            values.append(snapped)
    return values


class Network:
    """Counts the page's requests in flight, to start each drag on a quiet connection."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.in_flight = 0
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, _: Any) -> None:
        self.in_flight += 1

    def _ended(self, _: Any) -> None:
        self.in_flight -= 1

    def settle(self, quiet_ms: int = 400, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
            if self.in_flight > 0:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_ms / 1000:
                return


def format_value(value: float) -> str:
    """As static/js/state.js writes numbers into the frame key."""
    return str(int(value)) if float(value).is_integer() else repr(round(value, 6))


def measure_drag(
    page: Any,
    network: Network,
    url: str,
    method: str,
    image: str,
    count: int,
    rng: random.Random,
    view: str | None = None,
) -> dict[str, Any]:
    """One warm-up drag and one measured drag of the method's slider; ``view`` opens that view
    (``view=`` in the URL) instead of the method's first one."""
    name = DRAGS[method][0]
    opened = f"&view={view}" if view else ""
    page.goto(f"{url}/?method={method}&image={image}&play=0&i=0{opened}")
    page.wait_for_function("() => window.dropoutLab?.ready === true")
    slider = page.locator(f'#params [data-param="{name}"]')
    low, high, step = (float(slider.get_attribute(a) or 0) for a in ("min", "max", "step"))
    values = drag_values(method, count, step)
    # A short warm-up drag on other positions (so the measured ones are not cached yet),
    # then the measured drag; each starts once the page's own requests (the prefetch of the
    # next iterations, the statistics over 100 iterations) are answered.
    others = [value for value in grid(low, high, step) if value not in set(values)]
    warm = others[:: max(1, len(others) // 6)][:6]
    probe: dict[str, Any] = {}
    for sweep in (warm, values):
        network.settle()
        page.evaluate(
            """() => {
                window.dropoutLab.latencies.length = 0;
                window.dropoutLab.painted = 0;
                performance.clearResourceTimings();
            }"""
        )
        gaps = [rng.uniform(60, 100) for _ in sweep]
        page.evaluate(DRAG_JS, {"name": name, "values": sweep, "gaps": gaps})
        last = f"{name}={format_value(sweep[-1])}"
        page.wait_for_function(
            "(last) => (window.dropoutLab.lastFrame?.key ?? '').split('|')[3]"
            ".split('&').includes(last)",
            arg=last,
            timeout=30_000,
        )
        page.wait_for_timeout(200)  # the last latency is recorded one frame after the paint
        probe = page.evaluate("() => structuredClone(window.dropoutLab)")
    # How long the frame requests of the drag took (network and server), from Resource Timing.
    fetches = page.evaluate(
        """() => performance.getEntriesByType("resource")
            .filter((e) => e.name.includes("/api/frames?") && e.name.endsWith("&count=1"))
            .map((e) => e.duration)"""
    )
    return {
        "method": method,
        "slider": name,
        "inputs": len(values),
        "painted": probe["painted"],
        "latencies": list(probe["latencies"]),
        "fetches": list(fetches),
        "errors": list(probe["errors"]),
    }


def slider_latency(
    url: str, methods: Sequence[str], image: str, count: int, seed: int
) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed)
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            network = Network(page)
            for method in methods:
                results.append(measure_drag(page, network, url, method, image, count, rng))
        finally:
            browser.close()
    return results


def print_latency(results: list[dict[str, Any]], image: str) -> None:
    print(
        f"\nSlider input -> frame painted (ms) on image={image}, measured in the page; "
        "one input every 60-100 ms"
    )
    print(
        f"targets: median <= {TARGET_MEDIAN_MS:.0f} ms, p95 <= {TARGET_P95_MS:.0f} ms; "
        "n = frames painted after an input (inputs arriving while a frame is on its way "
        "are coalesced into the next one); fetch = median time of the frame requests "
        "(network + server), the rest is decoding, painting and waiting for the display frame"
    )
    header = (
        f"{'method':<12}{'slider':>7}{'inputs':>8}{'n':>5}"
        f"{'median':>9}{'p95':>9}{'max':>9}{'fetch':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    everything: list[float] = []
    for result in results:
        latencies = result["latencies"]
        everything += latencies
        n, median, p95, most = summary(latencies)
        ok = median <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS
        print(
            f"{result['method']:<12}{result['slider']:>7}{result['inputs']:>8}{n:>5}"
            f"{median:>9.1f}{p95:>9.1f}{most:>9.1f}{summary(result['fetches'])[1]:>8.1f}"
            f"  {verdict(ok)}"
        )
        if result["errors"]:
            print(f"    page errors: {result['errors']}")
    n, median, p95, most = summary(everything)
    ok = median <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS
    inputs = sum(result["inputs"] for result in results)
    print("-" * len(header))
    fetch = summary([ms for result in results for ms in result["fetches"]])[1]
    print(
        f"{'overall':<12}{'':>7}{inputs:>8}{n:>5}{median:>9.1f}{p95:>9.1f}{most:>9.1f}"
        f"{fetch:>8.1f}  {verdict(ok)}"
    )
