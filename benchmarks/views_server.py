"""Part b of :mod:`benchmarks.views`: server time per frame, in-process and over HTTP."""

from __future__ import annotations

import itertools
import statistics
import time
from typing import Any

import httpx

from app import wire
from dropouts.lab.registry import ParamValue, get_method, get_view, validate_params
from dropouts.lab.registry import validate_view_params as validate_own_params
from dropouts.lab.views import BUILT

from .latency_stats import percentile
from .timing import median_ms
from .views_cases import (
    DENSE_CASES,
    FEATURE_CASES,
    IMAGE,
    RESIDUAL_CASES,
    params_of,
    query,
    verdict,
)

TARGET_SERVER_RATIO = 3.0
TARGET_DENSE_FRAME_MS = 5.0  # absolute, as the issue states it


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
