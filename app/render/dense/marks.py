"""What the dense diagram's marks mean: the colours of the neurons and connections (the page's,
static/js/views/dense.js), the label beside a neuron, and the legend's items that explain them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..theme import ABOVE, BELOW, BLUE, ORANGE, RGB, WHITE, blend

GREY: RGB = (0x9A, 0x9A, 0x9A)  # a connection that carries nothing this iteration
DROPPED_FILL: RGB = (0xD9, 0xD9, 0xD9)
OUTLINE: RGB = (0x33, 0x33, 0x33)
DARK_TEXT: RGB = (0x11, 0x11, 0x11)
NOISE_LOW: RGB = BELOW  # Gaussian multiplier below 1
NOISE_HIGH: RGB = ABOVE  # above 1


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
    """Standout: the page's blue at opacity ``0.12 + 0.88 keep``, over white."""
    return blend(WHITE, BLUE, 0.12 + 0.88 * min(1.0, max(0.0, keep)))


def text_colour(fill: RGB) -> RGB:
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
