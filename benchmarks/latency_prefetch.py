"""Slider prefetch: a pointer drag, the page's prefetch against bare fetches (see
:mod:`benchmarks.latency`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from app.loopback import CHROMIUM, CHROMIUM_ARGS

from .latency_drag import DRAGS, VIEWPORT, Network
from .latency_stats import summary, verdict

TARGET_DISPLAY_FRAME_MS = 1000 / 60  # the prefetch's aim: a drag paints within one display frame


# ---------------------------------------------------------------- slider prefetch

# Runs in the page after a drag: the drag's frame requests (count=1, from Resource Timing), each
# fetched again on its own, one after the other; the time of each to its last byte (ms).
BARE_FETCH_JS = """
async (most) => {
  const urls = [...new Set(performance.getEntriesByType("resource")
    .map((e) => e.name)
    .filter((name) => name.includes("/api/frames?") && /[?&]count=1(&|$)/.test(name)))];
  const times = [];
  for (const url of urls.slice(0, most)) {
    const began = performance.now();
    const response = await fetch(url, { cache: "no-store" });
    await response.arrayBuffer();
    times.push(performance.now() - began);
  }
  return times;
}
"""


def pointer_drag(
    page: Any, name: str, low: float, high: float, moves: int, rng: random.Random
) -> None:
    """Mouse down on the slider ``name`` at ``low``, ``moves`` moves to ``high`` 30-60 ms
    apart, mouse up; the values are placed on the track as the browser draws it."""
    slider = page.locator(f'#params [data-param="{name}"]')
    box = slider.bounding_box()
    least, most = (float(slider.get_attribute(a) or 0) for a in ("min", "max"))
    thumb = 16  # Chromium's thumb: its centre runs from thumb / 2 to width - thumb / 2
    track = box["width"] - thumb

    def x_of(value: float) -> float:
        return float(box["x"] + thumb / 2 + track * (value - least) / (most - least))

    y = box["y"] + box["height"] / 2
    page.mouse.move(x_of(low), y)
    page.mouse.down()
    page.wait_for_timeout(rng.uniform(30, 60))
    for k in range(1, moves + 1):
        page.mouse.move(x_of(low + (high - low) * k / moves), y)
        page.wait_for_timeout(rng.uniform(30, 60))
    page.mouse.up()


def measure_prefetch_drag(
    page: Any,
    network: Network,
    url: str,
    method: str,
    image: str,
    moves: int,
    prefetch: bool,
    rng: random.Random,
) -> dict[str, Any]:
    """One pointer drag of the method's slider on a freshly loaded page, prefetch on or off."""
    name, low, high = DRAGS[method]
    switch = "" if prefetch else "&prefetch=0"
    page.goto(f"{url}/?method={method}&image={image}&play=0&i=0{switch}")
    page.wait_for_function("() => window.dropoutLab?.ready === true")
    network.settle()
    page.evaluate(
        """() => {
            window.dropoutLab.latencies.length = 0;
            window.dropoutLab.painted = 0;
            performance.clearResourceTimings();
        }"""
    )
    pointer_drag(page, name, low, high, moves, rng)
    last = page.locator(f'#params [data-param="{name}"]').input_value()
    page.wait_for_function(
        """([name, last]) => {
            const key = window.dropoutLab.lastFrame?.key ?? "";
            const value = new URLSearchParams(key.split("|")[3] ?? "").get(name);
            return value !== null && Number(value) === Number(last);
        }""",
        arg=[name, last],
        timeout=30_000,
    )
    page.wait_for_timeout(200)  # the last latency is recorded one frame after the paint
    probe = page.evaluate("() => structuredClone(window.dropoutLab)")
    network.settle()
    bare = page.evaluate(BARE_FETCH_JS, 40)
    return {
        "method": method,
        "slider": name,
        "prefetch": prefetch,
        "painted": probe["painted"],
        "latencies": list(probe["latencies"]),
        "cached": list(probe["cached"]),
        "bare": list(bare),
        "stats": dict(probe["prefetch"]),
        "errors": list(probe["errors"]),
    }


def prefetch_latency(
    url: str, methods: Sequence[str], image: str, moves: int, rounds: int, seed: int
) -> list[dict[str, Any]]:
    """Each method's pointer drag, prefetch off then on (on then off in odd rounds)."""
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed)
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            network = Network(page)
            for round_ in range(rounds):
                for method in methods:
                    for prefetch in (False, True) if round_ % 2 == 0 else (True, False):
                        results.append(
                            measure_prefetch_drag(
                                page, network, url, method, image, moves, prefetch, rng
                            )
                        )
        finally:
            browser.close()
    return results


def print_prefetch(results: list[dict[str, Any]], image: str, moves: int, rounds: int) -> None:
    print(
        f"\nSlider prefetch: pointer down on the slider, {moves} moves 30-60 ms apart, mouse up; "
        f"image={image}, {rounds} drag(s) per method and mode, alternating"
    )
    print(
        f"slider input -> frame painted (ms), measured in the page, prefetch off (?prefetch=0) "
        f"and on; bare = median time of a bare fetch of the same frames in the same page "
        f"(to the last byte, one at a time, after the drag); x bare = median / bare; cached = "
        f"share of the painted inputs whose frame was in the cache at the input; asked, abort = "
        f"prefetch requests started and aborted; target: "
        f"median with prefetch <= one display frame ({TARGET_DISPLAY_FRAME_MS:.1f} ms)"
    )
    header = (
        f"{'method':<12}{'prefetch':>9}{'n':>5}{'median':>8}{'p95':>8}{'max':>8}{'bare':>7}"
        f"{'x bare':>8}{'p95 x':>7}{'cached':>8}{'asked':>7}{'abort':>7}"
    )
    print(header)
    print("-" * len(header))
    pooled: dict[bool, dict[str, list[float]]] = {
        mode: {"latencies": [], "bare": []} for mode in (False, True)
    }
    for method in dict.fromkeys(result["method"] for result in results):
        for mode in (False, True):
            runs = [r for r in results if r["method"] == method and r["prefetch"] == mode]
            latencies = [ms for r in runs for ms in r["latencies"]]
            bare = [ms for r in runs for ms in r["bare"]]
            pooled[mode]["latencies"] += latencies
            pooled[mode]["bare"] += bare
            n, median, p95, most = summary(latencies)
            fetch = summary(bare)[1]
            cached = [hit for r in runs for hit in r["cached"]]
            share = sum(cached) / len(cached) if cached else float("nan")
            asked = sum(r["stats"].get("started", 0) for r in runs)
            aborted = sum(r["stats"].get("aborted", 0) for r in runs)
            print(
                f"{method:<12}{'on' if mode else 'off':>9}{n:>5}{median:>8.1f}{p95:>8.1f}"
                f"{most:>8.1f}{fetch:>7.1f}{median / fetch:>7.2f}x{p95 / fetch:>6.2f}x"
                f"{share:>8.0%}{asked:>7}{aborted:>7}"
            )
            errors = sorted({e for r in runs for e in r["errors"]})
            if errors:
                print(f"    page errors: {errors}")
    print("-" * len(header))
    medians = {}
    for mode in (False, True):
        n, median, p95, most = summary(pooled[mode]["latencies"])
        fetch = summary(pooled[mode]["bare"])[1]
        medians[mode] = (median, p95)
        print(
            f"{'overall':<12}{'on' if mode else 'off':>9}{n:>5}{median:>8.1f}{p95:>8.1f}"
            f"{most:>8.1f}{fetch:>7.1f}{median / fetch:>7.2f}x{p95 / fetch:>6.2f}x"
        )
    (off_median, off_p95), (on_median, on_p95) = medians[False], medians[True]
    ok = on_median <= TARGET_DISPLAY_FRAME_MS
    print(
        f"prefetch on / off: median {on_median / off_median:.2f}x, p95 {on_p95 / off_p95:.2f}x; "
        f"median with prefetch {on_median:.1f} ms against one display frame "
        f"{TARGET_DISPLAY_FRAME_MS:.1f} ms: {verdict(ok)}"
    )
