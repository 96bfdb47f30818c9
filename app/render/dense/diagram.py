"""The dense diagram's lines and circles: its tile, the connections (grey ones first, dashed
where DropConnect cut them), the neurons with their rings and crosses, and the legend's glyphs,
drawn at several times the size and reduced (smooth edges). The text goes on afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from ..base import PanelInput, Size
from ..theme import ORANGE, RGB, VERMILION, WHITE, Theme, blend
from .marks import (
    BLUE,
    DROPPED_FILL,
    GREY,
    OUTLINE,
    activation_colour,
    factor_label,
    keep_colour,
    noise_colour,
)
from .plan import PAGE_RADIUS, Layout, legend_positions

SUPERSAMPLE = 3  # lines and circles drawn this many times larger, then reduced
MAX_SUPERSAMPLED = 9_000_000  # pixels; a larger box is drawn at twice its size instead


def _max_weight(panel: PanelInput) -> float:
    if "max_weight" not in panel.cache:
        layers = panel.theory_json["network"]["layers"]
        weights = [abs(w) for layer in layers for row in layer["weights"] for w in row]
        panel.cache["max_weight"] = max([1e-9, *weights])
    top: float = panel.cache["max_weight"]
    return top


def _dashed_line(
    draw: ImageDraw.ImageDraw,
    a: tuple[float, float],
    b: tuple[float, float],
    colour: RGB,
    width: int,
    dash: float,
    gap: float,
) -> None:
    length = math.dist(a, b)
    if length == 0:
        return
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    at = 0.0
    while at < length:
        end = min(length, at + dash)
        draw.line(
            [(a[0] + ux * at, a[1] + uy * at), (a[0] + ux * end, a[1] + uy * end)],
            fill=colour,
            width=width,
        )
        at = end + gap


@dataclass(frozen=True)
class Neuron:
    x: float
    y: float
    fill: RGB
    ring: RGB | None  # Gaussian dropout's multiplier
    dropped: bool
    value: str
    factor: str


def place_neurons(
    method: str, layers: list[dict[str, Any]], inputs: list[float], plan: Layout
) -> list[Neuron]:
    neurons = []
    for index, (layer, places) in enumerate(zip(layers, plan.spots, strict=False)):
        values = layer.get("values") or []
        top = max([1e-9, *(abs(v) for v in values)])
        masks = layer.get("mask")
        keeps = layer.get("keep")
        for k, (x, y) in enumerate(places):
            value = values[k] if k < len(values) else 0.0
            mask = masks[k] if masks is not None and k < len(masks) else None
            dropped = method != "gaussian" and mask == 0
            fill = activation_colour(value, top)
            if method == "standout" and keeps is not None:
                fill = keep_colour(keeps[k])
            if dropped and method != "alpha":
                fill = DROPPED_FILL
            ring = noise_colour(mask) if method == "gaussian" and mask is not None else None
            shown = inputs[k] if index == 0 and k < len(inputs) else value
            neurons.append(
                Neuron(
                    x,
                    y,
                    fill,
                    ring,
                    dropped,
                    f"{shown:.2f}",
                    factor_label(method, layer, k, dropped),
                )
            )
    return neurons


def draw_geometry(
    panel: PanelInput,
    method: str,
    drawn: dict[str, Any],
    neurons: list[Neuron],
    plan: Layout,
    size: Size,
    theme: Theme,
) -> Image.Image:
    """The lines and circles, drawn larger and reduced to ``size``: the panel's tile, the
    connections, the neurons and their marks."""
    width, height = size
    ss = SUPERSAMPLE if width * height * SUPERSAMPLE**2 <= MAX_SUPERSAMPLED else 2
    big = Image.new("RGB", (width * ss, height * ss), theme.paper)
    draw = ImageDraw.Draw(big)
    diagram_width, diagram_height = plan.diagram
    draw.rectangle(
        [0, 0, diagram_width * ss - 1, diagram_height * ss - 1],
        fill=theme.panel,
        outline=theme.line,
        width=ss,
    )
    unit = plan.radius / PAGE_RADIUS * ss  # one of the page's units, in supersampled pixels
    opaque = theme.name == "contrast"
    kept_alpha, off_alpha = (1.0, 0.6) if opaque else (0.75, 0.35)
    top = _max_weight(panel)
    network = panel.theory_json["network"]
    layers = drawn["layers"]
    connections = drawn.get("connections") or []
    off_lines, kept_lines = [], []
    for index, layer in enumerate(network["layers"]):
        masks = connections[index + 1] if index + 1 < len(connections) else None
        from_mask = layers[index].get("mask")
        for j, row in enumerate(layer["weights"]):
            for i, w in enumerate(row):
                a, b = plan.spots[index][i], plan.spots[index + 1][j]
                cut = masks is not None and masks["weights"][j][i] == 0
                from_dropped = (
                    method not in ("dropconnect", "gaussian")
                    and from_mask is not None
                    and from_mask[i] == 0
                )
                stroke = max(1, round((0.6 + 3 * abs(w) / top) * unit))
                line = ((a[0] * ss, a[1] * ss), (b[0] * ss, b[1] * ss), stroke, cut)
                if cut or from_dropped:
                    off_lines.append((*line, blend(theme.panel, GREY, off_alpha)))
                else:
                    colour = BLUE if w >= 0 else ORANGE
                    kept_lines.append((*line, blend(theme.panel, colour, kept_alpha)))
    for start, end, stroke, cut, colour in [*off_lines, *kept_lines]:
        if cut:
            _dashed_line(draw, start, end, colour, stroke, 4 * unit, 3 * unit)
        else:
            draw.line([start, end], fill=colour, width=stroke)
    outline = OUTLINE if theme.name == "light" else theme.line
    radius = plan.radius * ss
    for neuron in neurons:
        x, y = neuron.x * ss, neuron.y * ss
        if neuron.ring is not None:  # the page's 5-unit stroke, centred on the edge
            ring = max(ss, round(5 * unit))
            outer = radius + ring / 2
            edge = outer + max(ss / 2, unit / 2)  # a hairline: a ring near x 1 is near white
            draw.ellipse([x - edge, y - edge, x + edge, y + edge], fill=outline)
            draw.ellipse([x - outer, y - outer, x + outer, y + outer], fill=neuron.ring)
            inner = radius - ring / 2
            draw.ellipse([x - inner, y - inner, x + inner, y + inner], fill=neuron.fill)
        else:
            stroke = max(ss, round(unit))
            draw.ellipse(
                [x - radius, y - radius, x + radius, y + radius],
                fill=neuron.fill,
                outline=outline,
                width=stroke,
            )
        if neuron.dropped:  # on a white halo: AlphaDropout's may be orange
            d = radius * 0.75
            cross = max(ss, round(3 * unit))
            for colour, stroke in ((WHITE, cross + 2 * max(1, round(unit))), (VERMILION, cross)):
                draw.line([(x - d, y - d), (x + d, y + d)], fill=colour, width=stroke)
                draw.line([(x + d, y - d), (x - d, y + d)], fill=colour, width=stroke)
    if plan.legend is not None:
        _legend_glyphs(draw, plan, theme, ss)
    return big.reduce(ss)


def _legend_glyphs(draw: ImageDraw.ImageDraw, plan: Layout, theme: Theme, ss: int) -> None:
    assert plan.legend is not None
    _, face, items = plan.legend
    outline = OUTLINE if theme.name == "light" else theme.line
    r = 0.42 * face.size * ss
    for item, (left, centre, _) in zip(items, legend_positions(plan), strict=True):
        cx, cy = (left + 0.8 * face.size) * ss, centre * ss
        line_width = max(ss, round(0.2 * face.size * ss))
        start, end = (left * ss, cy), ((left + 1.6 * face.size) * ss, cy)
        if item.glyph == "line":
            draw.line([start, end], fill=item.colour, width=line_width)
        elif item.glyph == "dashed":
            dash, gap = 0.4 * face.size * ss, 0.3 * face.size * ss
            _dashed_line(draw, start, end, item.colour, line_width, dash, gap)
        elif item.glyph == "ring":
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=item.colour)
            inner = r * 0.55
            draw.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=WHITE)
        else:
            fill = keep_colour(0.75) if item.glyph == "shade" else item.colour
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline, width=ss)
            if item.glyph == "dropped":
                d = r * 0.75
                cross = max(ss, round(0.15 * face.size * ss))
                draw.line([(cx - d, cy - d), (cx + d, cy + d)], fill=VERMILION, width=cross)
                draw.line([(cx + d, cy - d), (cx - d, cy + d)], fill=VERMILION, width=cross)
