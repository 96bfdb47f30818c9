"""The pooling view's panel: the zoomed square of one map with its pooling grid (Wu & Gu).

As on the page (static/js/views/pooling.js, the zoom): each unit a square cell, grey by its
activation (white at the largest window maximum); units the mask dropped shaded dark blue at
72 % with a white stroke through them, their grey still showing; the pooling grid in white;
per window an orange square on the unit plain max pooling takes, and a sky-blue dot on the unit
that wins after the mask, or a vermilion cross over the window when every unit was dropped (its
output is then 0). The page's sizes (24 px cells, 3 px strokes) scale with the cell; the square
is as large as whole cells allow, centred in its box. (The page's yellow box marks the window
a pointer is on; a file has no pointer, so it is not drawn.)
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from dropouts.lab.views.base import Frame

from .base import PanelInput, Size, StatRow, ViewRenderer, canvas
from .theme import BLACK, DROPPED_UNIT, ORANGE, SKY, VERMILION, WHITE, Theme, blend

PAGE_CELL = 24  # the page's canvas pixels per unit: its stroke widths are for this size
SHADE_ALPHA = 0.72
STRIKE_ALPHA = 0.45
GRID_ALPHA = 0.55


def _greys(panel: PanelInput) -> np.ndarray:
    """(n, n) the grey level of each unit of the square: round(255 v / top), as ``greyOf``."""
    theory = panel.theory
    key = ("greys", theory.map)
    if key not in panel.cache:
        values = np.asarray(panel.scene.info["maps"][theory.map]["values"], dtype=np.float64)
        top = max(1e-12, *theory.plain_max)
        panel.cache[key] = np.floor(255 * np.clip(values / top, 0.0, 1.0) + 0.5).astype(np.uint8)
    greys: np.ndarray = panel.cache[key]
    return greys


def _unit(window: int, index: int, kernel: int, columns: int) -> tuple[int, int]:
    """(row, column) in the square of unit ``index`` (reading order) of window ``window``."""
    return (window // columns) * kernel + index // kernel, (
        window % columns
    ) * kernel + index % kernel


def render(panel: PanelInput, frame: Frame, size: Size, theme: Theme) -> Image.Image:
    theory = panel.theory
    greys = _greys(panel)
    units = greys.shape[0]
    cell = max(1, min(size) // units)
    scale = cell / PAGE_CELL
    side = units * cell
    kept = frame.arrays["mask"].tensor.reshape(units, units).numpy() != 0  # type: ignore[union-attr]

    grey_rgb = np.repeat(greys[..., None], 3, axis=2).astype(np.float64)
    shaded = grey_rgb + (np.asarray(DROPPED_UNIT, np.float64) - grey_rgb) * SHADE_ALPHA
    cells = np.where(kept[..., None], grey_rgb, np.rint(shaded)).astype(np.uint8)
    square = np.repeat(np.repeat(cells, cell, axis=0), cell, axis=1)

    # The pooling grid: white lines at 55 % on every window edge.
    line = max(1, round(scale))
    k = theory.kernel
    for edge in range(0, units + 1, k):
        at = min(edge * cell, side - line)
        for region in (square[:, at : at + line], square[at : at + line, :]):
            region[:] = np.rint(region + (255.0 - region) * GRID_ALPHA).astype(np.uint8)

    image = Image.fromarray(square, "RGB")
    draw = ImageDraw.Draw(image)
    if cell >= 6:  # strokes through the dropped units
        inset = max(1, round(3 * scale))
        stroke = max(1, round(1.5 * scale))
        for row, column in zip(*np.nonzero(~kept), strict=True):
            colour = blend(tuple(int(v) for v in cells[row, column]), WHITE, STRIKE_ALPHA)  # type: ignore[arg-type]
            x0, y0 = column * cell, row * cell
            draw.line(
                [(x0 + inset, y0 + cell - inset), (x0 + cell - inset, y0 + inset)],
                fill=colour,
                width=stroke,
            )
    if cell >= 4:
        winners = frame.stats["winners"]
        square_inset = max(1, round(2.5 * scale))
        square_stroke = max(1, round(3 * scale))
        radius = max(1.0, cell * 0.22)
        dot_stroke = max(1, round(1.5 * scale))
        cross_inset = max(1, round(6 * scale))
        for window in range(theory.rows * theory.columns):
            row, column = _unit(window, theory.order[window][0], k, theory.columns)
            draw.rectangle(
                [column * cell + square_inset, row * cell + square_inset,
                 (column + 1) * cell - square_inset - 1, (row + 1) * cell - square_inset - 1],
                outline=ORANGE, width=square_stroke,
            )  # fmt: skip
            winner = winners[window]
            if winner >= 0:
                row, column = _unit(window, winner, k, theory.columns)
                x, y = (column + 0.5) * cell, (row + 0.5) * cell
                draw.ellipse(
                    [x - radius, y - radius, x + radius, y + radius],
                    fill=SKY, outline=BLACK, width=dot_stroke,
                )  # fmt: skip
            else:
                top, left = (
                    (window // theory.columns) * k * cell,
                    (window % theory.columns) * k * cell,
                )
                near, far = cross_inset, k * cell - cross_inset
                draw.line(
                    [(left + near, top + near), (left + far, top + far)],
                    fill=VERMILION,
                    width=square_stroke,
                )
                draw.line(
                    [(left + far, top + near), (left + near, top + far)],
                    fill=VERMILION,
                    width=square_stroke,
                )

    pixels = canvas(size, theme.paper)
    left, top = (size[0] - side) // 2, (size[1] - side) // 2
    pixels[top : top + side, left : left + side] = np.asarray(image)
    return Image.fromarray(pixels, "RGB")


ROWS = (
    StatRow("units dropped", "dropped_fraction", "expected_dropped_fraction"),
    StatRow("windows not won by their max", "changed_fraction", "expected_changed_fraction"),
    StatRow("Monte Carlo mean - weighted pooling, RMS", "mc_rms_error", "frame:mc_rms_expected", 4),
)

RENDERER = ViewRenderer(render, lambda panel: 1.0, lambda panel: ROWS)
