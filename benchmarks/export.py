"""``python -m benchmarks.export``: what an export costs, in process (``app.export.render_export``).

For each case, a 32-frame export of a 256 x 256 frame on the 512 x 512 astronaut (the largest
picture the lab holds, so the most mask per frame), the scene cached as the server caches it:

- ``masks``: the reference of the same run, the view computing the same 32 frames (masks and
  statistics) without drawing them, as ``/api/frames`` does; ``GIF / masks`` is then what
  drawing and encoding cost on top of the dropout itself;
- ``GIF``: the whole GIF export (frames, drawing, captions, palettes, encoding). Target: < 1 s;
- ``HTML``: the standalone file's time and size (frames as lossless WebP, base64). Target:
  < 6 MB;
- ``MP4``: the H.264 export's time and size (ffmpeg from imageio-ffmpeg, one thread).

Medians of 5 runs, cases interleaved round-robin so that machine noise hits all alike, after one
warm-up run of each. Printed, never asserted. ``--repeats`` and ``--size`` change the defaults.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from app.config import Settings
from app.export import parse_options, render_export
from app.images import ImageStore
from app.scenes import SceneCache
from app.state import parse_state
from dropouts.lab.views import BUILT, View
from dropouts.lab.views.base import Scene

IMAGE = "astronaut"
FRAMES = 32
TARGET_GIF_S = 1.0
TARGET_HTML_MB = 6.0
CASES: tuple[tuple[str, dict[str, str]], ...] = (
    ("image, standard p=0.5", {"view": "image", "method": "standard"}),
    ("image, gaussian p=0.5", {"view": "image", "method": "gaussian"}),
    ("feature maps, standard", {"view": "feature_maps", "method": "standard"}),
    ("pooling, maxpool", {"view": "pooling", "method": "maxpool"}),
    ("compare 4, image", {
        "view": "image", "a.method": "standard", "b.method": "dropblock",
        "c.method": "cutout", "d.method": "gaussian",
    }),
)  # fmt: skip


@dataclass
class Case:
    label: str
    run: dict[str, Callable[[], int]]  # measurement -> a call returning the bytes made (or 0)
    times: dict[str, list[float]]
    sizes: dict[str, int]


def _case(label: str, query: dict[str, str], size: str, picture: Tensor, scenes: SceneCache,
          store: ImageStore) -> Case:  # fmt: skip
    stored = store.get(IMAGE)

    def getter(view: View[object], _: Tensor) -> Scene:
        return scenes.get(view, stored)

    def export(format: str) -> Callable[[], int]:
        full = query | {"image": IMAGE, "format": format, "frames": str(FRAMES), "size": size}
        state = parse_state(full, ignore=frozenset({"format", "frames", "size"}))
        options = parse_options(full)
        return lambda: len(render_export(state, options, picture, getter).data)

    state = parse_state(query | {"image": IMAGE})
    view = BUILT[state.view]

    def masks() -> int:
        scene = getter(view, picture)
        for panel in state.panels:
            theory = view.theory(panel.method, panel.params, scene)
            view.frames(panel.method, panel.params, state.seed, range(FRAMES), scene, theory)
        return 0

    run = {"masks": masks, "gif": export("gif"), "html": export("html"), "mp4": export("mp4")}
    return Case(label, run, {name: [] for name in run}, {})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", default="256x256")
    if argv is None:  # run as `python -m benchmarks.export …`, or by `python -m benchmarks`
        own = Path(sys.argv[0]).resolve() == Path(__file__).resolve()
        argv = sys.argv[1:] if own else []
    args = parser.parse_args(argv)
    settings = Settings()
    store = ImageStore(settings)
    scenes = SceneCache(settings.scene_cache_size)
    picture = store.get(IMAGE).tensor
    cases = [_case(label, query, args.size, picture, scenes, store) for label, query in CASES]
    for case in cases:  # warm-up: scenes cached, fonts loaded, ffmpeg's binary paged in
        for function in case.run.values():
            function()
    for _ in range(args.repeats):
        for case in cases:
            for name, function in case.run.items():
                start = time.perf_counter()
                made = function()
                case.times[name].append(time.perf_counter() - start)
                case.sizes[name] = made
    print(
        f"{FRAMES}-frame exports of a {args.size} frame, {IMAGE} (512 x 512), median of "
        f"{args.repeats}; targets: GIF < {TARGET_GIF_S:.0f} s, HTML < {TARGET_HTML_MB:.0f} MB"
    )
    header = (
        f"{'case':<24} {'masks ms':>9} {'GIF ms':>8} {'GIF/masks':>10} {'GIF KB':>8} "
        f"{'HTML ms':>8} {'HTML MB':>8} {'MP4 ms':>8} {'MP4 KB':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    for case in cases:
        ms = {name: 1e3 * statistics.median(times) for name, times in case.times.items()}
        html_mb = case.sizes["html"] / 1e6
        ok = ms["gif"] < 1e3 * TARGET_GIF_S and html_mb < TARGET_HTML_MB
        print(
            f"{case.label:<24} {ms['masks']:>9.1f} {ms['gif']:>8.1f} "
            f"{ms['gif'] / max(ms['masks'], 1e-9):>9.1f}x {case.sizes['gif'] / 1024:>8.0f} "
            f"{ms['html']:>8.1f} {html_mb:>8.2f} {ms['mp4']:>8.1f} "
            f"{case.sizes['mp4'] / 1024:>8.0f}  {'ok' if ok else 'MISSED'}"
        )
    print(
        "masks: the view's 32 frames alone (what /api/frames computes); GIF / masks: the cost of "
        "drawing and encoding on top of the dropout."
    )


if __name__ == "__main__":
    main()
