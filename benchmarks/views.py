"""``python -m benchmarks.views``: the feature-map and pooling views against the image view.

Every speed target is a ratio to a reference measured in the same run (machines differ 2x in
speed); absolute figures are printed as notes. Nothing is asserted.

a. First frame after a cold load, for each built view: the page at 1280 x 800 in a new browser
   context (empty cache) on ``/?method=…&view=…&play=0&image=astronaut``; the page's own
   ``window.dropoutLab.firstFrameMs`` (ms since navigation start, at the animation frame after
   the first paint). Views are loaded round-robin so noise hits all alike; one unmeasured load
   of each view first fills the server's scene cache (as on a server in use). Target: <= 500 ms,
   and no view slower than the image view. Also when ``/vendor/plotly.min.js`` started loading
   (Resource Timing), which should be after the first frame. The same for each view's embed
   page (``/embed?…`` at 960 x 540, a slide's size; target <= 500 ms).
b. Server time per frame of the feature-map view against the image view on the 512 x 512
   astronaut: in-process (theory + frames + ``wire.build_header`` + ``wire.to_binary``, scene
   computed once as the server caches it, interleaved with ``benchmarks.timing.median_ms``) for
   every feature-map method, and over HTTP (``GET /api/frames`` count=1, keep-alive, the two
   views alternating, iterations varying). Target: feature maps <= 3x the image frame. Also
   the dense view's diagram frame for every dense method (the toy network, default
   parameters): ``frames`` + ``theory_json`` + ``build_header`` + ``to_binary`` in-process,
   the theory computed once beforehand (the frames endpoint asks for it on every request, and
   the view hands back its cached one), interleaved with the image frame. Target: <= 5 ms per
   frame (absolute); the ratio to the image frame is printed as a note. And the residual view's
   frame (DropPath on the stack of residual blocks: the gates, the training pass of the batch
   through the stack, the outputs' bytes), measured the same way at its defaults (8 blocks, a
   batch of 8, row and batch mode) and at its largest setting (16 x 16); no target in the
   issue: its ratio to the image frame is reported.
c. Bytes per frame on the wire (count=1, astronaut, mean and max over 5 iterations): every
   feature-map method, the pooling view and the image view's standard dropout for reference.
   Target: <= 60 KB for feature maps.
d. Slider latency (``benchmarks.latency``'s drags) of standard dropout's p on the feature-map view
   and on the image view, alternating (two drags each by default), in one browser context.
   Target: feature maps within 1.5x of the image view's median.
e. Time of ``dropouts.lab.views.reconstruction.pixel_dropout_study`` on the astronaut and the cat,
   median of 5; reference: one depthwise 7 x 7 ``conv2d`` over the same picture. Target < 1 s.

The in-process figures (b, e) are taken first, before the server and the browser start, so that
nothing else of this benchmark competes for the CPU; the tables are printed in the order a-e.
Options: ``--views``, ``--loads``, ``--repeats``, ``--drags``, ``--values``, ``--parts`` and
``--waterfall`` (every request of one cold load per view, to see where the time goes).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
import torch
import torch.nn.functional as nnf
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app import wire
from app.config import Settings
from app.images import ImageStore
from app.loopback import CHROMIUM, CHROMIUM_ARGS, serve
from dropouts.lab.registry import ParamValue, get_method, get_view, validate_params
from dropouts.lab.registry import validate_view_params as validate_own_params
from dropouts.lab.views import BUILT

from . import latency
from .latency import Network, frame_query, measure_drag, percentile
from .timing import median_ms

T = TypeVar("T")

COLD_VIEWPORT = {"width": 1280, "height": 800}
IMAGE = "astronaut"
# The method each view opens with in the cold loads.
OPENING: dict[str, str] = {"image": "standard", "feature_maps": "standard", "pooling": "maxpool"}
# (label, method, parameters given) of the feature-map rows; the rest at their defaults.
FEATURE_CASES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("standard", "standard", {}),
    ("gaussian", "gaussian", {}),
    ("spatial", "spatial", {}),
    ("cutout", "cutout", {}),
    ("dropblock", "dropblock", {}),
    ("maxdrop feature", "maxdrop", {"mode": "feature"}),
    ("maxdrop channel", "maxdrop", {"mode": "channel"}),
    ("stochastic", "stochastic", {}),
)
# The dense view's methods (the toy network, default parameters) in table b.
DENSE_CASES: tuple[str, ...] = ("standard", "gaussian", "alpha", "dropconnect", "standout")
# The residual view's rows in table b: (label, the method's parameters, the view's own).
RESIDUAL_CASES: tuple[tuple[str, dict[str, str], dict[str, str]], ...] = (
    ("row, 8 x 8", {}, {}),
    ("batch, 8 x 8", {"mode": "batch"}, {}),
    ("row, 16 x 16", {}, {"blocks": "16", "batch": "16"}),
)
WIRE_ITERATIONS = 5
STUDY_IMAGES = ("astronaut", "cat")
STUDY_REPEATS = 5
SETTLE_S = 2.0  # after the cold loads, before timing the server over HTTP
STUDY_BUDGET_S = 20.0  # per image, after the warm-up

TARGET_FIRST_FRAME_MS = 500.0
TARGET_FIRST_FRAME_RATIO = 1.0
TARGET_SERVER_RATIO = 3.0
TARGET_DENSE_FRAME_MS = 5.0  # absolute, as the issue states it
TARGET_FEATURE_BYTES = 60 * 1024
TARGET_DRAG_RATIO = 1.5
TARGET_STUDY_S = 1.0


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def params_of(view: str, method: str, given: dict[str, str] | None = None) -> dict[str, ParamValue]:
    """The method's parameters (defaults but ``given``) and the view's own, as the server has
    them after ``validate_params`` / ``validate_view_params``."""
    params = validate_params(get_method(method), given or {})
    spec = get_view(view)
    return params | (validate_own_params(spec, {}) if spec.params else {})


def query(view: str, method: str, params: dict[str, ParamValue], start: int) -> dict[str, str]:
    return frame_query(method, params, view=view, start=start)


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


# ---------------------------------------------------------------- b. server time


def frame_function(view_id: str, method: str, params: dict[str, ParamValue], picture: Any) -> Any:
    """One request's work on a cached scene: theory, frames, header and body; iterations vary."""
    view = BUILT[view_id]
    scene = view.scene(picture)
    height, width = picture.shape[1:]
    context = {"view": view_id, "method": method, "image": IMAGE, "width": width}
    context |= {"height": height, "seed": 0, "params": params}
    iterations = itertools.count()

    def one() -> bytes:
        start = next(iterations) % 1000
        theory = view.theory(method, params, scene)
        frames = view.frames(method, params, 0, range(start, start + 1), scene, theory)
        header, payloads = wire.build_header(
            context, view.theory_json(theory), frames, with_masks=True
        )
        return wire.to_binary(header, payloads)

    return one


def in_process(picture: Any) -> list[tuple[str, float, float]]:
    """(label, feature-map ms, image ms of the same interleaved run) per feature-map case."""
    image = frame_function("image", "standard", params_of("image", "standard"), picture)
    rows = []
    for label, method, given in FEATURE_CASES:
        ours = frame_function(
            "feature_maps", method, params_of("feature_maps", method, given), picture
        )
        times = median_ms({"feature": ours, "image": image}, budget_s=1.0)
        rows.append((label, times["feature"], times["image"]))
    return rows


def dense_frame_function(
    method: str, params: dict[str, ParamValue], picture: Any, view_id: str = "dense"
) -> Any:
    """One request's work for the dense view's diagram frame (or ``view_id``'s), the theory
    computed once here beforehand (the endpoint asks for it on every request; the view hands
    back its cached one): frames, theory_json, header and body; iterations vary."""
    view = BUILT[view_id]
    scene = view.scene(picture)
    theory = view.theory(method, params, scene, seed=0)
    height, width = picture.shape[1:]
    context = {"view": view_id, "method": method, "image": IMAGE, "width": width}
    context |= {"height": height, "seed": 0, "params": params}
    iterations = itertools.count()

    def one() -> bytes:
        start = next(iterations) % 1000
        frames = view.frames(method, params, 0, range(start, start + 1), scene, theory)
        header, payloads = wire.build_header(
            context, view.theory_json(theory), frames, with_masks=True
        )
        return wire.to_binary(header, payloads)

    return one


def dense_in_process(picture: Any) -> list[tuple[str, float, float]]:
    """(method, dense frame ms, image ms of the same interleaved run) per dense method."""
    image = frame_function("image", "standard", params_of("image", "standard"), picture)
    rows = []
    for method in DENSE_CASES:
        ours = dense_frame_function(method, params_of("dense", method), picture)
        times = median_ms({"dense": ours, "image": image}, budget_s=1.0)
        rows.append((method, times["dense"], times["image"]))
    return rows


def residual_in_process(picture: Any) -> list[tuple[str, float, float]]:
    """(case, residual frame ms, image ms of the same interleaved run) per residual case."""
    image = frame_function("image", "standard", params_of("image", "standard"), picture)
    rows = []
    for label, method_given, view_given in RESIDUAL_CASES:
        params = validate_params(get_method("droppath"), method_given)
        params |= validate_own_params(get_view("residual"), view_given)
        ours = dense_frame_function("droppath", params, picture, view_id="residual")
        times = median_ms({"residual": ours, "image": image}, budget_s=1.0)
        rows.append((label, times["residual"], times["image"]))
    return rows


def over_http(url: str, repeats: int) -> dict[str, list[float]]:
    """Wall ms of ``GET /api/frames`` count=1 per view, the views alternating, keep-alive."""
    cases = {view: params_of(view, "standard") for view in ("image", "feature_maps")}
    times: dict[str, list[float]] = {view: [] for view in cases}
    with httpx.Client(base_url=url, timeout=30) as client:
        for start in range(5):  # warm-up
            for view, params in cases.items():
                client.get("/api/frames", params=query(view, "standard", params, start))
        for start in range(5, 5 + repeats):
            for view, params in cases.items():
                began = time.perf_counter()
                response = client.get("/api/frames", params=query(view, "standard", params, start))
                response.read()
                times[view].append((time.perf_counter() - began) * 1e3)
                response.raise_for_status()
    return times


def print_server(
    rows: list[tuple[str, float, float]] | None,
    dense: list[tuple[str, float, float]] | None,
    http: dict[str, list[float]] | None,
    residual: list[tuple[str, float, float]] | None = None,
) -> None:
    if rows is not None:
        print_feature_server(rows)
    if dense is not None:
        print_dense_server(dense, heading=rows is None)
    if residual is not None:
        print_residual_server(residual)
    if http is not None:
        print_http(http)


def print_feature_server(rows: list[tuple[str, float, float]]) -> None:
    print(
        f"\nb. Server time per frame, {IMAGE} 512 x 512, count=1, default parameters: feature maps "
        "(8 maps) against the image view's standard dropout"
    )
    print(
        f"target: feature maps <= {TARGET_SERVER_RATIO:g}x the image frame of the same run. "
        "In-process: theory + frames + build_header + to_binary, scene cached, interleaved "
        "with the image frame (median_ms, ~1 s per row); image ms = that row's reference"
    )
    header = f"{'feature-map method':<20}{'ms':>8}{'image ms':>10}{'ratio':>8}  verdict"
    print(header)
    print("-" * len(header))
    for label, ours, image in rows:
        ratio = ours / image
        print(
            f"{label:<20}{ours:>8.2f}{image:>10.2f}{ratio:>7.2f}x  "
            f"{verdict(ratio <= TARGET_SERVER_RATIO)}"
        )


def print_dense_server(rows: list[tuple[str, float, float]], heading: bool) -> None:
    if heading:
        print("\nb. Server time per frame, count=1, default parameters")
    print(
        "\ndense view, the diagram's frame (toy network 2-5-5-2, default parameters): frames + "
        "theory_json + build_header + to_binary in-process, interleaved with the image frame "
        f"({IMAGE} 512 x 512, standard dropout, theory included as above; median_ms, ~1 s per row)"
    )
    print(
        f"target: <= {TARGET_DENSE_FRAME_MS:g} ms per frame (absolute, as the issue states it). "
        "The theory (network, test-time pass, ensemble of 2000, the method's panel) is computed "
        "once beforehand: the frames endpoint asks for it on every request and the view hands "
        "back its cached one (64 settings), so a request pays a lookup, not the ensemble"
    )
    header = f"{'dense method':<20}{'ms':>8}{'image ms':>10}{'ratio':>8}  verdict"
    print(header)
    print("-" * len(header))
    for method, ours, image in rows:
        print(
            f"{method:<20}{ours:>8.2f}{image:>10.2f}{ours / image:>7.2f}x  "
            f"{verdict(ours <= TARGET_DENSE_FRAME_MS)}"
        )


def print_residual_server(rows: list[tuple[str, float, float]]) -> None:
    print(
        "\nresidual view, DropPath on the stack (droppath, p = 0.2, linear decay; blocks x batch "
        "of 24 x 24 x 8 patches of the picture): frames + theory_json + build_header + "
        "to_binary in-process, the theory (test network, 32-pass ensemble) once beforehand as "
        f"for the dense view, interleaved with the image frame ({IMAGE} 512 x 512, standard "
        "dropout; median_ms, ~1 s per row)"
    )
    print("no target in the issue: the ratio to the image frame is reported")
    header = f"{'residual case':<20}{'ms':>8}{'image ms':>10}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    for label, ours, image in rows:
        print(f"{label:<20}{ours:>8.2f}{image:>10.2f}{ours / image:>7.2f}x")


def print_http(http: dict[str, list[float]]) -> None:
    n = len(http["image"])
    print(
        f"\nover HTTP: GET /api/frames count=1, httpx keep-alive, {n} requests per view "
        "alternating, iterations 5.. varying (wall time from Python: network + server)"
    )
    header = f"{'view (standard)':<20}{'median':>8}{'p95':>8}{'ratio':>8}  verdict"
    print(header)
    print("-" * len(header))
    reference = statistics.median(http["image"])
    for view, times in http.items():
        median = statistics.median(times)
        ratio = median / reference
        ok = view == "image" or ratio <= TARGET_SERVER_RATIO
        print(
            f"{view:<20}{median:>8.2f}{percentile(times, 0.95):>8.2f}{ratio:>7.2f}x  {verdict(ok)}"
        )


# ---------------------------------------------------------------- c. bytes per frame


def wire_cases(views: Sequence[str]) -> list[tuple[str, str, str, dict[str, ParamValue]]]:
    """(view, method, setting, parameters) of the rows of table c."""
    cases = [("image", "standard", "default", params_of("image", "standard"))]
    if "feature_maps" in views:
        for label, method, given in FEATURE_CASES:
            setting = label.removeprefix(method).strip() or "default"
            cases.append(
                ("feature_maps", method, setting, params_of("feature_maps", method, given))
            )
        for p in ("0.1", "0.5"):
            cases.append(
                (
                    "feature_maps",
                    "standard",
                    f"p={p}",
                    params_of("feature_maps", "standard", {"p": p}),
                )
            )
    if "pooling" in views:
        cases.append(("pooling", "maxpool", "default", params_of("pooling", "maxpool")))
    return cases


def wire_bytes(url: str, views: Sequence[str]) -> list[tuple[str, str, str, list[int]]]:
    rows = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for view, method, setting, params in wire_cases(views):
            sizes = []
            for start in range(WIRE_ITERATIONS):
                response = client.get("/api/frames", params=query(view, method, params, start))
                response.raise_for_status()
                sizes.append(response.num_bytes_downloaded)  # not gzipped (app/main.py)
            rows.append((view, method, setting, sizes))
    return rows


def print_wire(rows: list[tuple[str, str, str, list[int]]]) -> None:
    print(
        f"\nc. Bytes per frame on the wire, {IMAGE} 512 x 512, count=1, iterations "
        f"0-{WIRE_ITERATIONS - 1} (KB = 1024 bytes)"
    )
    print(
        f"target: feature maps <= {TARGET_FEATURE_BYTES // 1024} KB (max over the iterations); "
        "the image and pooling views for reference"
    )
    header = f"{'view':<14}{'method':<12}{'setting':<10}{'mean':>9}{'max':>9}{'KB':>8}  verdict"
    print(header)
    print("-" * len(header))
    for view, method, setting, sizes in rows:
        most = max(sizes)
        ok = most <= TARGET_FEATURE_BYTES if view == "feature_maps" else None
        print(
            f"{view:<14}{method:<12}{setting:<10}{statistics.fmean(sizes):>9.0f}{most:>9}"
            f"{most / 1024:>8.1f}  {'(reference)' if ok is None else verdict(ok)}"
        )


# ---------------------------------------------------------------- d. slider latency


def slider_latency(browser: Any, url: str, rounds: int, values: int) -> dict[str, list[Any]]:
    """Standard dropout's p dragged on the image and feature-map views, alternating, in one
    context; each view's latencies pooled over the rounds."""
    rng = random.Random(0)
    context = browser.new_context(viewport=latency.VIEWPORT, device_scale_factor=1)
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
        n, median, p95, most = latency.summary(values)
        medians[view] = median
        ratio = median / medians["image"]
        ok = view == "image" or ratio <= TARGET_DRAG_RATIO
        inputs = sum(r["inputs"] for r in results)
        print(
            f"{view:<14}{inputs:>7}{n:>5}{median:>8.1f}{p95:>8.1f}{most:>8.1f}"
            f"{latency.summary(fetches)[1]:>8.1f}{ratio:>7.2f}x  {verdict(ok)}"
        )
        errors = sorted({e for r in results for e in r["errors"]})
        if errors:
            print(f"    page errors: {errors}")


# ---------------------------------------------------------------- e. PSNR study


StudyRow = tuple[str, str, list[float] | None, list[float]]


def conv_pass_ms(picture: torch.Tensor, passes: int = 10) -> float:
    """Median ms of one depthwise 7 x 7 ``conv2d`` pass over ``picture`` (3, H, W)."""
    kernel = torch.rand(3, 1, 7, 7, generator=torch.Generator().manual_seed(0))
    batch = picture.unsqueeze(0)
    times = []
    for _ in range(passes):
        began = time.perf_counter()
        nnf.conv2d(batch, kernel, padding=3, groups=3)
        times.append((time.perf_counter() - began) * 1e3)
    return statistics.median(times)


def study_times(store: ImageStore) -> list[StudyRow]:
    """Per image: (image, size, study seconds per repeat or None if not built, conv2d ms
    measured right after each repeat). Past STUDY_BUDGET_S of repeats, no further repeat starts."""
    try:
        module = importlib.import_module("dropouts.lab.views.reconstruction")
        study: Callable[..., object] | None = module.pixel_dropout_study
    except (ImportError, AttributeError):
        study = None
    rows: list[StudyRow] = []
    for image_id in STUDY_IMAGES:
        picture = store.get(image_id).tensor
        size = f"{picture.shape[2]}x{picture.shape[1]}"
        conv_pass_ms(picture)  # warm-up
        if study is None:
            rows.append((image_id, size, None, [conv_pass_ms(picture)]))
            continue
        study(picture, seed=0)  # warm-up (lazy caches, first-call allocations)
        seconds: list[float] = []
        conv: list[float] = []
        began_row = time.perf_counter()
        while not seconds or (
            len(seconds) < STUDY_REPEATS and time.perf_counter() - began_row < STUDY_BUDGET_S
        ):
            began = time.perf_counter()
            study(picture, seed=0)
            seconds.append(time.perf_counter() - began)
            conv.append(conv_pass_ms(picture))  # the reference, in the same moment
        rows.append((image_id, size, seconds, conv))
    return rows


def print_study(rows: list[StudyRow]) -> None:
    print(
        f"\ne. pixel_dropout_study(picture, seed=0) (draws=3), median and max of {STUDY_REPEATS} "
        f"after one warm-up (fewer, n, past {STUDY_BUDGET_S:g} s per image); "
        f"target < {TARGET_STUDY_S:g} s"
    )
    print(
        "reference: one depthwise 7 x 7 conv2d pass over the same (3, H, W) picture, median of "
        "10 right after each study run; x conv = median over the runs of study time / conv time"
    )
    header = (
        f"{'image':<12}{'size':<9}{'n':>3}{'median s':>10}{'max s':>8}{'conv ms':>9}"
        f"{'x conv':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    for image_id, size, seconds, conv in rows:
        if seconds is None:
            print(
                f"{image_id:<12}{size:<9}{0:>3}{'not built':>10}{'':>8}"
                f"{statistics.median(conv):>9.3f}"
            )
            continue
        median = statistics.median(seconds)
        ratio = statistics.median(s * 1e3 / c for s, c in zip(seconds, conv, strict=True))
        print(
            f"{image_id:<12}{size:<9}{len(seconds):>3}{median:>10.3f}{max(seconds):>8.3f}"
            f"{statistics.median(conv):>9.3f}{ratio:>8.0f}  {verdict(median < TARGET_STUDY_S)}"
        )


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.views", description=__doc__)
    parser.add_argument(
        "--views",
        default=",".join(OPENING),
        help="comma-separated views to measure (default: all built); the image view is always "
        "measured as the reference",
    )
    parser.add_argument("--loads", type=int, default=5, help="cold loads per view (a)")
    parser.add_argument(
        "--repeats", type=int, default=50, help="HTTP requests per view for the server time (b)"
    )
    parser.add_argument(
        "--drags", type=int, default=2, help="slider drags per view, alternating (d)"
    )
    parser.add_argument("--values", type=int, default=60, help="slider values per drag (d)")
    parser.add_argument("--parts", default="abcde", help="which tables to print (default abcde)")
    parser.add_argument(
        "--waterfall",
        action="store_true",
        help="also list every request of one cold load per view (a)",
    )
    if argv is None:
        # As in benchmarks.latency: the options are ours only when run as this module.
        own = Path(sys.argv[0]).resolve() == Path(__file__).resolve()
        argv = sys.argv[1:] if own else []
    args = parser.parse_args(argv)
    asked = [view for view in args.views.split(",") if view]
    unknown = set(asked) - set(OPENING)
    if unknown:
        parser.error(f"not a built view: {', '.join(sorted(unknown))}; built: {', '.join(OPENING)}")
    views = ["image", *(view for view in OPENING if view in asked and view != "image")]
    parts = set(args.parts)

    torch.set_num_threads(2)  # in-process figures, as benchmarks.library and benchmarks.wire
    store = ImageStore(Settings())
    started = time.perf_counter()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads in-process; "
        f"Chromium {CHROMIUM}"
    )
    # In-process figures first, before the server and the browser exist: nothing else of ours
    # competes for the CPU. Tables are printed in the order a-e at the end.
    frames = dense = residual = study = None
    if "b" in parts and "feature_maps" in views:
        frames = in_process(store.get(IMAGE).tensor)
    if "b" in parts:
        dense = dense_in_process(store.get(IMAGE).tensor)
        residual = residual_in_process(store.get(IMAGE).tensor)
    if "e" in parts:
        study = study_times(store)
    cold = http = sizes = pooled = None
    with (
        tempfile.TemporaryDirectory(prefix="dropout-lab-bench-") as uploads,
        serve(Path(uploads)) as url,
    ):
        print(f"Dropout Lab at {url} (uvicorn, one worker)")
        if "a" in parts:
            pages = [*views, *(EMBED + view for view in views)]  # the lab, then the embeds
            cold = with_browser(lambda browser: cold_loads(browser, url, pages, args.loads))
            time.sleep(SETTLE_S)  # the server finishes what the closed pages had asked for
        if "b" in parts and "feature_maps" in views:
            http = over_http(url, args.repeats)
        if "c" in parts:
            sizes = wire_bytes(url, views)
        if "d" in parts and "feature_maps" in views:
            pooled = with_browser(
                lambda browser: slider_latency(browser, url, args.drags, args.values)
            )
    if cold is not None:
        print_cold(cold, args.loads, args.waterfall)
    if frames is not None or dense is not None:
        print_server(frames, dense, http, residual)
    if sizes is not None:
        print_wire(sizes)
    if pooled is not None:
        print_latency(pooled, args.drags)
    if study is not None:
        print_study(study)
    print(f"\n({time.perf_counter() - started:.0f} s; timings are reported, never asserted)")


def with_browser(run: Callable[[Any], T]) -> T:
    """``run(browser)`` with headless Chromium launched as benchmarks.latency does."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return run(browser)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
