"""The page's colours, for frames drawn on the server: the two themes and the marks of the views.

The values are those of static/css/lab.css (``:root`` and ``[data-theme="contrast"]``, the
page's projector mode) and static/js/colours.js (Okabe-Ito, colour-blind safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RGB = tuple[int, int, int]
ThemeName = Literal["light", "contrast"]


@dataclass(frozen=True)
class Theme:
    name: ThemeName
    ink: RGB  # text
    muted: RGB  # secondary text
    paper: RGB  # the page's background: around the panels
    panel: RGB  # a tile's background
    line: RGB  # borders
    bar: RGB  # the caption bar's background


THEMES: dict[str, Theme] = {
    "light": Theme(
        "light",
        ink=(0x16, 0x16, 0x16),
        muted=(0x4A, 0x4A, 0x4A),
        paper=(0xFB, 0xFB, 0xF8),
        panel=(0xFF, 0xFF, 0xFF),
        line=(0xD6, 0xD6, 0xD0),
        bar=(0xEE, 0xEE, 0xE8),
    ),
    # The projector mode: white on black.
    "contrast": Theme(
        "contrast",
        ink=(0xFF, 0xFF, 0xFF),
        muted=(0xE8, 0xE8, 0xE8),
        paper=(0x00, 0x00, 0x00),
        panel=(0x0D, 0x0D, 0x0D),
        line=(0x8A, 0x8A, 0x8A),
        bar=(0x00, 0x00, 0x00),
    ),
}

# static/js/colours.js and the views' own constants.
KEPT: RGB = (245, 245, 245)
DROPPED: RGB = (17, 17, 17)
DROPPED_UNIT: RGB = (0, 58, 112)  # feature maps: a dropped activation; pooling: the shade
WARN: RGB = (0xB3, 0x47, 0x00)  # a whole map dropped: its border and badge
ORANGE: RGB = (0xE6, 0x9F, 0x00)
VERMILION: RGB = (0xD5, 0x5E, 0x00)
SKY: RGB = (0x56, 0xB4, 0xE9)
BLACK: RGB = (0, 0, 0)
WHITE: RGB = (255, 255, 255)


def blend(under: RGB, over: RGB, alpha: float) -> RGB:
    """``over`` at opacity ``alpha`` on ``under``, as a canvas composites an rgba() fill."""
    return (
        round(under[0] + (over[0] - under[0]) * alpha),
        round(under[1] + (over[1] - under[1]) * alpha),
        round(under[2] + (over[2] - under[2]) * alpha),
    )
