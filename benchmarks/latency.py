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
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from app.loopback import CHROMIUM, serve

from .latency_drag import print_latency, slider_latency
from .latency_prefetch import prefetch_latency, print_prefetch
from .latency_server import (
    IMAGE_METHODS,
    method_params,
    print_server,
    print_wire,
    server_time,
    wire_bytes,
)

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
