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
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch

from app.config import Settings
from app.images import ImageStore
from app.loopback import CHROMIUM, CHROMIUM_ARGS, serve

from .views_cases import IMAGE, OPENING
from .views_cold import EMBED, cold_loads, print_cold
from .views_server import dense_in_process, in_process, over_http, print_server, residual_in_process
from .views_slider import print_latency, slider_latency
from .views_study import print_study, study_times
from .views_wire import print_wire, wire_bytes

T = TypeVar("T")
SETTLE_S = 2.0  # after the cold loads, before timing the server over HTTP


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
