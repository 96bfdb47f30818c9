"""The uncertainty view's panel (Monte Carlo dropout), drawn as the page draws its main row.

Regression (static/js/views/uncertainty.js, the main chart): the plot box on the panel colour
with a grid at whole x and y; the gap without training points shaded grey; the frame's drawn
passes in sky blue (one colour, as the page's single trace at 35 % opacity); the band of ±2
predictive sd in light blue; the predictive mean in blue; the truth sin(2x) dashed in bluish
green; the training points as dots in the ink colour. A legend line above the box and the x
labels under it when the type is large enough (at least :data:`app.render.text.MIN_SIZE`).

Classification (the page's three maps): averaged P(class 1) from orange (class 0) through
white to blue (class 1), lightened as on the page; predictive entropy and mutual information
in Viridis from 0 (dark) to ln 2 (entropy) or the map's maximum (mutual information); each map
interpolated bilinearly (the page's ``zsmooth``), the Monte Carlo boundary P(class 1) = 0.5
drawn over it (ink on the probability map, white on the others), the training points in their
class colours. A title above each map, and under them a line with the two colour scales.

Lines and dots are drawn at three times the size and reduced (smooth edges); text at the final
size. The values are the frame's own arrays: the passes and maps as the wire quantises them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from dropouts.lab.views.base import ByteArray, Frame, JsonArray

from . import text
from .base import PanelInput, Size, ViewRenderer, canvas
from .theme import BLUE, GREEN, ORANGE, RGB, SKY, WHITE, Theme, blend

GREY: RGB = (120, 120, 120)
# The page's lightened P(class 1) scale: #f1ca73 - white - #73c0d5.
CLASS0_LIGHT: RGB = (0xF1, 0xCA, 0x73)
CLASS1_LIGHT: RGB = (0x73, 0xC0, 0xD5)
VIRIDIS: tuple[RGB, ...] = tuple(
    (int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16))
    for h in (
        "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
        "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
    )
)  # fmt: skip
SUPERSAMPLE = 3
PASS_ALPHA = 0.35
BAND_ALPHA = 0.20
GAP_ALPHA = 0.13


def aspect(panel: PanelInput) -> float:
    """The regression chart is wide; the three maps side by side, with their titles and the
    scale line, wider still."""
    return 1.8 if panel.theory_json["task"] == "regression" else 2.5


def render(panel: PanelInput, frame: Frame, size: Size, theme: Theme) -> Image.Image:
    if panel.theory_json["task"] == "regression":
        return _regression(panel.theory_json, frame, size, theme)
    return _classification(panel.theory_json, frame, size, theme)


# ---------------------------------------------------------------- regression


def _type_size(size: Size) -> int:
    return max(text.MIN_SIZE, min(18, round(min(size[0] / 40, size[1] / 16))))


def _regression(theory: dict[str, Any], frame: Frame, size: Size, theme: Theme) -> Image.Image:
    width, height = size
    face = text.font(_type_size(size))
    line = text.line_height(face)
    legend = [
        (SKY, "passes", "line"),
        (BLUE, "mean", "thick"),
        (blend(theme.panel, BLUE, 0.35), "±2 sd", "fill"),
        (GREEN, "truth", "dash"),
        (theme.ink, "training points", "dot"),
        (blend(theme.panel, GREY, 0.35), "no data", "fill"),
    ]
    show_text = height >= 6 * line and width >= 20 * face.size
    top = line + 4 if show_text else 2
    bottom = line + 2 if show_text else 2
    left = round(text.width("-2.5", face)) + 6 if show_text else 2
    box = (left, top, width - 4, height - bottom)
    grid = np.asarray(theory["grid"], dtype=np.float64)
    x_range = (float(grid[0]), float(grid[-1]))
    y_range = (float(theory["y_range"][0]), float(theory["y_range"][1]))

    scale = SUPERSAMPLE
    big = Image.new("RGB", (width * scale, height * scale), theme.paper)
    draw = ImageDraw.Draw(big)

    def to_px(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
        px = box[0] + (x - x_range[0]) / (x_range[1] - x_range[0]) * (box[2] - box[0])
        py = box[3] - (y - y_range[0]) / (y_range[1] - y_range[0]) * (box[3] - box[1])
        return [(float(a) * scale, float(b) * scale) for a, b in zip(px, py, strict=True)]

    draw.rectangle([c * scale for c in box], fill=theme.panel)
    gap = theory["gap"]
    (gx0, _), (gx1, _) = to_px(np.asarray(gap, dtype=np.float64), np.zeros(2))
    draw.rectangle(
        [gx0, box[1] * scale, gx1, box[3] * scale], fill=blend(theme.panel, GREY, GAP_ALPHA)
    )
    thin = max(1, round(scale * max(1.0, min(size) / 400)))
    for x in range(math.ceil(x_range[0]), math.floor(x_range[1]) + 1):
        ((px, _),) = to_px(np.asarray([x], dtype=np.float64), np.zeros(1))
        draw.line([(px, box[1] * scale), (px, box[3] * scale)], fill=theme.line, width=thin)
    for y in _ticks(y_range):
        ((_, py),) = to_px(np.zeros(1), np.asarray([y], dtype=np.float64))
        draw.line([(box[0] * scale, py), (box[2] * scale, py)], fill=theme.line, width=thin)

    band = frame.arrays["band"]
    assert isinstance(band, JsonArray)
    mean = np.asarray(band.value["mean"], dtype=np.float64)
    std = np.asarray(band.value["std"], dtype=np.float64)
    upper, lower = to_px(grid, mean + 2 * std), to_px(grid, mean - 2 * std)
    draw.polygon(upper + lower[::-1], fill=blend(theme.panel, BLUE, BAND_ALPHA))
    passes = frame.arrays["passes"]
    assert isinstance(passes, ByteArray)
    curves = passes.tensor.numpy()[0] + y_range[0]
    pass_colour = blend(theme.panel, SKY, PASS_ALPHA + 0.1)
    for curve in curves:
        draw.line(to_px(grid, curve), fill=pass_colour, width=thin)
    draw.line(to_px(grid, mean), fill=BLUE, width=3 * thin, joint="curve")
    truth = to_px(grid, np.asarray(theory["truth"], dtype=np.float64))
    for start in range(0, len(truth) - 1, 6):  # dashed: 4 segments on, 2 off
        draw.line(truth[start : start + 4], fill=GREEN, width=2 * thin)
    radius = max(2.0, min(size) / 110) * scale
    points = np.asarray(theory["train"]["x"], dtype=np.float64)[:, 0]
    values = np.asarray(theory["train"]["y"], dtype=np.float64)[:, 0]
    for px, py in to_px(points, values):
        draw.ellipse(
            [px - radius, py - radius, px + radius, py + radius],
            fill=theme.ink,
            outline=theme.panel,
            width=thin,
        )

    image = big.resize(size, Image.Resampling.LANCZOS)
    if show_text:
        small = ImageDraw.Draw(image)
        for x in range(math.ceil(x_range[0]), math.floor(x_range[1]) + 1):
            ((px, _),) = to_px(np.asarray([x], dtype=np.float64), np.zeros(1))
            label = str(x)
            text.draw(
                small,
                (px / scale - text.width(label, face) / 2, box[3] + 1),
                label,
                face,
                theme.muted,
            )
        for y in _ticks(y_range):
            ((_, py),) = to_px(np.zeros(1), np.asarray([y], dtype=np.float64))
            label = f"{y:g}"
            text.draw(
                small,
                (box[0] - 3 - text.width(label, face), py / scale - line / 2),
                label,
                face,
                theme.muted,
            )
        _legend(small, (left, 2), legend, face, width - left - 4, theme)
    return image


def _ticks(limits: tuple[float, float]) -> list[float]:
    step = 1.0 if limits[1] - limits[0] > 3 else 0.5
    first = math.ceil(limits[0] / step) * step
    return [first + k * step for k in range(int((limits[1] - first) / step) + 1)]


def _legend(
    draw: ImageDraw.ImageDraw,
    origin: tuple[int, int],
    items: Sequence[tuple[RGB, str, str]],
    face: text.Font,
    room: float,
    theme: Theme,
) -> None:
    """Keys and labels on one line, as many as fit ``room``."""
    x, y = origin
    key = face.size * 1.4
    line = text.line_height(face)
    for colour, label, kind in items:
        needed = key + 4 + text.width(label, face) + face.size
        if x - origin[0] + needed > room:
            break
        middle = y + line / 2
        if kind == "fill":
            draw.rectangle(
                [x, middle - face.size * 0.35, x + key, middle + face.size * 0.35], fill=colour
            )
        elif kind == "dot":
            r = face.size * 0.3
            draw.ellipse([x + key / 2 - r, middle - r, x + key / 2 + r, middle + r], fill=colour)
        elif kind == "dash":
            for k in range(3):
                draw.line(
                    [(x + k * key / 3, middle), (x + k * key / 3 + key / 5, middle)],
                    fill=colour,
                    width=2,
                )
        else:
            draw.line(
                [(x, middle), (x + key, middle)], fill=colour, width=3 if kind == "thick" else 1
            )
        text.draw(draw, (x + key + 4, y), label, face, theme.ink)
        x += round(needed)


# ---------------------------------------------------------------- classification


def _colours(values: np.ndarray, stops: Sequence[RGB]) -> np.ndarray:
    """``values`` in [0, 1] (any shape) through evenly spaced colour ``stops``: (..., 3) uint8."""
    table = np.asarray(stops, dtype=np.float64)
    position = np.clip(values, 0.0, 1.0) * (len(stops) - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, len(stops) - 1)
    t = (position - low)[..., None]
    return np.rint(table[low] * (1 - t) + table[high] * t).astype(np.uint8)


def _upsampled(values: np.ndarray, side: int) -> np.ndarray:
    """A (G, G) map, row 0 at y_min, as a (side, side) image with y up, bilinear."""
    picture = Image.fromarray(np.ascontiguousarray(values[::-1]).astype(np.float32), "F")
    return np.asarray(picture.resize((side, side), Image.Resampling.BILINEAR), dtype=np.float64)


def _map_values(frame: Frame, channel: int, grid: int) -> np.ndarray:
    maps = frame.arrays["maps"]
    assert isinstance(maps, ByteArray)
    return maps.tensor.numpy()[channel].reshape(grid, grid)


def _classification(theory: dict[str, Any], frame: Frame, size: Size, theme: Theme) -> Image.Image:
    width, height = size
    grid = int(theory["grid"])
    face = text.font(max(text.MIN_SIZE, min(18, round(min(width / 60, height / 14)))))
    line = text.line_height(face)
    show_text = height >= 8 * line
    pad = max(2, round(min(size) / 60))
    title_height = line + 2 if show_text else 0
    scale_height = line + 4 if show_text else 0
    side = max(8, min((width - 4 * pad) // 3, height - title_height - scale_height - 2 * pad))
    total = 3 * side + 2 * pad
    left0 = (width - total) // 2
    top = (height - (title_height + side + scale_height)) // 2 + title_height
    pixels = canvas(size, theme.paper)

    probability = _map_values(frame, 0, grid)
    big_probability = _upsampled(probability, side)
    entropy = _upsampled(_map_values(frame, 1, grid), side)
    information = _upsampled(_map_values(frame, 2, grid), side)
    most_information = float(max(1e-9, information.max()))
    shade = np.where(
        big_probability[..., None] < 0.5,
        _colours(big_probability / 0.5, (CLASS0_LIGHT, WHITE)),
        _colours((big_probability - 0.5) / 0.5, (WHITE, CLASS1_LIGHT)),
    )
    maps = [
        (shade, theme.ink, "averaged P(class 1)"),
        (_colours(entropy / float(theory["max_entropy"]), VIRIDIS), WHITE, "predictive entropy"),
        (_colours(information / most_information, VIRIDIS), WHITE, "mutual information"),
    ]
    above = big_probability >= 0.5
    boundary = np.zeros_like(above)
    boundary[:-1] |= above[:-1] != above[1:]
    boundary[:, :-1] |= above[:, :-1] != above[:, 1:]
    for k, (picture, boundary_colour, _) in enumerate(maps):
        picture = picture.copy()
        picture[boundary] = boundary_colour
        left = left0 + k * (side + pad)
        pixels[top : top + side, left : left + side] = picture
    image = Image.fromarray(pixels, "RGB")

    # The training points, drawn large and reduced for smooth dots.
    x0, x1, y0, y1 = theory["extent"]
    radius = max(1.5, side / 70)
    layer = Image.new("RGBA", (width * SUPERSAMPLE, height * SUPERSAMPLE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    points = np.asarray(theory["train"]["x"], dtype=np.float64)
    labels = theory["train"]["y"]
    for k in range(3):
        left = left0 + k * (side + pad)
        for (x, y), label in zip(points, labels, strict=True):
            px = (left + (x - x0) / (x1 - x0) * side) * SUPERSAMPLE
            py = (top + (1 - (y - y0) / (y1 - y0)) * side) * SUPERSAMPLE
            r = radius * SUPERSAMPLE
            colour = ORANGE if label == 0 else BLUE
            draw.ellipse(
                [px - r, py - r, px + r, py + r],
                fill=(*colour, 255),
                outline=(17, 17, 17, 255),
                width=SUPERSAMPLE,
            )
    image.paste(
        layer.resize(size, Image.Resampling.LANCZOS),
        (0, 0),
        layer.resize(size, Image.Resampling.LANCZOS),
    )

    if show_text:
        draw_text = ImageDraw.Draw(image)
        for k, (_, _, title) in enumerate(maps):
            left = left0 + k * (side + pad)
            shown, title_face = text.fitted(title, side, face.size)
            text.draw(draw_text, (left, top - title_height), shown, title_face, theme.ink)
        caption = (
            f"orange / blue: class 0 / 1; line: P(class 1) = 0.5. Entropy 0 to ln 2, "
            f"mutual information 0 to {most_information:.2f} nats: dark to yellow"
        )
        shown, caption_face = text.fitted(caption, total, face.size)
        text.draw(draw_text, (left0, top + side + 3), shown, caption_face, theme.muted)
    return image


RENDERER = ViewRenderer(render, aspect)
