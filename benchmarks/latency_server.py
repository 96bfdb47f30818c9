"""Bytes per frame on the wire and server time per frame, over HTTP (see
:mod:`benchmarks.latency`)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from .latency_stats import percentile, verdict

IMAGE_METHODS = ("standard", "gaussian", "spatial", "cutout", "dropblock", "stochastic")
WIRE_METHODS = IMAGE_METHODS
SERVER_METHODS = IMAGE_METHODS
TARGET_FRAME_BYTES = 40 * 1024
TARGET_SERVER_MS = 10.0


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
