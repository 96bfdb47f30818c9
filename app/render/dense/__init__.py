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

The package by concern: :mod:`~app.render.dense.marks` (what the colours and labels mean, the
legend's items), :mod:`~app.render.dense.plan` (where everything goes, at what type size),
:mod:`~app.render.dense.diagram` (the lines and circles) and, here, :func:`render` (the panel:
the diagram, then its text) and :func:`aspect`.
"""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from dropouts.lab.views.base import Frame, JsonArray

from .. import text
from ..base import PanelInput, Size, ViewRenderer
from ..theme import RGB, Theme
from .diagram import MAX_SUPERSAMPLED, SUPERSAMPLE, Neuron, draw_geometry, place_neurons
from .marks import (
    BLUE,
    DARK_TEXT,
    DROPPED_FILL,
    GREY,
    NOISE_HIGH,
    NOISE_LOW,
    OUTLINE,
    LegendItem,
    activation_colour,
    factor_label,
    keep_colour,
    legend_items,
    noise_colour,
    text_colour,
)
from .plan import (
    LEGIBLE,
    PAGE_HEIGHT,
    PAGE_RADIUS,
    PAGE_WIDTH,
    WIDEST_FACTOR,
    WIDEST_VALUE,
    Layout,
    layout,
    legend_positions,
)

__all__ = [
    "BLUE",
    "DARK_TEXT",
    "DROPPED_FILL",
    "GREY",
    "LEGIBLE",
    "MAX_SUPERSAMPLED",
    "NOISE_HIGH",
    "NOISE_LOW",
    "OUTLINE",
    "PAGE_HEIGHT",
    "PAGE_RADIUS",
    "PAGE_WIDTH",
    "RENDERER",
    "SUPERSAMPLE",
    "WIDEST_FACTOR",
    "WIDEST_VALUE",
    "Layout",
    "LegendItem",
    "Neuron",
    "activation_colour",
    "aspect",
    "factor_label",
    "keep_colour",
    "layout",
    "legend_items",
    "noise_colour",
    "render",
]


def _pass(frame: Frame) -> dict[str, Any]:
    array = frame.arrays["pass"]
    if not isinstance(array, JsonArray):
        raise TypeError(f"the dense view cannot draw {type(array).__name__}")
    value: dict[str, Any] = array.value
    return value


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
    neurons = place_neurons(method, drawn["layers"], list(panel.theory_json["input"]), plan)
    image = draw_geometry(panel, method, drawn, neurons, plan, size, theme)
    draw = ImageDraw.Draw(image)
    radius = plan.radius
    if plan.value_face is not None:
        for neuron in neurons:
            if neuron.dropped:
                continue  # the cross says it: 0 (AlphaDropout's alpha', its label says)
            shown, face = text.fitted(neuron.value, 1.8 * radius, int(plan.value_face.size))
            _centred(draw, neuron.x, neuron.y, shown, face, text_colour(neuron.fill))
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
        for item, (_, _, label_left) in zip(items, legend_positions(plan), strict=True):
            text.draw(draw, (round(label_left), top), item.label, face, theme.ink)
    return image


def aspect(panel: PanelInput) -> float:
    """The page's diagram (520 x 300) with a legend line under it."""
    del panel
    return PAGE_WIDTH / (PAGE_HEIGHT * 1.08)


RENDERER = ViewRenderer(render, aspect)
