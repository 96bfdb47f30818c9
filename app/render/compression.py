"""The compression view's panel: the network at this checkpoint with only its kept connections,
and the log α histogram with the threshold line, as the page draws them
(static/js/views/compression.js, ``#network`` and ``#histogram``).

The diagram: layers left to right (for the digits, the 8 x 8 input pixels beside the input
column, shaded sky blue by their kept connections, blank when none is left); each kept
connection a line, blue for a positive weight and orange for a negative one, more opaque for a
larger ``|w|`` (six steps, as the page's paths, lighter when thousands are drawn); a pruned
connection is not drawn. Neurons in use filled with the ink, the others hollow; structured BP's
removed neurons crossed out in vermilion. Over each column its name and the neurons in use.

Beside it (below it in a tall box) the histogram of this checkpoint's log α (structured BP: the
neurons' −2 log SNR), counts on a log scale, blue left of the threshold (kept) and vermilion at
or right of it (pruned), the threshold a dashed line; over it the checkpoint's figures: the
pruned share, the compression factor and the test accuracy before and after pruning.

Lines and circles are drawn at twice the size and reduced (smooth edges), text at the final size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from dropouts.lab.views.base import BinaryArray, Frame, JsonArray, LevelArray

from . import text
from .base import PanelInput, Size, ViewRenderer, levels_of
from .theme import BLUE, ORANGE, RGB, SKY, VERMILION, Theme, blend

GREY: RGB = (0x8C, 0x8C, 0x8C)
SUPERSAMPLE = 2
BUCKETS = 6  # strengths of a connection, as the page's paths


@dataclass(frozen=True)
class Boxes:
    diagram: tuple[int, int, int, int]  # left, top, right, bottom
    side: tuple[int, int, int, int]


def aspect(panel: PanelInput) -> float:
    """The page's row: the diagram (0.6 as high as wide) and the histogram beside it."""
    del panel
    return 1.55


def _boxes(size: Size) -> Boxes:
    width, height = size
    pad = max(2, round(min(width, height) / 80))
    if width >= 1.2 * height:
        split = round(width * 0.62)
        return Boxes(
            (pad, pad, split - pad, height - pad), (split + pad, pad, width - pad, height - pad)
        )
    split = round(height * 0.64)
    return Boxes(
        (pad, pad, width - pad, split - pad), (pad, split + pad, width - pad, height - pad)
    )


def _json(frame: Frame, name: str) -> Any:
    array = frame.arrays.get(name)
    return array.value if isinstance(array, JsonArray) else None


def _layers(frame: Frame) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer the weights as the page decodes them (their levels' values) and the kept bits."""
    out = []
    index = 0
    while f"weights_{index}" in frame.arrays:
        weights, kept = frame.arrays[f"weights_{index}"], frame.arrays[f"kept_{index}"]
        assert isinstance(weights, LevelArray) and isinstance(kept, BinaryArray)
        levels, factors = levels_of(weights)
        out.append((factors[levels[0]], kept.tensor[0].numpy() != 0))
        index += 1
    return out


def _face(size: float) -> text.Font | None:
    return text.font(round(size)) if size >= text.MIN_SIZE else None


def _diagram(
    draw: ImageDraw.ImageDraw,
    labels: list[tuple[float, float, str, text.Font, RGB, str]],
    box: tuple[int, int, int, int],
    panel: PanelInput,
    frame: Frame,
    theme: Theme,
) -> None:
    left, top, right, bottom = box
    theory = panel.theory_json
    sizes: list[int] = theory["sizes"]
    image = theory.get("image_shape")
    width, height = right - left, bottom - top
    head = max(14.0, height * 0.08)
    small = _face(min(14.0, height / 28, width / 50))
    inner_top, inner_bottom = top + head + 4, bottom - 4
    cell = min(24.0, (inner_bottom - inner_top) / 8, width / 40) if image else 0.0
    first = left + (cell * 8 + 0.07 * width if image else 0.08 * width)
    label_room = 0.09 * width
    last = right - label_room

    def column_x(layer: int) -> float:
        return first + (last - first) * layer / (len(sizes) - 1)

    spots = []
    for layer, count in enumerate(sizes):
        spacing = (inner_bottom - inner_top) / count
        radius = max(1.2, min(9.0, spacing * 0.38, width * 0.018))
        spots.append(
            [(column_x(layer), inner_top + spacing * (k + 0.5), radius) for k in range(count)]
        )
    ss = SUPERSAMPLE
    layers = _layers(frame)
    kept_total = sum(int(kept.sum()) for _, kept in layers)
    stroke = max(1, round((0.6 if kept_total > 4000 else 1.0 if kept_total > 1000 else 1.6) * ss))
    fade = min(1.0, math.sqrt(1200 / max(1, kept_total)))
    scales = theory["weight_scale"]
    for bucket in range(BUCKETS):
        alpha = fade * (0.18 + 0.82 * (bucket + 1) / BUCKETS)
        for sign, colour in ((1, BLUE), (-1, ORANGE)):
            ink = blend(theme.panel, colour, alpha)
            for index, (weights, kept) in enumerate(layers):
                strength = np.minimum(1.0, np.abs(weights) / scales[index])
                steps = np.minimum(BUCKETS - 1, np.floor(strength * BUCKETS)).astype(int)
                chosen = kept & (steps == bucket) & ((weights >= 0) if sign > 0 else (weights < 0))
                for j, i in zip(*np.nonzero(chosen), strict=True):
                    a, b = spots[index][i], spots[index + 1][j]
                    draw.line(
                        [(a[0] * ss, a[1] * ss), (b[0] * ss, b[1] * ss)], fill=ink, width=stroke
                    )
    alive = _json(frame, "alive") or [[1] * n for n in sizes]
    removed = (_json(frame, "neurons") or {}).get("kept")
    for layer, column in enumerate(spots):
        for k, (x, y, r) in enumerate(column):
            on = alive[layer][k] == 1
            box_ = [(x - r) * ss, (y - r) * ss, (x + r) * ss, (y + r) * ss]
            draw.ellipse(
                box_,
                fill=theme.ink if on else theme.panel,
                outline=theme.ink if on else GREY,
                width=ss,
            )
            if removed is not None and layer < len(removed) and removed[layer][k] == 0:
                d = max(2.0, r * 0.9) * ss
                draw.line(
                    [(x * ss - d, y * ss - d), (x * ss + d, y * ss + d)], fill=VERMILION, width=ss
                )
                draw.line(
                    [(x * ss + d, y * ss - d), (x * ss - d, y * ss + d)], fill=VERMILION, width=ss
                )
    if image and cell >= 2:
        counts = layers[0][1].sum(axis=0)
        most = max(1, int(counts.max()))
        x0 = left + 0.02 * width
        y0 = inner_top + (inner_bottom - inner_top - 8 * cell) / 2
        for k in range(64):
            t = 0.25 + 0.75 * counts[k] / most if alive[0][k] else 0.0
            fill = blend(theme.panel, SKY, t)
            cx, cy = x0 + (k % 8) * cell, y0 + (k // 8) * cell
            draw.rectangle(
                [cx * ss, cy * ss, (cx + cell - 1) * ss, (cy + cell - 1) * ss], fill=fill
            )
        draw.rectangle(
            [x0 * ss, y0 * ss, (x0 + 8 * cell) * ss, (y0 + 8 * cell) * ss],
            outline=theme.line,
            width=ss,
        )
    titles = []
    for layer, count in enumerate(sizes):
        name = "outputs" if layer == len(sizes) - 1 else f"hidden {layer}" if layer else "inputs"
        titles.append(name if layer == len(sizes) - 1 else f"{name}: {sum(alive[layer])}/{count}")
    room = 0.94 * (last - first) / (len(sizes) - 1)
    title_size = text.common_size(titles, room, round(min(16.0, head * 0.55)))
    title = text.font(title_size)
    if title_size >= text.MIN_SIZE and all(text.width(words, title) <= room for words in titles):
        for layer, words in enumerate(titles):
            labels.append((column_x(layer), top + 2, words, title, theme.ink, "centre"))
    if small is not None:
        for k, (x, y, r) in enumerate(spots[-1]):
            name = str(k) if theory["dataset"] == "digits" else f"class {k}"
            labels.append(
                (x + r + 4, y - text.line_height(small) / 2, name, small, theme.ink, "left")
            )


def _histogram(
    draw: ImageDraw.ImageDraw,
    labels: list[tuple[float, float, str, text.Font, RGB, str]],
    box: tuple[int, int, int, int],
    panel: PanelInput,
    frame: Frame,
    theme: Theme,
) -> None:
    left, top, right, bottom = box
    theory = panel.theory_json
    width, height = right - left, bottom - top
    face = _face(min(15.0, height / 12, width / 22))
    line = text.line_height(face) if face else 0
    stats = frame.stats
    rule = (
        f"SNR <= {theory['snr']:.2f}"
        if theory["variant"] == "sbp"
        else f"log alpha >= {theory['threshold']:.1f}"
    )
    lines = [
        f"{100 * float(stats['pruned_share']):.1f} % of weights pruned ({rule})",
        f"test accuracy {100 * float(stats['accuracy_before']):.1f} % -> "
        f"{100 * float(stats['accuracy_after']):.1f} % pruned",
    ]
    if face is not None:
        for k, words in enumerate(lines):
            fitted, fitted_face = text.fitted(words, width, int(face.size))
            labels.append((left, top + k * line, fitted, fitted_face, theme.ink, "left"))
    chart_top = top + 2 * line + 6
    axis = face and _face(face.size * 0.85)
    axis_height = text.line_height(axis) + 4 if axis else 0
    chart_bottom = bottom - axis_height
    edges: list[float] = theory["histogram_edges"]
    counts = np.sum(np.asarray(_json(frame, "histograms"), dtype=np.float64), axis=0)
    top_count = max(10.0, float(counts.max()))
    ss = SUPERSAMPLE

    def x(value: float) -> float:
        return left + width * (value - edges[0]) / (edges[-1] - edges[0])

    def y(count: float) -> float:
        return chart_bottom - (chart_bottom - chart_top) * math.log10(1 + count) / math.log10(
            1 + top_count
        )

    threshold = float(theory["line"])
    for k, count in enumerate(counts):
        if count <= 0:
            continue
        centre = (edges[k] + edges[k + 1]) / 2
        colour = VERMILION if centre >= threshold else BLUE
        x0, x1 = x(edges[k]), x(edges[k + 1])
        draw.rectangle(
            [x0 * ss + 1, y(count) * ss, max(x0 * ss + 1, x1 * ss - 1), chart_bottom * ss],
            fill=colour,
        )
    draw.line(
        [(left * ss, chart_bottom * ss), (right * ss, chart_bottom * ss)], fill=theme.line, width=ss
    )
    lx = x(max(edges[0], min(edges[-1], threshold)))
    at = chart_top - 4.0
    while at < chart_bottom:
        end = min(chart_bottom, at + 6)
        draw.line([(lx * ss, at * ss), (lx * ss, end * ss)], fill=theme.ink, width=2 * ss)
        at = end + 3
    if axis:
        for value in (-8, -4, 0, 4, 8):
            words = str(value)
            labels.append((x(value), chart_bottom + 2, words, axis, theme.muted, "centre"))


def render(panel: PanelInput, frame: Frame, size: Size, theme: Theme) -> Image.Image:
    boxes = _boxes(size)
    ss = SUPERSAMPLE
    big = Image.new("RGB", (size[0] * ss, size[1] * ss), theme.paper)
    draw = ImageDraw.Draw(big)
    for box in (boxes.diagram, boxes.side):
        x0, y0, x1, y1 = box
        draw.rectangle(
            [x0 * ss, y0 * ss, x1 * ss - 1, y1 * ss - 1],
            fill=theme.panel,
            outline=theme.line,
            width=ss,
        )
    labels: list[tuple[float, float, str, text.Font, RGB, str]] = []
    inset = max(2, round(min(size) / 60))

    def inner(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        return box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset

    _diagram(draw, labels, inner(boxes.diagram), panel, frame, theme)
    _histogram(draw, labels, inner(boxes.side), panel, frame, theme)
    image = big.reduce(ss)
    draw = ImageDraw.Draw(image)
    for x, y, words, face, fill, anchor in labels:
        left = x - text.width(words, face) / 2 if anchor == "centre" else x
        text.draw(draw, (round(left), round(y)), words, face, fill)
    return image


RENDERER = ViewRenderer(render, aspect)
