"""The image view's panel: the training output, ``picture x mask``, letterboxed in its box.

As on the page (static/js/views/image.js, ``output, training``): each colour byte times the
pixel's factor, rounded and clipped at white; Gaussian noise at the levels the wire sends;
spatial dropout one factor per colour channel (a dropped red channel leaves the cat cyan). The
picture keeps its aspect ratio, scaled by nearest neighbour (the page's pixelated canvas), on
the page's background.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from dropouts.lab.views.base import BinaryArray, Frame, LevelArray, ValueArray

from .base import (
    PanelInput,
    Size,
    ViewRenderer,
    canvas,
    fit,
    levels_of,
    nearest,
    product_table,
)
from .theme import Theme


def picture_bytes(panel: PanelInput) -> np.ndarray:
    """The picture as the page holds it: (H, W, 3) bytes (the tensor is bytes / 255)."""
    cached = panel.cache.get("bytes")
    if cached is None:
        picture = panel.scene.data.float().numpy()
        cached = np.rint(np.clip(picture, 0.0, 1.0) * 255).astype(np.uint8).transpose(1, 2, 0)
        panel.cache["bytes"] = np.ascontiguousarray(cached)
    return cached


def training_output(panel: PanelInput, frame: Frame) -> np.ndarray:
    """(H, W, 3) uint8: the picture times the frame's mask, as the page paints it."""
    source = picture_bytes(panel)
    mask = frame.arrays["mask"]
    if isinstance(mask, ValueArray):
        # One factor per colour channel (the page multiplies by them as they are, doubles).
        out = np.empty_like(source)
        for channel, factor in enumerate(mask.values):
            out[..., channel] = product_table(np.array([factor]))[0][source[..., channel]]
        return out
    if not isinstance(mask, BinaryArray | LevelArray):
        raise TypeError(f"the image view cannot draw {type(mask).__name__}")
    index, factors = levels_of(mask)
    table = product_table(factors).reshape(-1)
    height, width = source.shape[:2]
    rows = index.reshape(height, width).astype(np.intp) * 256
    return table[rows[..., None] + source]


def render(panel: PanelInput, frame: Frame, size: Size, theme: Theme) -> Image.Image:
    output = training_output(panel, frame)
    height, width = output.shape[:2]
    shown_width, shown_height = fit((width, height), size)
    pixels = canvas(size, theme.paper)
    left, top = (size[0] - shown_width) // 2, (size[1] - shown_height) // 2
    pixels[top : top + shown_height, left : left + shown_width] = nearest(
        output, shown_height, shown_width
    )
    return Image.fromarray(pixels, "RGB")


def aspect(panel: PanelInput) -> float:
    return float(panel.scene.info["width"]) / float(panel.scene.info["height"])


RENDERER = ViewRenderer(render, aspect)
