"""One exported frame: the panel (or the 2-4 panels of a comparison) over a caption bar.

For a frame of ``W x H`` pixels, with ``s = clamp(round(min(W / 24, H / 16)), 8, 44)``, the
type size, and ``pad = max(2, round(0.35 s))``:

- the caption bar, along the bottom: two lines of text at up to ``s`` px (a line too long is
  set smaller, then cut with "..."), ``pad`` around them, a one-pixel rule above. One method:
  its name and parameters (``Standard dropout  p=0.5, scaling=inverted``), then the
  iteration and the dropped fraction against its expectation (``iteration 12 · 49.8 % of
  pixels dropped (expected 50.0 %)``; for Gaussian noise, the mask's variance). A comparison:
  ``Comparison · <view> · seed S``, then the iteration;
- above it, ``pad`` in from the edges, the panel box(es). A comparison puts its panels in the
  arrangement that draws them largest (side by side; for four, 2 x 2 when the frame is closer
  to square; for a tall frame, stacked), ``pad`` apart, each headed by two lines at up to
  ``0.8 s`` px: its method and setting, then its own dropped fraction against expected.

Every colour is the theme's (``light``: the page; ``contrast``: white on black, the page's
projector mode).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from dropouts.registry import ParamValue
from dropouts.views.base import Frame

from . import text
from .base import PanelInput, Size, canvas
from .theme import Theme

PLURAL = {
    "pixel": "pixels",
    "channel": "channels",
    "activation": "activations",
    "map": "maps",
    "unit": "units",
}


def value_text(value: ParamValue) -> str:
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def setting_text(params: dict[str, ParamValue]) -> str:
    """The parameters as the URL and the command line name them: ``p=0.5, scaling=inverted``."""
    return ", ".join(f"{name}={value_text(value)}" for name, value in params.items())


def percent(fraction: float) -> str:
    """A fraction as a percentage, with the digits a small one needs (Max-Drop: 0.0073 %)."""
    value = 100 * fraction
    return f"{value:.2g}" if 0 < abs(value) < 1 else f"{value:.1f}"


def measure_text(theory: dict[str, object], stats: dict[str, object]) -> str:
    """This frame's dropped fraction against its expectation (the mask's variance for noise,
    which drops nothing)."""
    if theory.get("mask_kind") == "real":
        expected = theory.get("mask_variance")
        measured = float(stats.get("mask_variance") or 0.0)
        tail = f" (expected {float(expected):.2f})" if isinstance(expected, int | float) else ""
        return f"mask variance {measured:.2f}{tail}"
    unit = PLURAL.get(str(theory.get("unit", "unit")), "units")
    measured = float(stats.get("dropped_fraction") or 0.0)
    expected = theory.get("expected_dropped_fraction")
    tail = f" (expected {percent(float(expected))} %)" if isinstance(expected, int | float) else ""
    return f"{percent(measured)} % of {unit} dropped{tail}"


def title_text(panel: PanelInput) -> str:
    setting = setting_text(panel.params)
    return f"{panel.method.name}  {setting}" if setting else panel.method.name


@dataclass(frozen=True)
class Metrics:
    size: int  # type size, px
    pad: int

    @staticmethod
    def of(size: Size) -> Metrics:
        width, height = size
        type_size = max(8, min(44, round(min(width / 24, height / 16))))
        return Metrics(type_size, max(2, round(0.35 * type_size)))

    @property
    def label_size(self) -> int:
        return max(text.MIN_SIZE, round(0.8 * self.size))

    def lines_height(self, type_size: int) -> int:
        return 2 * text.line_height(text.font(type_size))


def arrangements(count: int) -> list[tuple[int, int]]:
    """(columns, rows) a comparison of ``count`` panels may take, side by side first."""
    options = [(count, 1)]
    if count == 4:
        options.append((2, 2))
    options.append((1, count))
    return options


def panel_boxes(
    size: Size, count: int, aspect: float
) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int, int] | None]]:
    """Per panel: its content box (left, top, right, bottom) and its label box, if any."""
    width, height = size
    metrics = Metrics.of(size)
    pad = metrics.pad
    bar = metrics.lines_height(metrics.size) + 2 * pad
    area = (pad, pad, width - pad, height - bar - pad)
    if count == 1:
        return [(area, None)]
    label = metrics.lines_height(metrics.label_size) + pad // 2
    best: tuple[float, list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]] | None = (
        None
    )
    for columns, rows in arrangements(count):
        cell_width = (area[2] - area[0] - pad * (columns - 1)) / columns
        cell_height = (area[3] - area[1] - pad * (rows - 1)) / rows
        box_height = cell_height - label
        if cell_width < 1 or box_height < 1:
            continue
        scale = min(cell_width / aspect, box_height)  # the content's height when fitted
        boxes = []
        for index in range(count):
            row, column = divmod(index, columns)
            left = round(area[0] + column * (cell_width + pad))
            top = round(area[1] + row * (cell_height + pad))
            right = round(area[0] + column * (cell_width + pad) + cell_width)
            bottom = round(area[1] + row * (cell_height + pad) + cell_height)
            boxes.append(((left, top + label, right, bottom), (left, top, right, top + label)))
        if best is None or scale > best[0] * 1.0001:
            best = (scale, boxes)
    if best is None:  # too small to label: side by side, unlabelled
        step = (area[2] - area[0]) / count
        return [
            ((round(area[0] + i * step), area[1], round(area[0] + (i + 1) * step), area[3]), None)
            for i in range(count)
        ]
    return [(content, label_box) for content, label_box in best[1]]


def _two_lines(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    lines: Sequence[str],
    sizes: Sequence[int],
    line_height: int,
    colours: Sequence[tuple[int, int, int]],
) -> None:
    """``lines`` one under the other from the top of ``box``, each at its size (cut with
    "..." if it still does not fit)."""
    left, top, right, _ = box
    for index, (line, size, colour) in enumerate(zip(lines, sizes, colours, strict=True)):
        shown, face = text.fitted(line, right - left, size)
        text.draw(draw, (left, top + index * line_height), shown, face, colour)


def compose(
    parts: Sequence[tuple[PanelInput, Frame]],
    size: Size,
    theme: Theme,
    render: Callable[[PanelInput, Frame, Size, Theme], Image.Image],
    aspect: float,
    *,
    heading: str,
) -> Image.Image:
    """The frame of ``size``: each part's panel drawn by ``render`` in its box, labels, and the
    caption bar. ``heading`` is a comparison's first caption line (a single method's is its
    name and setting)."""
    width, height = size
    metrics = Metrics.of(size)
    pad = metrics.pad
    bar = metrics.lines_height(metrics.size) + 2 * pad
    image = Image.fromarray(canvas(size, theme.paper), "RGB")
    draw = ImageDraw.Draw(image)
    boxes = panel_boxes(size, len(parts), aspect)
    labels = [
        (title_text(panel), measure_text(panel.theory_json, frame.stats)) for panel, frame in parts
    ]
    room = min((label[2] - label[0] for _, label in boxes if label is not None), default=1)
    label_sizes = [
        text.common_size([line[k] for line in labels], room, metrics.label_size) for k in (0, 1)
    ]
    label_line = text.line_height(text.font(metrics.label_size))
    for (panel, frame), (box, label), lines in zip(parts, boxes, labels, strict=True):
        box_size = (max(1, box[2] - box[0]), max(1, box[3] - box[1]))
        image.paste(render(panel, frame, box_size, theme), (box[0], box[1]))
        if label is not None:
            _two_lines(draw, label, lines, label_sizes, label_line, (theme.ink, theme.muted))
    top = height - bar
    draw.rectangle([0, top, width - 1, height - 1], fill=theme.bar)
    draw.line([(0, top), (width - 1, top)], fill=theme.line, width=1)
    first_panel, first_frame = parts[0]
    iteration = f"iteration {first_frame.iteration}"
    if text.width(iteration + "...", text.font(text.MIN_SIZE)) > width - 2 * pad:
        iteration = str(first_frame.iteration)  # a tiny frame: at least the number shows
    if len(parts) == 1:
        measure = measure_text(first_panel.theory_json, first_frame.stats)
        lines = (title_text(first_panel), f"{iteration} · {measure}")
    else:
        lines = (heading, iteration)
    sizes = [text.common_size([line], width - 2 * pad, metrics.size) for line in lines]
    line_height = text.line_height(text.font(metrics.size))
    box = (pad, top + pad, width - pad, height - pad)
    _two_lines(draw, box, lines, sizes, line_height, (theme.ink, theme.ink))
    return image
