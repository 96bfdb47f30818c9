"""Frames as pictures: one panel's frame (what ``/api/frames`` sends) drawn as the page draws
it, then laid out with its caption (:mod:`app.render.layout`), for the exports.

Each view has one module here and a :class:`ViewRenderer` in :data:`RENDERERS`, by the view's
id: ``render(panel, frame, size, theme)`` returns an RGB image of exactly ``size``, and
``aspect(panel)`` the width / height its drawing prefers (to arrange a comparison's panels).
Only display arithmetic lives here: the masks and statistics come from :mod:`dropouts.lab.views`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import compression as compression_render
from . import dense, feature_maps, image, pooling
from . import lstm as lstm_render
from . import residual as residual_render
from . import uncertainty as uncertainty_render
from .base import PanelInput, Renderer, Size
from .layout import compose
from .theme import THEMES, Theme

__all__ = [
    "RENDERERS",
    "THEMES",
    "PanelInput",
    "Renderer",
    "Size",
    "Theme",
    "ViewRenderer",
    "compose",
]


@dataclass(frozen=True)
class ViewRenderer:
    render: Renderer
    aspect: Callable[[PanelInput], float]


def _picture_aspect(panel: PanelInput) -> float:
    return float(panel.scene.info["width"]) / float(panel.scene.info["height"])


def _grid_aspect(panel: PanelInput) -> float:
    # Four maps across, two down, each with a label line of about a fifth of its height.
    return 4 * float(panel.scene.info["width"]) / (2 * 1.2 * float(panel.scene.info["height"]))


RENDERERS: dict[str, ViewRenderer] = {
    "image": ViewRenderer(image.render, _picture_aspect),
    "feature_maps": ViewRenderer(feature_maps.render, _grid_aspect),
    "pooling": ViewRenderer(pooling.render, lambda panel: 1.0),
    "dense": ViewRenderer(dense.render, dense.aspect),
    "compression": ViewRenderer(compression_render.render, compression_render.aspect),
    "uncertainty": ViewRenderer(uncertainty_render.render, uncertainty_render.aspect),
    "lstm": ViewRenderer(lstm_render.render, lstm_render.aspect),
    "residual": ViewRenderer(residual_render.render, residual_render.aspect),
}
