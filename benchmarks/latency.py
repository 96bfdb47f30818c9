"""``python -m benchmarks.latency``: what a person dragging a slider waits for, end to end.

Starts the real app (``uvicorn app.main:app`` in a child process, on a free loopback port),
opens it in headless Chromium at 1600 x 1000 with ``play=0`` and, for each image method, drags
its main slider through about 60 distinct values, one ``input`` event every 60-100 ms as a hand
does. The page itself times each slider input to the frame painted with ``performance.now()``
(``window.dropoutLab.latencies``, see static/js/main.js); this script only collects them.

Then the slider prefetch (static/js/prefetch.js), with a real pointer: for each image method, the
mouse goes down on its slider and drags it across its range in moves 30-60 ms apart (Playwright's
``page.mouse``, so the page sees trusted pointer and input events, as from a hand), once with the
prefetch on and once with it off (``prefetch=0`` in the link), alternating over the rounds. The
reference is the bare fetch of the same frames in the same run: after each drag the page fetches
the drag's frame URLs again, one at a time, and times ``fetch`` up to the last byte. The ratios
are slider-to-paint over that fetch, and prefetch on over off; the target is one display frame.

Then, without the browser: the bytes on the wire of one frame of the 512 x 512 astronaut, and the
server's time per frame (``GET /api/frames`` with ``count=1`` on a keep-alive connection).

Figures are printed next to their targets; nothing is asserted (timings are not tests).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from app.loopback import CHROMIUM, CHROMIUM_ARGS, serve

VIEWPORT = {"width": 1600, "height": 1000}

IMAGE_METHODS = ("standard", "gaussian", "spatial", "cutout", "dropblock", "stochastic")
# The slider a person drags for each method, and the stretch of it they drag through.
DRAGS: dict[str, tuple[str, float, float]] = {
    "standard": ("p", 0.05, 0.95),
    "gaussian": ("p", 0.05, 0.9),
    "spatial": ("p", 0.05, 0.95),
    "cutout": ("size", 16, 320),
    "dropblock": ("p", 0.05, 0.8),
    "stochastic": ("mu", 0.02, 0.68),
}
WIRE_METHODS = IMAGE_METHODS
SERVER_METHODS = IMAGE_METHODS

TARGET_MEDIAN_MS = 50.0
TARGET_DISPLAY_FRAME_MS = 1000 / 60  # the prefetch's aim: a drag paints within one display frame
TARGET_P95_MS = 100.0
TARGET_FRAME_BYTES = 40 * 1024
TARGET_SERVER_MS = 10.0


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


# ---------------------------------------------------------------- bytes and server time


def method_params(url: str) -> dict[str, dict[str, Any]]:
    """Each image method's parameters with their defaults, from ``/api/methods``."""
    catalog = httpx.get(f"{url}/api/methods").json()
    return {
        method["id"]: {param["name"]: param["default"] for param in method["params"]}
        for method in catalog["methods"]
        if method["image_view"]
    }


def frame_query(method: str, params: dict[str, Any], **extra: Any) -> dict[str, str]:
    query = {"method": method, "image": "astronaut", "seed": "0", "count": "1"}
    for name, value in params.items():
        query[name] = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
    query.update({key: str(value) for key, value in extra.items()})
    return query


def wire_bytes(url: str, defaults: dict[str, dict[str, Any]]) -> list[tuple[str, str, int]]:
    rows = []
    with httpx.Client(base_url=url) as client:
        for method in WIRE_METHODS:
            settings = [("default", defaults[method])]
            if "p" in defaults[method]:
                settings += [(f"p={p}", defaults[method] | {"p": p}) for p in (0.1, 0.5)]
            for label, params in settings:
                response = client.get("/api/frames", params=frame_query(method, params))
                response.raise_for_status()
                # The body as it travels (frames are not gzipped: see app/main.py).
                rows.append((method, label, response.num_bytes_downloaded))
    return rows


def print_wire(rows: list[tuple[str, str, int]]) -> None:
    print("\nBytes per frame on the wire, astronaut 512 x 512, count=1 (target <= 40 KB)")
    header = f"{'method':<12}{'setting':<10}{'bytes':>9}{'KB':>8}  verdict"
    print(header)
    print("-" * len(header))
    for method, label, size in rows:
        print(
            f"{method:<12}{label:<10}{size:>9}{size / 1024:>8.1f}  "
            f"{verdict(size <= TARGET_FRAME_BYTES)}"
        )


def server_time(
    url: str, defaults: dict[str, dict[str, Any]], repeats: int
) -> list[tuple[str, float, float]]:
    """Median and p95 wall time (ms) of ``GET /api/frames`` count=1, keep-alive, iterations vary."""
    rows = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for method in SERVER_METHODS:
            for start in range(5):  # warm-up
                client.get("/api/frames", params=frame_query(method, defaults[method], start=start))
            times = []
            for start in range(repeats):
                query = frame_query(method, defaults[method], start=start)
                began = time.perf_counter()
                response = client.get("/api/frames", params=query)
                response.read()
                times.append((time.perf_counter() - began) * 1e3)
                response.raise_for_status()
            rows.append((method, statistics.median(times), percentile(times, 0.95)))
    return rows


def print_server(rows: list[tuple[str, float, float]], repeats: int) -> None:
    print(
        f"\nServer time per frame: GET /api/frames count=1 on the astronaut, from Python "
        f"(httpx, keep-alive, {repeats} repeats, default parameters; target median <= "
        f"{TARGET_SERVER_MS:.0f} ms)"
    )
    header = f"{'method':<12}{'median':>9}{'p95':>9}  verdict"
    print(header)
    print("-" * len(header))
    for method, median, p95 in rows:
        print(f"{method:<12}{median:>9.2f}{p95:>9.2f}  {verdict(median <= TARGET_SERVER_MS)}")


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__)
    parser.add_argument(
        "--methods",
        default=",".join(IMAGE_METHODS),
        help="comma-separated image methods to drag (default: all six)",
    )
    parser.add_argument(
        "--image",
        default="astronaut",
        help="image of the slider drags (default: astronaut, 512 x 512)",
    )
    parser.add_argument("--values", type=int, default=60, help="slider values per drag")
    parser.add_argument("--repeats", type=int, default=50, help="requests per server timing")
    parser.add_argument("--seed", type=int, default=0, help="seeds the spacing of the inputs")
    parser.add_argument(
        "--moves", type=int, default=50, help="pointer moves per prefetch drag (default 50)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="prefetch drags per method and mode (default 2)"
    )
    parser.add_argument(
        "--parts",
        default="drag,prefetch,wire,server",
        help="comma-separated parts to run: drag (the scripted drags), prefetch (pointer drags "
        "with the prefetch on and off), wire (bytes per frame), server (time per frame)",
    )
    if argv is None:
        # Run as `python -m benchmarks.latency ...`, the options are ours; called from another
        # entry point (`python -m benchmarks latency`), they are not.
        own = Path(sys.argv[0]).resolve() == Path(__file__).resolve()
        argv = sys.argv[1:] if own else []
    args = parser.parse_args(argv)
    methods = [method for method in args.methods.split(",") if method]
    parts = {part for part in args.parts.split(",") if part}
    if parts - {"drag", "prefetch", "wire", "server"}:
        parser.error(
            f"unknown parts: {', '.join(sorted(parts - {'drag', 'prefetch', 'wire', 'server'}))}"
        )
    unknown = set(methods) - set(IMAGE_METHODS)
    if unknown:
        parser.error(f"not image methods: {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="dropout-lab-bench-") as uploads,
        serve(Path(uploads)) as url,
    ):
        print(f"Dropout Lab at {url} (uvicorn, one worker); Chromium {CHROMIUM}, 1600 x 1000")
        if "drag" in parts:
            results = slider_latency(url, methods, args.image, args.values, args.seed)
            print_latency(results, args.image)
        if "prefetch" in parts:
            drags = prefetch_latency(url, methods, args.image, args.moves, args.rounds, args.seed)
            print_prefetch(drags, args.image, args.moves, args.rounds)
        defaults = method_params(url)
        if "wire" in parts:
            print_wire(wire_bytes(url, defaults))
        if "server" in parts:
            print_server(server_time(url, defaults, args.repeats), args.repeats)
    print(f"\n({time.perf_counter() - started:.0f} s; timings are reported, never asserted)")


if __name__ == "__main__":
    main()
