"""Where the dense diagram's parts go in a box and at what sizes its text is set: the neurons'
spots and radius, the type of the values, the factors and the output probabilities (each at one
size, or left out when too small to read), and the legend line under the diagram, if it fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import text
from ..base import Size
from .marks import LegendItem, legend_items

# The page's drawing (viewBox 520 x 300): its sizes are in these units, scaled with the radius.
PAGE_WIDTH, PAGE_HEIGHT, PAGE_RADIUS = 520, 300, 15
LEGIBLE = text.MIN_SIZE  # px: smaller text is left out
WIDEST_VALUE = "-8.88"  # the type size of the values is set for this, on every frame

# The widest label of each kind, to set its type size once for every frame.
WIDEST_FACTOR = {"standout": "pi 0.88", "alpha": "α′", "dropconnect": ""}


def _legend_width(items: Sequence[LegendItem], face: text.Font) -> float:
    glyph = 1.6 * face.size
    gap = 0.35 * face.size
    between = 1.1 * face.size
    return sum(glyph + gap + text.width(item.label, face) for item in items) + between * (
        len(items) - 1
    )


@dataclass(frozen=True)
class Layout:
    spots: tuple[tuple[tuple[float, float], ...], ...]  # per layer, per neuron: (x, y)
    radius: float
    diagram: tuple[int, int]  # the diagram's width and height (from the top of the box)
    value_face: text.Font | None
    factor_face: text.Font | None
    factor_room: float  # px from the circle to the next column's
    output_face: text.Font | None
    output_full: bool  # "class k: 0.62", or only "0.62"
    legend: tuple[int, text.Font, tuple[LegendItem, ...]] | None  # top, face, items


def _legend(method: str, size: Size) -> tuple[int, text.Font, tuple[LegendItem, ...]] | None:
    """The legend's top, face and items, if a line of it fits under the diagram: at most an
    eighth of the height, across the width at a legible size."""
    width, height = size
    wanted = max(text.MIN_SIZE, min(22, round(min(width / 45, height / 20))))
    for short in (False, True):
        items = legend_items(method, short)
        type_size = wanted
        while type_size > LEGIBLE and _legend_width(items, text.font(type_size)) > width - 4:
            type_size -= 1
        face = text.font(type_size)
        line = text.line_height(face)
        if _legend_width(items, face) <= width - 4 and 8 * (line + 2) <= height:
            return height - line - 1, face, tuple(items)
    return None


def layout(method: str, shown: Sequence[int], size: Size) -> Layout:
    """Where the neurons go in a box of ``size`` and at what sizes the text is set: the
    diagram fills the box (over the legend), the output probabilities to the right."""
    width, height = size
    legend = _legend(method, size)
    diagram_height = (legend[0] - max(2, height // 60)) if legend else height
    scale = min(width / PAGE_WIDTH, diagram_height / PAGE_HEIGHT)
    columns = len(shown)
    most = max(shown)
    pad_y = max(2.0, 0.06 * diagram_height)
    dy = (diagram_height - 2 * pad_y) / most
    radius = min(0.36 * dy, 0.2 * width / max(1, columns))  # a first guess, for the type
    output_size = max(text.MIN_SIZE, min(28, round(max(13 * scale, 0.75 * radius))))
    output_face: text.Font | None = None
    output_full = True
    right = max(2.0, 0.04 * width)
    for full, widest in ((True, "class 0: 0.88"), (False, "0.88")):
        room = 0.3 * width - radius - 6 * scale
        type_size = text.common_size([widest], room, output_size)
        if type_size >= LEGIBLE and text.width(widest, text.font(type_size)) <= room:
            output_face, output_full = text.font(type_size), full
            right = radius + 5 * scale + text.width(widest, output_face) + max(2.0, 0.01 * width)
            break
    pad_x = 0.065 * width
    for _ in range(2):  # the radius depends on the spacing, the margin on the radius
        dx = (width - pad_x - right) / max(1, columns - 1)
        radius = max(1.5, min(0.36 * dy, 0.2 * dx))
        pad_x = max(0.065 * width, radius + 2)
    spots = tuple(
        tuple(
            (pad_x + dx * layer, pad_y + dy * (k + 0.5) + (most - count) * dy / 2)
            for k in range(count)
        )
        for layer, count in enumerate(shown)
    )
    # Values inside the neurons, factors beside them: each at one size, or not at all.
    value_face: text.Font | None = None
    value_size = text.common_size([WIDEST_VALUE], 1.8 * radius, round(0.8 * radius))
    face = text.font(value_size)
    if (
        value_size >= LEGIBLE
        and text.width(WIDEST_VALUE, face) <= 1.8 * radius
        and text.line_height(face) <= 1.7 * radius
    ):
        value_face = face
    factor_face: text.Font | None = None
    widest = WIDEST_FACTOR.get(method, "× 8.88")
    if widest and value_face is not None:
        unit = radius / PAGE_RADIUS
        ring = 3.5 * unit if method == "gaussian" else 0.0  # the ring reaches past the edge
        factor_room = dx - 2 * radius - 3 * unit - ring - 2
        factor_size = text.common_size([widest], factor_room, int(value_face.size))
        face = text.font(factor_size)
        if factor_size >= LEGIBLE and text.width(widest, face) <= factor_room:
            factor_face = face
    return Layout(
        spots,
        radius,
        (width, round(diagram_height)),
        value_face,
        factor_face,
        factor_room if factor_face is not None else 0.0,
        output_face,
        output_full,
        legend,
    )


def legend_positions(plan: Layout) -> list[tuple[float, float, float]]:
    """Per legend item: the glyph's left, its centre line, and where its label starts."""
    assert plan.legend is not None
    top, face, items = plan.legend
    total = _legend_width(items, face)
    x = (plan.diagram[0] - total) / 2
    centre = top + text.line_height(face) / 2
    out = []
    for item in items:
        glyph = 1.6 * face.size
        out.append((x, centre, x + glyph + 0.35 * face.size))
        x += glyph + 0.35 * face.size + text.width(item.label, face) + 1.1 * face.size
    return out
