"""The feature-map view's panel: the eight maps' training output, as the page's map grid.

As on the page (static/js/views/feature_maps.js, ``output, training``): each map in grey at its
own scale (the bytes ``/api/scene`` sends), times the mask's factor and clipped at white;
dropped activations in dark blue (``DROPPED_UNIT``) so they stand apart from the zeros of the ReLU
(noise has no dropped unit); each tile headed by its filter's kernel and label. Spatial dropout
marks a dropped map with a dashed border and a "dropped" badge (a kept one with its factor);
Max-Drop rings a map's maximum when this iteration dropped it.

The tiles are 4 across and 2 down as on the page, or 2 across and 4 down when that draws the
maps larger (a tall, narrow box: a panel of a comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from dropouts.lab.views.base import BinaryArray, Frame, LevelArray, ValueArray

from . import text
from .base import (
    PanelInput,
    Size,
    ViewRenderer,
    canvas,
    levels_of,
    nearest,
    product_table,
    shade,
)
from .theme import BLACK, DROPPED_UNIT, ORANGE, WARN, WHITE, Theme


@dataclass(frozen=True)
class Tile:
    box: tuple[int, int, int, int]  # the tile: left, top, right, bottom
    map_box: tuple[int, int, int, int]  # the map drawn in it
    icon: tuple[int, int, int]  # kernel icon: left, top, side
    label_at: tuple[int, int]
    label: str
    face: text.Font


def map_bytes(panel: PanelInput) -> np.ndarray:
    """(C, h, w) bytes: each map quantised to 256 steps of its own maximum, exactly as
    app/wire.py sends the scene's ``maps`` (``bytes`` encoding)."""
    cached = panel.cache.get("map_bytes")
    if cached is None:
        maps = panel.scene.data.double()
        channels = maps.shape[0]
        values = maps.reshape(channels, -1)
        scale = values.amax(dim=1).clamp(min=0.0)
        safe = scale.where(scale > 0, scale.new_ones(()))
        quantised = (values.clamp(min=0.0) / safe[:, None] * 255).round()
        cached = quantised.to(torch.uint8).numpy().reshape(maps.shape)
        panel.cache["map_bytes"] = cached
    return cached


def training_maps(panel: PanelInput, frame: Frame) -> tuple[np.ndarray, list[float | None]]:
    """(C, h, w, 3) uint8: every map's training output as the page paints it; and per map its
    single factor (spatial dropout) or None."""
    source = map_bytes(panel)
    channels = source.shape[0]
    mask = frame.arrays["mask"]
    out = np.empty((*source.shape, 3), dtype=np.uint8)
    if isinstance(mask, ValueArray):
        # One factor per map (the page holds it as a float32).
        factors = np.array(mask.values, dtype=np.float32).astype(np.float64)
        for c in range(channels):
            if factors[c] == 0:
                out[c] = DROPPED_UNIT
            else:
                out[c] = product_table(factors[c : c + 1])[0][source[c]][..., None]
        return out, [float(f) for f in factors]
    if not isinstance(mask, BinaryArray | LevelArray):
        raise TypeError(f"the feature-map view cannot draw {type(mask).__name__}")
    index, factors = levels_of(mask)
    index = np.broadcast_to(index.reshape(-1, *source.shape[1:]), source.shape)
    table = product_table(factors).reshape(-1)
    grey = table[index.astype(np.intp) * 256 + source]
    out[:] = grey[..., None]
    if isinstance(mask, BinaryArray):
        out[(factors[index] == 0)] = DROPPED_UNIT  # noise drops no unit: no blue
    return out, [None] * channels


def _layout(panel: PanelInput, size: Size) -> list[Tile]:
    """Where each tile, its map, kernel and label go in a box of ``size``: the arrangement
    (4 x 2 or 2 x 4) that draws the maps largest, each tile as wide as its map, the grid
    centred in the box; the labels set at one size, as large as fits."""
    key = ("layout", size)
    if key in panel.cache:
        return list(panel.cache[key])
    info = panel.scene.info
    channels, map_width, map_height = info["channels"], info["width"], info["height"]
    labels = [f["label"] for f in info["filters"]]
    width, height = size
    gap = max(2, round(min(width, height) * 0.012))
    best: tuple[float, int, int, int] | None = None  # scale, columns, rows, type size
    for columns, rows in ((4, 2), (2, 4)):
        cell_width = (width - gap * (columns + 1)) / columns
        cell_height = (height - gap * (rows + 1)) / rows
        type_size = max(text.MIN_SIZE, min(26, round(min(cell_width / 10, cell_height / 5))))
        pad = max(1, type_size // 5)
        label_height = text.line_height(text.font(type_size)) + 2 * pad
        scale = min(
            (cell_width - 2 * pad) / map_width, (cell_height - label_height - pad) / map_height
        )
        if scale > 0 and (best is None or scale > best[0]):
            best = (scale, columns, rows, type_size)
    if best is None:
        panel.cache[key] = ()
        return []
    scale, columns, rows, type_size = best
    pad = max(1, type_size // 5)
    label_height = text.line_height(text.font(type_size)) + 2 * pad
    shown = (max(1, int(map_width * scale)), max(1, int(map_height * scale)))
    tile_width, tile_height = shown[0] + 2 * pad, label_height + shown[1] + pad
    grid_left = (width - columns * tile_width - (columns - 1) * gap) // 2
    grid_top = (height - rows * tile_height - (rows - 1) * gap) // 2
    icon_side = max(3, label_height - 2 * pad)
    room = tile_width - 3 * pad - icon_side
    label_size = text.common_size(labels, room, type_size)
    tiles = []
    for c in range(channels):
        row, column = divmod(c, columns)
        left = grid_left + column * (tile_width + gap)
        top = grid_top + row * (tile_height + gap)
        label, face = text.fitted(labels[c], room, label_size)
        tiles.append(
            Tile(
                (left, top, left + tile_width, top + tile_height),
                (
                    left + pad,
                    top + label_height,
                    left + pad + shown[0],
                    top + label_height + shown[1],
                ),
                (left + pad, top + pad, icon_side),
                (left + 2 * pad + icon_side, top + pad + (icon_side - text.line_height(face)) // 2),
                label,
                face,
            )
        )
    panel.cache[key] = tuple(tiles)
    return tiles


def _kernel_icon(kernel: list[list[list[float]]]) -> np.ndarray:
    """The kernel as the pattern it looks for: each colour at 0.5 + 0.5 w / max |w| (the
    page's ``paintKernel``), (k, k, 3) uint8."""
    weights = np.asarray(kernel, dtype=np.float64)  # (3, k, k)
    reach = np.maximum(np.abs(weights).reshape(3, -1).max(axis=1), 1e-12)[:, None, None]
    pattern = 255 * (0.5 + 0.5 * (weights / reach))
    return np.clip(np.rint(pattern), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def _background(panel: PanelInput, size: Size, theme: Theme) -> Image.Image:
    """The tiles without their maps: backgrounds, borders, kernels and labels (once per size)."""
    key = ("background", size, theme.name)
    if key in panel.cache:
        cached: Image.Image = panel.cache[key]
        return cached.copy()
    pixels = canvas(size, theme.paper)
    tiles = _layout(panel, size)
    for tile, spec in zip(tiles, panel.scene.info["filters"], strict=False):
        left, top, right, bottom = tile.box
        pixels[top:bottom, left:right] = theme.line
        pixels[top + 1 : bottom - 1, left + 1 : right - 1] = theme.panel
        icon_left, icon_top, side = tile.icon
        pixels[icon_top : icon_top + side, icon_left : icon_left + side] = theme.line
        pixels[icon_top + 1 : icon_top + side - 1, icon_left + 1 : icon_left + side - 1] = nearest(
            _kernel_icon(spec["kernel"]), max(1, side - 2), max(1, side - 2)
        )
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    for tile in tiles:
        text.draw(draw, tile.label_at, tile.label, tile.face, theme.ink)
    panel.cache[key] = image
    return image.copy()


def _dashed(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    colour: tuple[int, int, int],
    stroke: int,
) -> None:
    left, top, right, bottom = box
    dash = max(3, stroke * 3)
    for x in range(left, right, 2 * dash):
        draw.rectangle([x, top, min(x + dash, right) - 1, top + stroke - 1], fill=colour)
        draw.rectangle([x, bottom - stroke, min(x + dash, right) - 1, bottom - 1], fill=colour)
    for y in range(top, bottom, 2 * dash):
        draw.rectangle([left, y, left + stroke - 1, min(y + dash, bottom) - 1], fill=colour)
        draw.rectangle([right - stroke, y, right - 1, min(y + dash, bottom) - 1], fill=colour)


def render(panel: PanelInput, frame: Frame, size: Size, theme: Theme) -> Image.Image:
    maps, whole = training_maps(panel, frame)
    tiles = _layout(panel, size)
    image = _background(panel, size, theme)
    pixels = np.asarray(image).copy()
    for c, tile in enumerate(tiles):
        left, top, right, bottom = tile.map_box
        pixels[top:bottom, left:right] = nearest(maps[c], bottom - top, right - left)
    badges = []
    for c, tile in enumerate(tiles):
        factor = whole[c]
        if factor is None:
            continue
        label = "dropped" if factor == 0 else f"x {factor:.2f}"
        face = tile.face
        pad = max(1, face.size // 4)
        badge_width = round(text.width(label, face)) + 2 * pad
        left, top, right, _ = tile.map_box
        box = (
            right - badge_width - pad,
            top + pad,
            right - pad,
            top + pad + text.line_height(face),
        )
        shade(pixels, box, WARN if factor == 0 else BLACK, 1.0 if factor == 0 else 0.72)
        badges.append((box, label, face, factor == 0, tile))
    rings = frame.stats.get("maxima_dropped") or []
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    for box, label, face, dropped, tile in badges:
        text.draw(draw, (box[0] + max(1, face.size // 4), box[1]), label, face, WHITE)
        if dropped:
            _dashed(draw, tile.box, WARN, max(2, face.size // 6))
    peaks = panel.scene.info.get("peaks", [])
    map_width, map_height = panel.scene.info["width"], panel.scene.info["height"]
    for c, dropped in enumerate(rings):
        if not dropped or c >= len(tiles):
            continue
        left, top, right, bottom = tiles[c].map_box
        row, column = peaks[c]
        x = left + (column + 0.5) * (right - left) / map_width
        y = top + (row + 0.5) * (bottom - top) / map_height
        radius = max(2.0, (right - left) * 0.045)
        stroke = max(1, round(radius / 3))
        halo = max(1, round(radius / 5))
        outline = [x - radius - halo, y - radius - halo, x + radius + halo, y + radius + halo]
        draw.ellipse(outline, outline=BLACK, width=stroke + halo)
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=ORANGE, width=stroke)
    return image


def aspect(panel: PanelInput) -> float:
    # Four maps across, two down, each with a label line of about a fifth of its height.
    return 4 * float(panel.scene.info["width"]) / (2 * 1.2 * float(panel.scene.info["height"]))


RENDERER = ViewRenderer(render, aspect)
