"""Part c of :mod:`benchmarks.views`: bytes per frame on the wire."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import httpx

from dropouts.lab.registry import ParamValue

from .views_cases import FEATURE_CASES, IMAGE, params_of, query, verdict

WIRE_ITERATIONS = 5
TARGET_FEATURE_BYTES = 60 * 1024


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
