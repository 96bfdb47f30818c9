"""Views: a method applied to something a person can look at (an image, feature maps, …).

Each view turns registry parameters, a seed and an iteration number into the masks and
statistics that the web app draws; it knows nothing of HTTP. Every view is one module here
with a ``VIEW`` object (a :class:`~dropouts.lab.views.base.View`) and one ES module in
``static/js/views/``; :data:`BUILT` lists them by the registry's view id.
"""

from __future__ import annotations

from dropouts.lab.trained import Training
from dropouts.lab.views.base import View
from dropouts.lab.views.compression import VIEW as COMPRESSION
from dropouts.lab.views.dense import VIEW as DENSE
from dropouts.lab.views.feature_maps import VIEW as FEATURE_MAPS
from dropouts.lab.views.image import VIEW as IMAGE
from dropouts.lab.views.lstm import VIEW as LSTM
from dropouts.lab.views.pooling import VIEW as POOLING
from dropouts.lab.views.residual import VIEW as RESIDUAL
from dropouts.lab.views.uncertainty import VIEW as UNCERTAINTY

BUILT: dict[str, View[object]] = {
    view.id: view  # type: ignore[misc]
    for view in (IMAGE, FEATURE_MAPS, POOLING, DENSE)
}
BUILT[COMPRESSION.id] = COMPRESSION  # type: ignore[assignment]
BUILT[UNCERTAINTY.id] = UNCERTAINTY  # type: ignore[assignment]
BUILT[LSTM.id] = LSTM  # type: ignore[assignment]
BUILT[RESIDUAL.id] = RESIDUAL  # type: ignore[assignment]


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
