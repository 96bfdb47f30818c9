"""Part a of :mod:`benchmarks.views`: the first frame after a cold load, for each view and its
embed page."""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Sequence
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .views_cases import IMAGE, OPENING, verdict

COLD_VIEWPORT = {"width": 1280, "height": 800}

TARGET_FIRST_FRAME_MS = 500.0
TARGET_FIRST_FRAME_RATIO = 1.0


# ---------------------------------------------------------------- a. first frame, cold


# Every request of the page so far, with the navigation itself first (ms since navigation).
WATERFALL_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const rows = [{ name: nav.name, start: nav.startTime, ttfb: nav.responseStart,
                  end: nav.responseEnd, bytes: nav.transferSize }];
  for (const e of performance.getEntriesByType("resource")) {
    rows.push({ name: e.name, start: e.startTime, ttfb: e.responseStart,
                end: e.responseEnd, bytes: e.transferSize });
  }
  return { rows, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
}"""


EMBED = "embed "  # a label "embed <view>" is that view's embed page (/embed?…)


def view_of(label: str) -> str:
    return label.removeprefix(EMBED)


def cold_load(browser: Any, url: str, label: str) -> dict[str, Any]:
    """One load in a fresh context: firstFrameMs, the requests, and when Plotly started.

    ``label`` is a view id (the lab page) or "embed <view id>" (the embed page, 960 x 540, a
    slide's size; it never loads Plotly)."""
    view = view_of(label)
    embedded = label.startswith(EMBED)
    viewport = {"width": 960, "height": 540} if embedded else COLD_VIEWPORT
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    try:
        page = context.new_page()
        path = "/embed" if embedded else "/"
        page.goto(f"{url}{path}?method={OPENING[view]}&view={view}&play=0&image={IMAGE}")
        page.wait_for_function("() => window.dropoutLab?.firstFrameMs > 0", timeout=30_000)
        first = float(page.evaluate("() => window.dropoutLab.firstFrameMs"))
        # Plotly is requested once the first frame is on screen; "never" below if it was not.
        with contextlib.suppress(PlaywrightTimeout):
            if not embedded:
                page.wait_for_function("() => window.Plotly !== undefined", timeout=15_000)
        waterfall = page.evaluate(WATERFALL_JS)
        errors = page.evaluate("() => window.dropoutLab.errors")
    finally:
        context.close()
    plotly = [row for row in waterfall["rows"] if row["name"].endswith("/vendor/plotly.min.js")]
    return {
        "view": view,
        "first": first,
        "plotly": plotly[0] if plotly else None,
        "waterfall": waterfall,
        "errors": list(errors),
    }


def cold_loads(browser: Any, url: str, views: Sequence[str], loads: int) -> dict[str, Any]:
    warm = {view: cold_load(browser, url, view) for view in views}  # fills the scene cache
    runs: dict[str, list[dict[str, Any]]] = {view: [] for view in views}
    for _ in range(loads):
        for view in views:
            runs[view].append(cold_load(browser, url, view))
    return {"warm": warm, "runs": runs}


def print_cold(result: dict[str, Any], loads: int, waterfall: bool) -> None:
    runs = result["runs"]
    print(
        f"\na. First frame after a cold load (ms since navigation start), {IMAGE}, 1280 x 800, "
        f"new context each load, {loads} loads per view round-robin"
    )
    print(
        f"targets: median <= {TARGET_FIRST_FRAME_MS:.0f} ms; each view's median <= "
        f"{TARGET_FIRST_FRAME_RATIO:g}x the image view's (same run); plotly = when "
        "/vendor/plotly.min.js started loading (first measured load), after the first frame"
    )
    header = (
        f"{'view':<20}{'method':<10}{'median':>8}{'max':>8}{'/image':>8}"
        f"{'plotly':>9}{'server-cold':>13}  verdict"
    )
    print(header)
    print("-" * len(header))
    reference = statistics.median(r["first"] for r in runs["image"]) if "image" in runs else None
    for view, loaded in runs.items():
        firsts = [r["first"] for r in loaded]
        median = statistics.median(firsts)
        ratio = median / reference if reference else float("nan")
        plotly = loaded[0]["plotly"]
        plotly_start = f"{plotly['start']:.0f}" if plotly else "never"
        after = view.startswith(EMBED) or (
            plotly is not None and plotly["start"] >= loaded[0]["first"]
        )
        ok = median <= TARGET_FIRST_FRAME_MS and (
            view == "image"
            or view.startswith(EMBED)  # an embed: the 500 ms target alone
            or reference is None
            or ratio <= TARGET_FIRST_FRAME_RATIO
        )
        print(
            f"{view:<20}{OPENING[view_of(view)]:<10}{median:>8.0f}{max(firsts):>8.0f}{ratio:>7.2f}x"
            f"{plotly_start:>9}{result['warm'][view]['first']:>13.0f}  {verdict(ok)}"
            f"{'' if after else ' (plotly before the first frame)'}"
        )
        errors = sorted({e for r in loaded for e in r["errors"]})
        if errors:
            print(f"    page errors: {errors}")
    print(
        "(server-cold: the unmeasured first load of each view, before the server had its scene; "
        "all loads: "
        + "; ".join(
            f"{view} " + " ".join(f"{r['first']:.0f}" for r in loaded)
            for view, loaded in runs.items()
        )
        + ")"
    )
    if waterfall:
        for view, loaded in runs.items():
            print_waterfall(view, loaded[0])


def print_waterfall(view: str, load: dict[str, Any]) -> None:
    data = load["waterfall"]
    print(
        f"\n  requests of the first measured cold load, view={view} (ms since navigation; "
        f"first frame {load['first']:.0f}, DOMContentLoaded {data['domContentLoaded']:.0f})"
    )
    header = f"  {'start':>7}{'ttfb':>7}{'end':>7}{'took':>7}{'bytes':>9}  request"
    print(header)
    for row in sorted(data["rows"], key=lambda r: r["start"]):
        name = row["name"].split("//", 1)[-1].split("/", 1)[-1]
        print(
            f"  {row['start']:>7.0f}{row['ttfb']:>7.0f}{row['end']:>7.0f}"
            f"{row['end'] - row['start']:>7.0f}{row['bytes']:>9}  /{name[:90]}"
        )
