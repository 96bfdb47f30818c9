"""Views: a method applied to something a person can look at (an image, feature maps, …).

Each view turns registry parameters, a seed and an iteration number into the masks and
statistics that the web app draws; it knows nothing of HTTP. Every view is one module here
with a ``VIEW`` object (a :class:`~dropouts.lab.views.base.View`) and one ES module in
``static/js/views/``; :data:`BUILT` lists them by the registry's view id.
"""

from __future__ import annotations

import importlib
import importlib.util

from dropouts.lab.registry import VIEWS
from dropouts.lab.trained import Training
from dropouts.lab.views.base import View


def _built() -> dict[str, View[object]]:
    """Each view of the registry that has its module here (``<id>.py`` with ``VIEW``), in the
    registry's order: adding a view adds its module, nothing is listed by hand."""
    found: dict[str, View[object]] = {}
    for spec in VIEWS:
        name = f"{__name__}.{spec.id}"
        if importlib.util.find_spec(name) is None:
            continue
        view = importlib.import_module(name).VIEW
        assert view.id == spec.id, (name, view.id)
        found[spec.id] = view
    return found


BUILT: dict[str, View[object]] = _built()


def built_view(view_id: str) -> View[object]:
    """The built view with this id; ``KeyError`` naming the built ones otherwise."""
    try:
        return BUILT[view_id]
    except KeyError:
        raise KeyError(f"no {view_id!r} view is built; built: {', '.join(BUILT)}") from None


def trainings() -> dict[str, Training]:
    """The built views that train a network (:attr:`View.training`), by id, in order."""
    return {view_id: view.training for view_id, view in BUILT.items() if view.training is not None}


def views_of(method_id: str, declared: tuple[str, ...]) -> tuple[str, ...]:
    """Of the views a method's registry entry declares, those that are built, in its order."""
    return tuple(view for view in declared if view in BUILT and BUILT[view].shows(method_id))
