"""The views benchmark's cases (the picture, the methods and settings timed) and the helpers
its parts share (see :mod:`benchmarks.views`)."""

from __future__ import annotations

from dropouts.lab.registry import ParamValue, get_method, get_view, validate_params
from dropouts.lab.registry import validate_view_params as validate_own_params

from .latency_server import frame_query

IMAGE = "astronaut"
# The method each view opens with in the cold loads.
OPENING: dict[str, str] = {"image": "standard", "feature_maps": "standard", "pooling": "maxpool"}
# (label, method, parameters given) of the feature-map rows; the rest at their defaults.
FEATURE_CASES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("standard", "standard", {}),
    ("gaussian", "gaussian", {}),
    ("spatial", "spatial", {}),
    ("cutout", "cutout", {}),
    ("dropblock", "dropblock", {}),
    ("maxdrop feature", "maxdrop", {"mode": "feature"}),
    ("maxdrop channel", "maxdrop", {"mode": "channel"}),
    ("stochastic", "stochastic", {}),
)
# The dense view's methods (the toy network, default parameters) in table b.
DENSE_CASES: tuple[str, ...] = ("standard", "gaussian", "alpha", "dropconnect", "standout")
# The residual view's rows in table b: (label, the method's parameters, the view's own).
RESIDUAL_CASES: tuple[tuple[str, dict[str, str], dict[str, str]], ...] = (
    ("row, 8 x 8", {}, {}),
    ("batch, 8 x 8", {"mode": "batch"}, {}),
    ("row, 16 x 16", {}, {"blocks": "16", "batch": "16"}),
)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def params_of(view: str, method: str, given: dict[str, str] | None = None) -> dict[str, ParamValue]:
    """The method's parameters (defaults but ``given``) and the view's own, as the server has
    them after ``validate_params`` / ``validate_view_params``."""
    params = validate_params(get_method(method), given or {})
    spec = get_view(view)
    return params | (validate_own_params(spec, {}) if spec.params else {})


def query(view: str, method: str, params: dict[str, ParamValue], start: int) -> dict[str, str]:
    return frame_query(method, params, view=view, start=start)
