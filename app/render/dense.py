"""The dense view's panel: the page's training diagram, one forward pass of the toy (or the
trained) network with this iteration's masks.

As on the page (static/js/views/dense.js, ``#draw`` with ``train``): layers left to right,
each layer's neurons centred in its column; connections coloured by the weight's sign (blue
positive, orange negative), thicker for a larger ``|w|``; a connection out of a dropped neuron,
or one DropConnect dropped (dashed), grey; neurons filled by their value (white at 0, blue
positive, orange negative, deeper for larger, against the largest in the layer), a dropped one
light grey with a vermilion cross (AlphaDropout's keeps the colour of its value, α′); Gaussian
dropout's multiplier as the colour of a thick ring (blue below 1, orange above); Standout's
neurons shaded by their keep probability; each neuron's value inside it (not a dropped one's:
the cross says it), the factor a survivor was multiplied by beside it (Standout's keep
probability, "pi": the built-in font has no π), and the output's class probabilities right of
the output neurons. Under the diagram, when there is room, a one-line legend.

Where the page would overlap its circles (8 neurons in a column) the radius shrinks to the
spacing; text too small to read is left out rather than drawn illegibly (the neurons' values
first, then the factors; the probabilities fall back to the bare number). The lines and circles
are drawn at three times the size and reduced (smooth edges), the text at the final size
(crisp). Value text is dark on a light neuron and white on a deep one; grey connections are
drawn first so that the kept ones stay on top; in the contrast theme lines are opaque.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from dropouts.views.base import Frame, JsonArray

from . import text
from .base import PanelInput, Size
from .theme import ORANGE, RGB, VERMILION, WHITE, Theme, blend

BLUE: RGB = (0x00, 0x72, 0xB2)
GREY: RGB = (0x9A, 0x9A, 0x9A)  # a connection that carries nothing this iteration
DROPPED_FILL: RGB = (0xD9, 0xD9, 0xD9)
OUTLINE: RGB = (0x33, 0x33, 0x33)
DARK_TEXT: RGB = (0x11, 0x11, 0x11)
NOISE_LOW: RGB = (33, 102, 172)  # Gaussian multiplier below 1
NOISE_HIGH: RGB = (230, 97, 1)  # above 1

# The page's drawing (viewBox 520 x 300): its sizes are in these units, scaled with the radius.
PAGE_WIDTH, PAGE_HEIGHT, PAGE_RADIUS = 520, 300, 15
SUPERSAMPLE = 3  # lines and circles drawn this many times larger, then reduced
MAX_SUPERSAMPLED = 9_000_000  # pixels; a larger box is drawn at twice its size instead
LEGIBLE = text.MIN_SIZE  # px: smaller text is left out
WIDEST_VALUE = "-8.88"  # the type size of the values is set for this, on every frame


def activation_colour(value: float, top: float) -> RGB:
    """White at 0, blue for positive, orange for negative, deeper up to ``|value| = top``
    (the page's ``activationColour``)."""
    t = min(1.0, abs(value) / (top or 1.0))
    return blend(WHITE, BLUE if value >= 0 else ORANGE, t)


def noise_colour(value: float) -> RGB:
    """Gaussian dropout's multiplier: blue below 1, orange above, deeper up to 1 +- 1.5."""
    t = min(1.0, abs(value - 1.0) / 1.5)
    return blend(WHITE, NOISE_LOW if value < 1 else NOISE_HIGH, t)


def keep_colour(keep: float) -> RGB:
    """Standout: the page's ``rgba(0, 114, 178, 0.12 + 0.88 keep)``, over white."""
    return blend(WHITE, BLUE, 0.12 + 0.88 * min(1.0, max(0.0, keep)))


def _text_colour(fill: RGB) -> RGB:
    return DARK_TEXT if 0.299 * fill[0] + 0.587 * fill[1] + 0.114 * fill[2] >= 140 else WHITE


def factor_label(method: str, layer: dict[str, Any], k: int, dropped: bool) -> str:
    """What the page writes beside a neuron of the training pass (``#factorLabel``)."""
    mask = (layer.get("mask") or [None] * (k + 1))[k]
    if mask is None:
        return ""
    if method == "standout":
        keep = layer.get("keep")
        return "" if dropped or not keep else f"pi {keep[k]:.2f}"
    if method == "gaussian":
        return f"× {mask:.2f}"
    if method == "alpha":
        return "α′" if dropped else ""
    if dropped or abs(mask - 1) < 1e-9:
        return ""
    return f"× {mask:.2f}"


# The widest label of each kind, to set its type size once for every frame.
WIDEST_FACTOR = {"standout": "pi 0.88", "alpha": "α′", "dropconnect": ""}


@dataclass(frozen=True)
class LegendItem:
    glyph: str  # "dot", "line", "dashed", "dropped", "ring", "shade"
    colour: RGB
    label: str


def legend_items(method: str, short: bool) -> list[LegendItem]:
    """The legend line of ``method``'s diagram (``short``: fewer words)."""
    if method == "standout":
        items = [
            LegendItem("line", BLUE, "w > 0" if short else "weight > 0"),
            LegendItem("line", ORANGE, "w < 0" if short else "weight < 0"),
            LegendItem("shade", BLUE, "keep prob." if short else "darker: likelier kept"),
            LegendItem("dropped", DROPPED_FILL, "dropped"),
        ]
        return items
    items = [
        LegendItem("dot", BLUE, "+" if short else "positive"),
        LegendItem("dot", ORANGE, "-" if short else "negative"),
    ]
    if method == "gaussian":
        items += [
            LegendItem("ring", NOISE_LOW, "x < 1" if short else "noise x < 1"),
            LegendItem("ring", NOISE_HIGH, "x > 1" if short else "noise x > 1"),
        ]
    elif method == "dropconnect":
        items.append(LegendItem("dashed", GREY, "dropped" if short else "dropped connection"))
    elif method == "alpha":
        items.append(LegendItem("dropped", WHITE, "dropped" if short else "dropped: set to α′"))
    else:
        items.append(LegendItem("dropped", DROPPED_FILL, "dropped" if short else "dropped neuron"))
    return items


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


def _pass(frame: Frame) -> dict[str, Any]:
    array = frame.arrays["pass"]
    if not isinstance(array, JsonArray):
        raise TypeError(f"the dense view cannot draw {type(array).__name__}")
    value: dict[str, Any] = array.value
    return value


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


def _neurons(
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


def _geometry(
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


def _legend_positions(plan: Layout) -> list[tuple[float, float, float]]:
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


def _legend_glyphs(draw: ImageDraw.ImageDraw, plan: Layout, theme: Theme, ss: int) -> None:
    assert plan.legend is not None
    _, face, items = plan.legend
    outline = OUTLINE if theme.name == "light" else theme.line
    r = 0.42 * face.size * ss
    for item, (left, centre, _) in zip(items, _legend_positions(plan), strict=True):
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


def _centred(
    draw: ImageDraw.ImageDraw, x: float, y: float, label: str, face: text.Font, fill: RGB
) -> None:
    """``label`` centred on ``(x, y)`` (the middle of its digits' height)."""
    ascent = face.getmetrics()[0]
    digits = face.getbbox("0", anchor="ls")
    middle = ascent + (digits[1] + digits[3]) / 2  # from the top of the line
    text.draw(draw, (round(x - text.width(label, face) / 2), round(y - middle)), label, face, fill)


def render(panel: PanelInput, frame: Frame, size: Size, theme: Theme) -> Image.Image:
    method = panel.method.id
    network = panel.theory_json["network"]
    key = ("layout", size, method)
    if key not in panel.cache:
        panel.cache[key] = layout(method, [int(n) for n in network["shown"]], size)
    plan: Layout = panel.cache[key]
    drawn = _pass(frame)
    neurons = _neurons(method, drawn["layers"], list(panel.theory_json["input"]), plan)
    image = _geometry(panel, method, drawn, neurons, plan, size, theme)
    draw = ImageDraw.Draw(image)
    radius = plan.radius
    if plan.value_face is not None:
        for neuron in neurons:
            if neuron.dropped:
                continue  # the cross says it: 0 (AlphaDropout's alpha', its label says)
            shown, face = text.fitted(neuron.value, 1.8 * radius, int(plan.value_face.size))
            _centred(draw, neuron.x, neuron.y, shown, face, _text_colour(neuron.fill))
    if plan.factor_face is not None:
        face = plan.factor_face
        ascent = face.getmetrics()[0]
        for neuron in neurons:
            if not neuron.factor:
                continue
            # The page's spot: right of the circle, its baseline near the circle's top.
            left = neuron.x + radius + 3 * radius / PAGE_RADIUS
            top = neuron.y - radius + 2 * radius / PAGE_RADIUS - ascent
            top = max(1.0, top)
            label, fitted = text.fitted(neuron.factor, plan.factor_room, int(face.size))
            label_width = text.width(label, fitted)
            box = (left - 1, top, left + label_width + 1, top + text.line_height(face))
            draw.rectangle(box, fill=theme.panel)
            text.draw(draw, (round(left), round(top)), label, fitted, theme.ink)
    if plan.output_face is not None:
        face = plan.output_face
        last = plan.spots[-1]
        for k, probability in enumerate(drawn.get("output") or []):
            if k >= len(last):
                break
            x, y = last[k]
            label = f"class {k}: {probability:.2f}" if plan.output_full else f"{probability:.2f}"
            left = x + radius + 5 * radius / PAGE_RADIUS
            ascent = face.getmetrics()[0]
            digits = face.getbbox("0", anchor="ls")
            top = y - (ascent + (digits[1] + digits[3]) / 2)
            text.draw(draw, (round(left), round(top)), label, face, theme.ink)
    if plan.legend is not None:
        top, face, items = plan.legend
        for item, (_, _, label_left) in zip(items, _legend_positions(plan), strict=True):
            text.draw(draw, (round(label_left), top), item.label, face, theme.ink)
    return image


def aspect(panel: PanelInput) -> float:
    """The page's diagram (520 x 300) with a legend line under it."""
    del panel
    return PAGE_WIDTH / (PAGE_HEIGHT * 1.08)
