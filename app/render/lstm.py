"""The LSTM view's panel, as the page draws it (static/js/views/lstm.js, ``#heat`` and
``#drawTrajectories``): the masks over time and the cell state of the first units.

Above: a time x unit heatmap per mask of the method (RNNDrop's m on c, recurrent dropout's m on
g, variational dropout's z_x on x and z_h on h, zoneout's d on c and on h), then the naive
reference's (a new mask on c at every step); a row per unit, a column per time step; light grey
a kept unit, near-black a dropped one, blue a unit that zoneout holds at its previous value.
Each with its label line: what it masks, the share dropped (held) and whether it is constant
over time. Below: the cell state c of the first two units over the sequence, with the method
(blue), with naive dropout (vermilion) and without dropout (grey, dashed), and a legend line.

Only display arithmetic: the masks, their statistics and the trajectories come from
:mod:`dropouts.lab.views.lstm`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from dropouts.lab.views.base import BinaryArray, Frame, JsonArray

from . import text
from .base import PanelInput, Size, ViewRenderer, nearest
from .theme import BLUE, RGB, VERMILION, Theme

KEPT_CELL: RGB = (236, 236, 230)
DROPPED_CELL: RGB = (40, 40, 40)
TRAJECTORIES = 2  # units whose cell state is drawn


def aspect(panel: PanelInput) -> float:
    """The heatmaps are wide (a column per step): a little wider than 16:10."""
    del panel
    return 1.6


def _mask_rows(frame: Frame, name: str) -> np.ndarray:
    array = frame.arrays[name]
    assert isinstance(array, BinaryArray)
    return np.asarray(array.tensor[0].numpy() != 0)


def _heatmap(bits: np.ndarray, meaning: str, box: tuple[int, int, int, int]) -> np.ndarray:
    """``bits`` (rows, T) as the page colours them, scaled to the box (nearest neighbour)."""
    on, off = (BLUE, KEPT_CELL) if meaning == "held" else (KEPT_CELL, DROPPED_CELL)
    colours = np.where(bits[..., None], np.asarray(on, np.uint8), np.asarray(off, np.uint8))
    left, top, right, bottom = box
    return nearest(colours.astype(np.uint8), max(1, bottom - top), max(1, right - left))


def render(panel: PanelInput, frame: Frame, size: Size, theme: Theme) -> Image.Image:
    """The masks over time above, the cell-state trajectories below (see the module doc)."""
    width, height = size
    theory = panel.theory_json
    image = Image.new("RGB", size, theme.panel)
    draw = ImageDraw.Draw(image)
    pad = max(2, round(min(width, height) / 60))
    type_size = max(text.MIN_SIZE, round(min(height / 26, width / 40)))
    face = text.font(type_size)
    line = text.line_height(face)
    method_stats: Any = frame.stats["masks"]
    naive_stats: Any = frame.stats["naive"]
    entries: list[tuple[str, str, str, Any]] = []
    for spec in theory["masks"]:
        stats = method_stats[spec["key"]]
        entries.append((f"mask_{spec['key']}", spec["label"], spec["meaning"], stats))
    entries.append(
        ("naive_mask", "naive reference: new mask on c each step", "dropped", naive_stats)
    )

    split = round(height * 0.6)
    weights = [max(6, _mask_rows(frame, name).shape[0]) for name, *_ in entries]
    room = split - pad - len(entries) * (line + pad)
    top = pad
    for (name, label, meaning, stats), weight in zip(entries, weights, strict=True):
        constant = "constant over time" if stats["constant"] else "changes every step"
        caption = f"{label}: {100 * stats['dropped_fraction']:.0f} % {meaning}, {constant}"
        shown, caption_face = text.fitted(caption, width - 2 * pad, type_size)
        text.draw(draw, (pad, top), shown, caption_face, theme.ink)
        top += line
        rows = max(2, round(room * weight / sum(weights)))
        box = (pad, top, width - pad, top + rows)
        pixels = _heatmap(_mask_rows(frame, name), meaning, box)
        image.paste(Image.fromarray(pixels), (box[0], box[1]))
        top += rows + pad

    cells_array = frame.arrays["cells"]
    assert isinstance(cells_array, JsonArray)
    cells: Any = cells_array.value
    units = cells["units"][:TRAJECTORIES]
    legend_top = height - line - pad
    chart_top, chart_bottom = split + pad, legend_top - pad
    series = [
        (cells["none"], theme.muted, True),
        (cells["naive"], VERMILION, False),
        (cells["method"], BLUE, False),
    ]
    values = [v for trajectories, *_ in series for unit in trajectories[: len(units)] for v in unit]
    extent = max(0.05, max((abs(v) for v in values), default=0.05)) * 1.08
    stroke = max(1, round(type_size / 7))
    across = max(1, len(units))
    chart_width = (width - pad * (across + 1)) / across
    for k, unit in enumerate(units):
        left = pad + k * (chart_width + pad)
        right = left + chart_width
        draw.rectangle((left, chart_top, right, chart_bottom), outline=theme.line)
        text.draw(
            draw, (left + pad, chart_top + 1), f"cell state c, unit {unit + 1}", face, theme.ink
        )
        inner_top = chart_top + line + 2
        middle = (inner_top + chart_bottom) / 2
        half = (chart_bottom - inner_top) / 2 - 2

        def y_of(value: float, middle: float = middle, half: float = half) -> float:
            return middle - value / extent * half

        draw.line((left, y_of(0.0), right, y_of(0.0)), fill=theme.line, width=1)
        for trajectories, colour, dashed in series:
            points = trajectories[k]
            steps = max(1, len(points) - 1)
            xy = [(left + 2 + (chart_width - 4) * s / steps, y_of(v)) for s, v in enumerate(points)]
            if dashed:
                for s in range(0, len(xy) - 1, 2):
                    draw.line([xy[s], xy[s + 1]], fill=colour, width=stroke)
            else:
                draw.line(xy, fill=colour, width=stroke, joint="curve")

    legend = [
        (BLUE, f"with {panel.method.name}"),
        (VERMILION, "naive dropout"),
        (theme.muted, "no dropout (dashed)"),
    ]
    x = float(pad)
    swatch = max(6, type_size)
    for colour, label in legend:
        draw.rectangle(
            (x, legend_top + line / 2 - 2, x + swatch, legend_top + line / 2 + 2), fill=colour
        )
        x += swatch + 4
        text.draw(draw, (x, legend_top), label, face, theme.ink)
        x += text.width(label, face) + 2 * swatch
    return image


RENDERER = ViewRenderer(render, aspect)
