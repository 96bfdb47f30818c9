"""Exports: an animated GIF, an MP4 (H.264) or a standalone HTML file of N iterations of a view
or a comparison, at a chosen size and speed; the same function for the web and the command line.

:func:`render_export` computes each panel's frames with the view (``dropouts.lab.views``, the
frames ``/api/frames`` sends), draws them with :mod:`app.render` and encodes them:

- ``gif``: looping, one adaptive 256-colour palette per frame (Pillow's fast octree, no
  dithering, so masks stay crisp), each frame shown ``1 / fps`` s (GIF counts in 1/100 s);
- ``mp4``: H.264 (libx264, yuv420p, CRF 18, one thread and bit-exact flags: the same bytes on
  every machine) through the ffmpeg that imageio-ffmpeg ships in its wheel; both sides rounded
  down to even, as yuv420p needs;
- ``html``: one file that plays offline (frames as lossless WebP data URLs, the player's
  script and styles inline, a Content-Security-Policy that forbids every request), see
  :mod:`app.export.standalone`.

Frames wrap around the player's loop of 100 iterations as the page does: frame ``k`` shows
iteration ``(start + k) % 100``. The work is bounded (:mod:`app.export.options`): at most 200
frames, 64-1920 x 64-1080 pixels, and a pixel budget per format.

The package by concern: :mod:`~app.export.options` (the options, their limits and budgets,
the export's names), :mod:`~app.export.frames` (the panels' frames),
:mod:`~app.export.writers` (the GIF, MP4 and HTML writers) and, here, :func:`render_export`
(the frames drawn and written, with progress and cancelling).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from torch import Tensor

from dropouts.lab.views import BUILT

from ..errors import ApiError
from ..render import THEMES, compose, drawn_views, renderer_of
from ..state import LabState
from .frames import CHUNK, FrameSource, SceneGetter, heading, prepare
from .options import (
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    DEFAULT_SIZE,
    EXPORT_OPTIONS,
    FORMATS,
    MAX_FPS,
    MAX_FRAMES,
    MAX_HEIGHT,
    MAX_PIXELS,
    MAX_WIDTH,
    MIN_SIDE,
    ExportOptions,
    Format,
    check_budget,
    export_name,
    iterations,
    option_names,
    parse_options,
    state_query,
)
from .standalone import standalone_html
from .writers import BIT_EXACT, WEBP, X264, Encoder, GifEncoder, HtmlEncoder, Mp4Encoder

__all__ = [
    "BIT_EXACT",
    "CHUNK",
    "DEFAULT_FPS",
    "DEFAULT_FRAMES",
    "DEFAULT_SIZE",
    "EXPORT_OPTIONS",
    "FORMATS",
    "MAX_FPS",
    "MAX_FRAMES",
    "MAX_HEIGHT",
    "MAX_PIXELS",
    "MAX_WIDTH",
    "MIN_SIDE",
    "WEBP",
    "X264",
    "Encoder",
    "Export",
    "ExportCancelledError",
    "ExportOptions",
    "Format",
    "FrameSource",
    "GifEncoder",
    "HtmlEncoder",
    "Mp4Encoder",
    "Progress",
    "SceneGetter",
    "check_budget",
    "export_name",
    "heading",
    "iterations",
    "option_names",
    "parse_options",
    "prepare",
    "render_export",
    "state_query",
]


@dataclass(frozen=True)
class Export:
    name: str  # dropout-lab-<method or compare>-<view>.<ext>
    media_type: str
    data: bytes


class ExportCancelledError(Exception):
    """The caller's ``cancelled()`` said stop (an SSE client went away)."""


Progress = Callable[[int, int], None]


def render_export(
    state: LabState,
    options: ExportOptions,
    picture: Tensor,
    scenes: SceneGetter | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Export:
    """The export of ``state`` with ``options``: its frames drawn as the page draws them, with
    their captions, encoded. ``progress(done, total)`` is called before the first frame and
    after each; ``cancelled()`` is asked before each frame (``ExportCancelledError`` if it says so).
    Deterministic: the same arguments give the same bytes."""
    check_budget(options)
    if options.stats and options.format != "html":
        options = replace(options, stats=False)  # statistics are the HTML file's alone
    renderer = renderer_of(state.view)
    if renderer is None:  # a view the page shows but the exports cannot draw yet
        raise ApiError(
            422,
            "view",
            f"no export for this view yet: {state.view}",
            "one of " + ", ".join(drawn_views()),
        )
    panels = prepare(state, picture, scenes)
    view = BUILT[state.view]
    order = iterations(state, options)
    # GIF and HTML encode a repeated iteration once (when frames > 100): compute it once.
    reused = options.format != "mp4"
    source = FrameSource(view, panels, state.seed, list(dict.fromkeys(order)) if reused else order)
    theme = THEMES[options.theme]
    aspect = renderer.aspect(panels[0])
    title = heading(state)
    records: list[dict[str, Any]] = []
    first_stats: dict[int, list[dict[str, Any]]] = {}

    def page(images: list[str], sequence: list[int]) -> bytes:
        return standalone_html(state, options, panels, images, sequence, records, renderer.rows)

    encoder: Encoder
    if options.format == "gif":
        encoder = GifEncoder(options)
    elif options.format == "mp4":
        encoder = Mp4Encoder(options)
    else:
        encoder = HtmlEncoder(options, page)
    total = len(order)
    try:
        if progress:
            progress(0, total)
        for done, iteration in enumerate(order, start=1):
            if cancelled and cancelled():
                raise ExportCancelledError
            if encoder.has(iteration):
                encoder.add(iteration, None)
                records.append({"iteration": iteration, "stats": first_stats[iteration]})
            else:
                frames = source.take(iteration)
                image = compose(
                    list(zip(panels, frames, strict=True)), options.size, theme, renderer.render,
                    aspect, heading=title,
                )  # fmt: skip
                encoder.add(iteration, image)
                stats = [_json_stats(frame.stats) for frame in frames]
                first_stats[iteration] = stats
                records.append({"iteration": iteration, "stats": stats})
            if progress:
                progress(done, total)
        data = encoder.finish()
    except BaseException:
        encoder.close()
        raise
    return Export(export_name(state, options), FORMATS[options.format][0], data)


def _json_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """A frame's scalar statistics (the per-window lists of the pooling view are left out)."""
    out: dict[str, Any] = {}
    for name, value in stats.items():
        if isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        if isinstance(value, int | float) and math.isfinite(float(value)):
            out[name] = float(value)
    return out
