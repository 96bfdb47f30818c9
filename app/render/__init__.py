"""Frames as pictures: one panel's frame (what ``/api/frames`` sends) drawn as the page draws
it, then laid out with its caption (:mod:`app.render.layout`), for the exports.

Each view has one module here named by the view's id (``app/render/<view id>.py`` or a package
of that name), as the page has ``static/js/views/<view id>.js``: its ``RENDERER`` (a
:class:`~app.render.base.ViewRenderer`) draws a panel, ``render(panel, frame, size, theme)``
returning an RGB image of exactly ``size``, says the width / height its drawing prefers
(``aspect(panel)``, to arrange a comparison's panels) and the rows of its statistics.
:func:`renderer_of` finds it by id; :func:`drawn_views` lists the views that have one. Only
display arithmetic lives here: the masks and statistics come from :mod:`dropouts.lab.views`.
"""

from __future__ import annotations

import importlib
import importlib.util

from dropouts.lab.views import BUILT

from .base import PanelInput, Renderer, Size, StatRow, ViewRenderer
from .layout import compose
from .theme import THEMES, Theme

__all__ = [
    "THEMES",
    "PanelInput",
    "Renderer",
    "Size",
    "StatRow",
    "Theme",
    "ViewRenderer",
    "compose",
    "drawn_views",
    "renderer_of",
]


def _has_module(view_id: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{view_id}") is not None


def renderer_of(view_id: str) -> ViewRenderer | None:
    """The renderer of a built view (its module's ``RENDERER``), or ``None`` when the exports
    cannot draw it yet."""
    if view_id not in BUILT or not _has_module(view_id):
        return None
    renderer = getattr(importlib.import_module(f"{__name__}.{view_id}"), "RENDERER", None)
    return renderer if isinstance(renderer, ViewRenderer) else None


def drawn_views() -> tuple[str, ...]:
    """The views the exports can draw, in the order of :data:`dropouts.lab.views.BUILT`."""
    return tuple(view for view in BUILT if renderer_of(view) is not None)
