"""One exported frame: the panel (or the 2-4 panels of a comparison) over a caption bar.

For a frame of ``W x H`` pixels, with ``s = clamp(round(min(W / 28, H / 18)), 8, 36)``, the
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
  ``0.8 s`` px, the same size on every panel: its method and setting, then its own dropped
  fraction against expected; the label sits just above its drawing, the two centred in their
  cell.

Type sizes are chosen from the widest captions the export can have (the widest number forms),
so that nothing moves from one frame to the next.

Every colour is the theme's (``light``: the page; ``contrast``: white on black, the page's
projector mode).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from dropouts.lab.registry import ParamValue, get_view
from dropouts.lab.views.base import Frame

from . import text
from .base import PanelInput, Size, canvas
from .theme import Theme

PLURAL = {
    "pixel": "pixels",
    "channel": "channels",
    "activation": "activations",
    "map": "maps",
    "unit": "units",
    "neuron": "neurons",
    "connection": "connections",
    "branch": "branches",
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
    """A fraction as a percentage, with the digits a small one needs (Max-Drop drops one
    activation in 87,000: 0.0011 %)."""
    value = 100 * fraction
    if value == 0 or abs(value) >= 1:
        return f"{value:.1f}"
    if abs(value) >= 0.01:
        return f"{value:.2g}"
    return f"{value:.4f}"


def measure_text(theory: dict[str, object], stats: dict[str, object]) -> str:
    """This frame's dropped fraction against its expectation (the mask's variance for noise,
    which drops nothing)."""
    if theory.get("mask_kind") == "real" and "mask_variance" not in theory:
        return "noise on every unit, none dropped"
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
    # The view's grouped parameters (the dense view's training run) are not the frame's.
    grouped = {param.name for param in get_view(panel.view).params if param.group}
    setting = setting_text({k: v for k, v in panel.params.items() if k not in grouped})
    return f"{panel.method.name}  {setting}" if setting else panel.method.name


@dataclass(frozen=True)
class Metrics:
    size: int  # type size, px
    pad: int

    @staticmethod
    def of(size: Size) -> Metrics:
        width, height = size
        type_size = max(8, min(36, round(min(width / 28, height / 18))))
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


Box = tuple[int, int, int, int]  # left, top, right, bottom

# Statistics that give the widest caption a frame can have (the widest number forms), so the
# type size, and with it the layout, stays the same on every frame of an export.
WIDEST_STATS: dict[str, object] = {"dropped_fraction": 0.000088, "mask_variance": 88.888}


@dataclass(frozen=True)
class Label:
    box: Box
    sizes: tuple[int, int]  # type size of each line
    line_height: int


def _label_sizes(lines: Sequence[tuple[str, str]], room: float, size: int) -> tuple[int, int]:
    first = text.common_size([line[0] for line in lines], room, size)
    second = text.common_size([line[1] for line in lines], room, size)
    return first, second


def panel_boxes(
    size: Size, labels: Sequence[tuple[str, str]], aspect: float
) -> list[tuple[Box, Label | None]]:
    """Per panel: the box its drawing fills and its label, if any. ``labels``: each panel's two
    label lines as wide as they can be (their type sizes are set from these, once, so that the
    layout does not move from frame to frame); ``aspect``: the drawing's width / height.

    One panel fills the area over the caption bar. Several take the arrangement that draws them
    largest, each label just above its drawing, the two centred together in their cell."""
    width, height = size
    metrics = Metrics.of(size)
    pad = metrics.pad
    bar = metrics.lines_height(metrics.size) + 2 * pad
    area = (pad, pad, width - pad, height - bar - pad)
    count = len(labels)
    if count == 1:
        return [(area, None)]
    best: tuple[float, list[tuple[Box, Label | None]]] | None = None
    for columns, rows in arrangements(count):
        cell_width = (area[2] - area[0] - pad * (columns - 1)) / columns
        cell_height = (area[3] - area[1] - pad * (rows - 1)) / rows
        sizes = _label_sizes(labels, cell_width, metrics.label_size)
        line_height = text.line_height(text.font(max(sizes)))
        label_height = 2 * line_height + max(1, pad // 3)
        room = cell_height - label_height
        if cell_width < 1 or room < 1:
            continue
        shown = min(room, cell_width / aspect)  # the drawing's height, fitted
        boxes: list[tuple[Box, Label | None]] = []
        for index in range(count):
            row, column = divmod(index, columns)
            left = round(area[0] + column * (cell_width + pad))
            right = round(area[0] + column * (cell_width + pad) + cell_width)
            top = round(area[1] + row * (cell_height + pad) + (room - shown) / 2)
            label = Label((left, top, right, top + label_height), sizes, line_height)
            content = (left, top + label_height, right, round(top + label_height + shown))
            boxes.append((content, label))
        if best is None or shown > best[0] * 1.0001:
            best = (shown, boxes)
    if best is None:  # too small to label: side by side, unlabelled
        step = (area[2] - area[0]) / count
        return [
            ((round(area[0] + i * step), area[1], round(area[0] + (i + 1) * step), area[3]), None)
            for i in range(count)
        ]
    return best[1]


def _two_lines(
    draw: ImageDraw.ImageDraw,
    box: Box,
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


def _iteration(number: int, room: float) -> str:
    words = f"iteration {number}"
    if text.width("iteration 99...", text.font(text.MIN_SIZE)) > room:
        return str(number)  # a tiny frame: at least the number shows
    return words


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
    name and setting). Type sizes come from the widest captions the export can have, so nothing
    moves from one frame to the next but what changed."""
    width, height = size
    metrics = Metrics.of(size)
    pad = metrics.pad
    bar = metrics.lines_height(metrics.size) + 2 * pad
    room = width - 2 * pad
    widest = [
        (title_text(panel), measure_text(panel.theory_json, WIDEST_STATS)) for panel, _ in parts
    ]
    image = Image.fromarray(canvas(size, theme.paper), "RGB")
    draw = ImageDraw.Draw(image)
    for (panel, frame), (box, label) in zip(parts, panel_boxes(size, widest, aspect), strict=True):
        box_size = (max(1, box[2] - box[0]), max(1, box[3] - box[1]))
        image.paste(render(panel, frame, box_size, theme), (box[0], box[1]))
        if label is not None:
            lines = (title_text(panel), measure_text(panel.theory_json, frame.stats))
            _two_lines(
                draw, label.box, lines, label.sizes, label.line_height, (theme.ink, theme.muted)
            )
    top = height - bar
    draw.rectangle([0, top, width - 1, height - 1], fill=theme.bar)
    draw.line([(0, top), (width - 1, top)], fill=theme.line, width=1)
    first_panel, first_frame = parts[0]
    iteration = _iteration(first_frame.iteration, room)
    if len(parts) == 1:
        measure = measure_text(first_panel.theory_json, first_frame.stats)
        lines = (title_text(first_panel), f"{iteration} · {measure}")
        widest_second = f"{_iteration(99, room)} · {widest[0][1]}"
    else:
        lines = (heading, iteration)
        widest_second = _iteration(99, room)
    sizes = [text.common_size([line], room, metrics.size) for line in (lines[0], widest_second)]
    line_height = text.line_height(text.font(metrics.size))
    _two_lines(
        draw,
        (pad, top + pad, width - pad, height - pad),
        lines,
        sizes,
        line_height,
        (theme.ink, theme.ink),
    )
    return image
