"""An export's options (``format``, ``frames``, ``resolution``, ``fps``, ``start``, ``theme``,
``stats``): their limits and defaults, parsed and checked from a query, the pixel budget of each
format, and the names an export goes by (its file name, its iterations, its query).

The frames' size is ``resolution=WIDTHxHEIGHT``. Older links call it ``size``, which is also
Cutout's hole size: a ``size`` whose value is ``WIDTHxHEIGHT`` is read as the resolution (no
hole size has that form), any other ``size`` belongs to the method (:func:`option_names`).

The work is bounded: at most 200 frames, 64-1920 x 64-1080 pixels, and frames x width x height
at most 70 million pixels for a GIF or an HTML file (their frames are held until the file is
written) and 210 million for an MP4 (streamed to ffmpeg, so bounded by time: 100 frames of
1920 x 1080, one loop of the player, take about 20 s).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..errors import ApiError
from ..render import THEMES
from ..state import ITERATIONS, LabState

Format = Literal["gif", "mp4", "html"]
FORMATS: dict[str, tuple[str, str]] = {  # format -> (media type, extension)
    "gif": ("image/gif", "gif"),
    "mp4": ("video/mp4", "mp4"),
    "html": ("text/html; charset=utf-8", "html"),
}
# The query names of an export's options (the rest of the query is the lab's state).
EXPORT_OPTIONS = frozenset({"format", "frames", "resolution", "fps", "start", "theme", "stats"})
LEGACY_RESOLUTION = "size"  # the resolution's name in older links, when its value is WxH
_RESOLUTION = re.compile(r"^\s*\d+\s*[x×X]\s*\d+\s*$")
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


def _legacy_resolution(query: Mapping[str, str]) -> bool:
    """Whether the query's ``size`` is an older link's resolution (WIDTHxHEIGHT)."""
    if "resolution" in query:
        return False
    return bool(_RESOLUTION.match(query.get(LEGACY_RESOLUTION, "")))


def option_names(query: Mapping[str, str]) -> frozenset[str]:
    """The names of ``query`` that are the export's options; the rest is the lab's state."""
    legacy = {LEGACY_RESOLUTION} if _legacy_resolution(query) else set()
    return EXPORT_OPTIONS | legacy


def _size(query: Mapping[str, str]) -> tuple[int, int]:
    name = LEGACY_RESOLUTION if _legacy_resolution(query) else "resolution"
    raw = query.get(name)
    allowed = f"WIDTHxHEIGHT, width {MIN_SIDE} to {MAX_WIDTH}, height {MIN_SIDE} to {MAX_HEIGHT}"
    if raw is None or raw == "":
        return DEFAULT_SIZE
    parts = raw.lower().replace("×", "x").split("x")
    try:
        width, height = (int(part) for part in parts)
    except ValueError:
        raise ApiError(422, name, f"{raw!r} is not WIDTHxHEIGHT", allowed) from None
    if not (MIN_SIDE <= width <= MAX_WIDTH and MIN_SIDE <= height <= MAX_HEIGHT):
        raise ApiError(422, name, f"{width}x{height} is out of range", allowed)
    return width, height


def _choice(query: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise ApiError(422, name, f"{raw!r} is not offered", "one of " + ", ".join(choices))
    return raw


def parse_options(query: Mapping[str, str]) -> ExportOptions:
    """The export's options from a query (``format``, ``frames``, ``resolution``, ``fps``,
    ``start``, ``theme``, ``stats``); ``ApiError`` naming the field and what it allows."""
    if not query.get("format"):
        raise ApiError(422, "format", "a format is required", "one of " + ", ".join(FORMATS))
    chosen = _choice(query, "format", tuple(FORMATS), "gif")
    frames = _whole(query, "frames", DEFAULT_FRAMES, 1, MAX_FRAMES)
    width, height = _size(query)
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
        "resolution": f"{options.width}x{options.height}",
        "fps": str(options.fps),
        "theme": options.theme,
    }
    if options.start is not None:
        query["start"] = str(options.start)
    if options.stats:
        query["stats"] = "true"
    return query
