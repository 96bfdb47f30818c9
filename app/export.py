"""Exports: an animated GIF, an MP4 (H.264) or a standalone HTML file of N iterations of a view
or a comparison, at a chosen size and speed; the same function for the web and the command line.

:func:`render_export` computes each panel's frames with the view (``dropouts.views``, the
frames ``/api/frames`` sends), draws them with :mod:`app.render` and encodes them:

- ``gif``: looping, one adaptive 256-colour palette per frame (Pillow's fast octree, no
  dithering, so masks stay crisp), each frame shown ``1 / fps`` s (GIF counts in 1/100 s);
- ``mp4``: H.264 (libx264, yuv420p, CRF 18, one thread and bit-exact flags: the same bytes on
  every machine) through the ffmpeg that imageio-ffmpeg ships in its wheel; both sides rounded
  down to even, as yuv420p needs;
- ``html``: one file that plays offline (frames as lossless WebP data URLs, the player's
  script and styles inline, a Content-Security-Policy that forbids every request), see
  :mod:`app.render.standalone`.

Frames wrap around the player's loop of 100 iterations as the page does: frame ``k`` shows
iteration ``(start + k) % 100``. The work is bounded: at most 200 frames, 64-1920 x 64-1080
pixels, and frames x width x height at most 70 million pixels for a GIF or an HTML file (their
frames are held until the file is written) and 210 million for an MP4 (streamed to ffmpeg, so
bounded by time: 100 frames of 1920 x 1080, one loop of the player, take about 20 s).
"""

from __future__ import annotations

import base64
import contextlib
import io
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from PIL import Image
from torch import Tensor

from dropouts.registry import get_method, get_view
from dropouts.views import BUILT, View
from dropouts.views.base import Frame, Scene

from .errors import ApiError
from .render import RENDERERS, THEMES, PanelInput, compose
from .render.standalone import standalone_html
from .state import ITERATIONS, LabState

Format = Literal["gif", "mp4", "html"]
FORMATS: dict[str, tuple[str, str]] = {  # format -> (media type, extension)
    "gif": ("image/gif", "gif"),
    "mp4": ("video/mp4", "mp4"),
    "html": ("text/html; charset=utf-8", "html"),
}
# The query names of an export's options (the rest of the query is the lab's state).
EXPORT_OPTIONS = frozenset({"format", "frames", "size", "fps", "start", "theme", "stats"})
MAX_FRAMES = 200
DEFAULT_FRAMES = 32
MIN_SIDE = 64
MAX_WIDTH, MAX_HEIGHT = 1920, 1080
# 16:9 like most slide decks; 640 px keeps a 32-frame GIF to one to three megabytes.
DEFAULT_SIZE = (640, 360)
MAX_FPS = 30
DEFAULT_FPS = 8
# frames x width x height: GIF and HTML frames are held in memory until the file is written.
# An MP4 streams its frames to ffmpeg: its budget is time (about 0.2 s per 1920 x 1080 frame),
# one loop of the player (100 frames) at 1920 x 1080.
MAX_PIXELS: dict[str, int] = {"gif": 70_000_000, "html": 70_000_000, "mp4": 210_000_000}
CHUNK = 16  # frames computed per call of a view (the pooling view replays 0..i per call)
WEBP = {"format": "WEBP", "lossless": True, "method": 2, "quality": 50}
X264 = ["-preset", "medium", "-crf", "18", "-threads", "1", "-x264-params", "threads=1"]
BIT_EXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1"]


@dataclass(frozen=True)
class ExportOptions:
    format: Format
    frames: int = DEFAULT_FRAMES
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    fps: int = DEFAULT_FPS
    start: int | None = None  # the first iteration; None: the state's
    theme: Literal["light", "contrast"] = "light"
    stats: bool = False  # html only: the statistics and the chart

    @property
    def size(self) -> tuple[int, int]:
        """The frames' size: an MP4's sides rounded down to even (yuv420p)."""
        if self.format == "mp4":
            return self.width - self.width % 2, self.height - self.height % 2
        return self.width, self.height


@dataclass(frozen=True)
class Export:
    name: str  # dropout-lab-<method or compare>-<view>.<ext>
    media_type: str
    data: bytes


class ExportCancelledError(Exception):
    """The caller's ``cancelled()`` said stop (an SSE client went away)."""


# A view's scene for the export's picture (the app's cache, or computed on the spot).
SceneGetter = Callable[[View[object], Tensor], Scene]
Progress = Callable[[int, int], None]


# ---------------------------------------------------------------- options


def _whole(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, name, f"{raw!r} is not a whole number", f"{low} to {high}") from None
    if not low <= value <= high:
        raise ApiError(422, name, f"{value} is out of range", f"{low} to {high}")
    return value


def _size(raw: str | None) -> tuple[int, int]:
    allowed = f"WIDTHxHEIGHT, width {MIN_SIDE} to {MAX_WIDTH}, height {MIN_SIDE} to {MAX_HEIGHT}"
    if raw is None or raw == "":
        return DEFAULT_SIZE
    parts = raw.lower().replace("×", "x").split("x")
    try:
        width, height = (int(part) for part in parts)
    except ValueError:
        raise ApiError(422, "size", f"{raw!r} is not WIDTHxHEIGHT", allowed) from None
    if not (MIN_SIDE <= width <= MAX_WIDTH and MIN_SIDE <= height <= MAX_HEIGHT):
        raise ApiError(422, "size", f"{width}x{height} is out of range", allowed)
    return width, height


def _choice(query: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise ApiError(422, name, f"{raw!r} is not offered", "one of " + ", ".join(choices))
    return raw


def parse_options(query: Mapping[str, str]) -> ExportOptions:
    """The export's options from a query (``format``, ``frames``, ``size``, ``fps``, ``start``,
    ``theme``, ``stats``); ``ApiError`` naming the field and what it allows."""
    if not query.get("format"):
        raise ApiError(422, "format", "a format is required", "one of " + ", ".join(FORMATS))
    chosen = _choice(query, "format", tuple(FORMATS), "gif")
    frames = _whole(query, "frames", DEFAULT_FRAMES, 1, MAX_FRAMES)
    width, height = _size(query.get("size"))
    fps = _whole(query, "fps", DEFAULT_FPS, 1, MAX_FPS)
    start_raw = query.get("start")
    start = None if not start_raw else _whole(query, "start", 0, 0, ITERATIONS - 1)
    theme = _choice(query, "theme", tuple(THEMES), "light")
    stats_raw = (query.get("stats") or "false").lower()
    if stats_raw not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ApiError(422, "stats", f"{stats_raw!r} is not a boolean", "true or false")
    options = ExportOptions(
        chosen,  # type: ignore[arg-type]
        frames,
        width,
        height,
        fps,
        start,
        theme,  # type: ignore[arg-type]
        stats_raw in ("true", "1", "yes", "on"),
    )
    check_budget(options)
    return options


def check_budget(options: ExportOptions) -> None:
    """frames x width x height within the format's budget; ``ApiError`` on ``frames`` if not."""
    width, height = options.size
    budget = MAX_PIXELS[options.format]
    if options.frames * width * height > budget:
        most = max(1, budget // (width * height))
        raise ApiError(
            422,
            "frames",
            f"{options.frames} frames of {width}x{height} are too many for {options.format}",
            f"at most {min(most, MAX_FRAMES)} at this size "
            f"(frames x width x height <= {budget // 1_000_000} million)",
        )


# ---------------------------------------------------------------- names


def export_name(state: LabState, options: ExportOptions) -> str:
    what = "compare" if state.comparison else state.panels[0].method
    return f"dropout-lab-{what}-{state.view}.{FORMATS[options.format][1]}"


def iterations(state: LabState, options: ExportOptions) -> list[int]:
    """The iteration of each exported frame: ``(start + k) % 100``, as the player loops."""
    start = state.iteration if options.start is None else options.start
    return [(start + k) % ITERATIONS for k in range(options.frames)]


# ---------------------------------------------------------------- frames


def prepare(
    state: LabState, picture: Tensor, scenes: SceneGetter | None = None
) -> list[PanelInput]:
    """Each panel's scene, theory and its JSON, once per export."""
    view = BUILT[state.view]
    scene = scenes(view, picture) if scenes else view.scene(picture)
    panels = []
    for panel in state.panels:
        theory = view.theory(panel.method, panel.params, scene, seed=state.seed)
        panels.append(
            PanelInput(
                state.view,
                get_method(panel.method),
                dict(panel.params),
                scene,
                theory,
                view.theory_json(theory),
            )
        )
    return panels


@dataclass
class FrameSource:
    """The frames of every panel, computed a chunk of consecutive iterations at a time, each
    kept only until it is drawn (a 512 x 512 mask is 1 MB). ``order``: the iterations that will
    be taken, in order, as often as they will be."""

    view: View[object]
    panels: list[PanelInput]
    seed: int
    order: list[int]
    ready: dict[int, list[Frame]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.remaining: dict[int, int] = {}
        for iteration in self.order:
            self.remaining[iteration] = self.remaining.get(iteration, 0) + 1

    def take(self, iteration: int) -> list[Frame]:
        if iteration not in self.ready:
            end = iteration + 1
            while (
                end - iteration < CHUNK
                and end < ITERATIONS
                and self.remaining.get(end, 0) > 0
                and end not in self.ready
            ):
                end += 1
            computed = [
                self.view.frames(
                    panel.method.id, panel.params, self.seed, range(iteration, end), panel.scene,
                    panel.theory,
                )
                for panel in self.panels
            ]  # fmt: skip
            for offset, it in enumerate(range(iteration, end)):
                self.ready[it] = [frames[offset] for frames in computed]
        self.remaining[iteration] -= 1
        return self.ready.pop(iteration)


def heading(state: LabState) -> str:
    """A comparison's first caption line."""
    label = get_view(state.view).label
    return f"Comparison · {label} · seed {state.seed}"


# ---------------------------------------------------------------- encoders


class Encoder:
    """Takes the frames one by one (``iteration`` says which: a repeated one may be reused)."""

    def has(self, iteration: int) -> bool:
        return False

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        raise NotImplementedError

    def finish(self) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release what ``finish`` would have (on an error or a cancel)."""


class GifEncoder(Encoder):
    def __init__(self, options: ExportOptions) -> None:
        self.duration = round(1000 / options.fps)
        self.frames: list[Image.Image] = []
        self.seen: dict[int, Image.Image] = {}

    def has(self, iteration: int) -> bool:
        return iteration in self.seen

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        if picture is None:
            self.frames.append(self.seen[iteration])
            return
        quantised = picture.quantize(
            256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        self.seen[iteration] = quantised
        self.frames.append(quantised)

    def finish(self) -> bytes:
        buffer = io.BytesIO()
        first, *rest = self.frames
        first.save(
            buffer, format="GIF", save_all=True, append_images=rest, duration=self.duration,
            loop=0, optimize=False, disposal=1,
        )  # fmt: skip
        return buffer.getvalue()


class Mp4Encoder(Encoder):
    def __init__(self, options: ExportOptions) -> None:
        import imageio_ffmpeg  # imported here: a GIF or HTML export does not need ffmpeg

        handle, self.path = tempfile.mkstemp(prefix="dropout-lab-", suffix=".mp4")
        os.close(handle)
        self.size = options.size
        self.writer = imageio_ffmpeg.write_frames(
            self.path,
            self.size,
            fps=options.fps,
            codec="libx264",
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=[*X264, *BIT_EXACT, "-movflags", "+faststart"],
        )
        self.writer.send(None)  # start ffmpeg
        self.closed = False

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        assert picture is not None
        self.writer.send(np.ascontiguousarray(np.asarray(picture)))

    def finish(self) -> bytes:
        self.writer.close()
        self.closed = True
        try:
            with open(self.path, "rb") as file:
                return file.read()
        finally:
            os.unlink(self.path)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):  # ffmpeg may be gone; the file goes anyway
                self.writer.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


class HtmlEncoder(Encoder):
    """Frames as lossless WebP (each iteration once), assembled by :func:`standalone_html`."""

    def __init__(
        self, options: ExportOptions, page: Callable[[list[str], list[int]], bytes]
    ) -> None:
        self.page = page
        self.images: list[str] = []
        self.index: dict[int, int] = {}
        self.sequence: list[int] = []

    def has(self, iteration: int) -> bool:
        return iteration in self.index

    def add(self, iteration: int, picture: Image.Image | None) -> None:
        if picture is not None:
            buffer = io.BytesIO()
            picture.save(buffer, **WEBP)  # type: ignore[arg-type]
            self.index[iteration] = len(self.images)
            self.images.append(
                "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode()
            )
        self.sequence.append(self.index[iteration])

    def finish(self) -> bytes:
        return self.page(self.images, self.sequence)


# ---------------------------------------------------------------- the export


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
    renderer = RENDERERS.get(state.view)
    if renderer is None:  # a view the page shows but the exports cannot draw yet
        raise ApiError(
            422,
            "view",
            f"no export for this view yet: {state.view}",
            "one of " + ", ".join(RENDERERS),
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
        return standalone_html(state, options, panels, images, sequence, records)

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


def _query_value(value: object) -> str:
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def state_query(state: LabState, options: ExportOptions) -> dict[str, str]:
    """The query that names this export (``/api/export?…``), state and options."""
    query: dict[str, str] = {"view": state.view, "image": state.image, "seed": str(state.seed)}
    query["i"] = str(state.iteration)
    if state.comparison:
        for letter, panel in zip("abcd", state.panels, strict=False):
            query[f"{letter}.method"] = panel.method
            for name, value in panel.params.items():
                query[f"{letter}.{name}"] = _query_value(value)
    else:
        panel = state.panels[0]
        query["method"] = panel.method
        for name, value in panel.params.items():
            query[name] = _query_value(value)
    query |= {
        "format": options.format,
        "frames": str(options.frames),
        "size": f"{options.width}x{options.height}",
        "fps": str(options.fps),
        "theme": options.theme,
    }
    if options.start is not None:
        query["start"] = str(options.start)
    if options.stats:
        query["stats"] = "true"
    return query
