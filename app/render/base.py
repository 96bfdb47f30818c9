"""What every renderer shares: the panel it draws, the page's arithmetic on masks, and scaling.

The page composites ``picture x mask`` from what ``/api/frames`` sends (app/wire.py): 0/1
masks as bits with one kept value, noise as a few levels, per-channel factors inline. The
server-side renderers do the same arithmetic on the same quantised values, so an exported frame
shows what the page shows: ``clip(round(byte x factor))`` per colour byte, with the factor
rounded as the wire rounds it (noise to its levels, a kept value to float32).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from dropouts.lab.registry import Method, ParamValue
from dropouts.lab.views.base import BinaryArray, Frame, LevelArray, Scene

from .theme import Theme

Size = tuple[int, int]  # (width, height) in pixels


@dataclass
class PanelInput:
    """One panel of an export: its method, parameters, the view's scene and theory (computed
    once per export), and a cache for what the renderer derives from them."""

    view: str
    method: Method
    params: dict[str, ParamValue]
    scene: Scene
    theory: Any
    theory_json: dict[str, Any]
    cache: dict[Any, Any] = field(default_factory=dict)


# A renderer draws one panel's frame into an RGB image of exactly ``size``.
Renderer = Callable[[PanelInput, Frame, Size, Theme], Image.Image]


@dataclass(frozen=True)
class StatRow:
    """A row of the standalone file's statistics table: its term, the frame statistic it
    shows, the number it is measured against (a key of the panel's theory, ``frame:<stat>``
    when it changes with the frame, or ``None``) and its digits. A row whose statistic no
    frame has is left out."""

    term: str
    stat: str
    expected: str | None
    digits: int = 3


def mask_rows(panel: PanelInput) -> tuple[StatRow, ...]:
    """The rows of a view whose frames are masks (``panel``: the first panel)."""
    unit = str(panel.theory_json.get("unit", "unit"))
    return (
        StatRow(f"{unit}s dropped", "dropped_fraction", "expected_dropped_fraction"),
        StatRow("mask mean (factor per unit)", "mask_mean", "mask_mean"),
        StatRow("mask variance", "mask_variance", "mask_variance"),
        StatRow("output mean / input mean", "output_mean_ratio", None),
        StatRow("p this iteration", "p_t", None),
    )


@dataclass(frozen=True)
class ViewRenderer:
    """What a view's module here declares as ``RENDERER``: how it draws a panel, the width /
    height its drawing prefers, and the rows of its statistics (from the first panel)."""

    render: Renderer
    aspect: Callable[[PanelInput], float]
    rows: Callable[[PanelInput], tuple[StatRow, ...]] = mask_rows


def levels_of(array: BinaryArray | LevelArray) -> tuple[np.ndarray, np.ndarray]:
    """``(index, factors)``: per unit the index of its factor, and the factors, as the page
    decodes them (bits with the kept value in float32; noise quantised as app/wire.py does)."""
    if isinstance(array, BinaryArray):
        plane = array.tensor.float().numpy()
        kept = plane != 0
        value = np.float32(plane[kept].flat[0]) if kept.any() else np.float32(0.0)
        return kept.astype(np.uint8), np.array([0.0, value], dtype=np.float32).astype(np.float64)
    top = array.levels - 1
    scaled = (array.tensor.float().numpy() - array.low) * (top / (array.high - array.low))
    index = np.clip(np.rint(scaled), 0, top).astype(np.uint8)
    steps = np.arange(array.levels, dtype=np.float64)
    factors = (array.low + steps * (array.high - array.low) / top).astype(np.float32)
    return index, factors.astype(np.float64)


def product_table(factors: np.ndarray) -> np.ndarray:
    """``(len(factors), 256)`` uint8: byte ``b`` times factor ``k``, rounded half to even and
    clipped to [0, 255], as the page's ``Uint8ClampedArray`` stores ``data[k] * f``."""
    products = np.arange(256, dtype=np.float64)[None, :] * np.asarray(factors, np.float64)[:, None]
    return np.clip(np.rint(products), 0, 255).astype(np.uint8)


def nearest(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """``array`` (H, W, ...) scaled to ``height`` x ``width`` by nearest neighbour (each output
    pixel takes the source pixel under its centre), as the page's ``image-rendering:
    pixelated`` canvases do."""
    source_height, source_width = array.shape[:2]
    rows = np.minimum(
        ((np.arange(height) + 0.5) * source_height / height).astype(np.intp), source_height - 1
    )
    columns = np.minimum(
        ((np.arange(width) + 0.5) * source_width / width).astype(np.intp), source_width - 1
    )
    return array[rows[:, None], columns[None, :]]


def fit(inner: Size, box: Size) -> Size:
    """The largest size with the aspect of ``inner`` that fits ``box`` (at least 1 x 1)."""
    scale = min(box[0] / inner[0], box[1] / inner[1])
    return max(1, round(inner[0] * scale)), max(1, round(inner[1] * scale))


def canvas(size: Size, colour: tuple[int, int, int]) -> np.ndarray:
    """An (H, W, 3) uint8 array filled with ``colour``."""
    out = np.empty((size[1], size[0], 3), dtype=np.uint8)
    out[:] = colour
    return out


def shade(
    pixels: np.ndarray, box: tuple[int, int, int, int], colour: tuple[int, int, int], alpha: float
) -> None:
    """``colour`` at opacity ``alpha`` over ``pixels[top:bottom, left:right]`` (box = left, top,
    right, bottom), in place."""
    left, top, right, bottom = box
    region = pixels[max(0, top) : bottom, max(0, left) : right].astype(np.float64)
    region += (np.asarray(colour, np.float64) - region) * alpha
    pixels[max(0, top) : bottom, max(0, left) : right] = np.rint(region).astype(np.uint8)
