"""The lab's state as the server reads it from a query: the same URL that the page writes
(static/js/state.js), for the embed page, the exports and the command line. Its keys, defaults
and ranges are app/grammar.py's, which the page reads too.

One method::

    ?view=image&method=dropblock&image=cat&seed=7&p=0.3&block_size=15&i=4

A comparison (two to four panels, each with its method and parameters, on one view, picture,
seed and iteration), the panels named ``a`` to ``d``::

    ?view=image&image=cat&seed=7&a.method=standard&a.p=0.25&b.method=dropblock&b.p=0.29

Parsing here is strict: a wrong value is a :class:`~app.errors.ApiError` or a
:class:`~dropouts.lab.registry.ParamError` naming the field (the page itself corrects a bad link
and says so; an export or a script must not silently render something else).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dropouts.lab.registry import (
    SEED,
    ParamError,
    ParamValue,
    get_method,
    get_view,
    validate_params,
    validate_view_params,
)
from dropouts.lab.views import BUILT, views_of

from .errors import ApiError
from .grammar import DEFAULTS, GLOBAL, PANELS
from .grammar import ITERATIONS as ITERATIONS  # the exports' name for it


def first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A query's values by name, the FIRST of a repeated name: as the page reads a link
    (``URLSearchParams.get``), so that the page, its frames, its embed and its oEmbed all show
    the same setting of ``?p=0.2&p=0.9``."""
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values


@dataclass(frozen=True)
class Panel:
    """One method and its parameters (the method's and the view's own, validated)."""

    method: str
    params: dict[str, ParamValue]


@dataclass(frozen=True)
class LabState:
    view: str
    image: str
    seed: int
    iteration: int
    panels: tuple[Panel, ...]  # one; two to four for a comparison

    @property
    def comparison(self) -> bool:
        return len(self.panels) > 1


def _whole(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, name, f"{raw!r} is not a whole number", f"{low} to {high}") from None
    if not low <= value <= high:
        raise ApiError(422, name, f"{value} is out of range", f"{low} to {high}")
    return value


def _panel(
    method_id: str, given: Mapping[str, str], view: str | None, prefix: str
) -> tuple[Panel, str]:
    """A panel's method and parameters; the view (the method's first if none was asked)."""
    field = f"{prefix}method"
    try:
        method = get_method(method_id)
    except KeyError:
        raise ApiError(422, field, f"unknown method {method_id!r}", "see /api/methods") from None
    built = views_of(method.id, method.views)
    if not built:
        raise ApiError(422, field, f"{method.id} has no view yet", ", ".join(BUILT))
    chosen = view or built[0]
    if chosen not in built:
        raise ApiError(
            422, "view", f"{method.id} has no {chosen} view", ", ".join(built) or "none yet"
        )
    spec = get_view(chosen)
    own = {param.name for param in spec.params}
    try:
        params = validate_params(method, {k: v for k, v in given.items() if k not in own})
        params |= validate_view_params(spec, {k: v for k, v in given.items() if k in own})
    except ParamError as error:
        raise ParamError(prefix + error.field, error.message, error.allowed) from None
    return Panel(method.id, params), chosen


def parse_state(query: Mapping[str, str], *, ignore: frozenset[str] = frozenset()) -> LabState:
    """The state named by ``query`` (names in ``ignore`` belong to the caller: an export's
    format, size…). Raises ``ApiError`` / ``ParamError`` naming the field."""
    names = {name for name in query if name not in ignore}
    view = query.get("view") or None
    if view is not None and view not in BUILT:
        raise ApiError(422, "view", f"no view {view!r}", ", ".join(BUILT))
    seed = _whole(query, "seed", DEFAULTS.seed, 0, int(SEED.max or 0))
    iteration = _whole(query, "i", DEFAULTS.i, 0, ITERATIONS - 1)
    image = query.get("image") or DEFAULTS.image
    prefixed = [p for p in PANELS if f"{p}.method" in query]
    if not prefixed:
        if "method" not in query:
            raise ApiError(422, "method", "a method is required", "see /api/methods")
        given = {k: query[k] for k in names - GLOBAL if "." not in k}
        panel, view = _panel(query["method"], given, view, "")
        return LabState(view, image, seed, iteration, (panel,))
    if prefixed != list(PANELS[: len(prefixed)]) or len(prefixed) < 2:
        raise ApiError(
            422, "a.method", "a comparison names its panels a, b (c, d) in order", "2 to 4 panels"
        )
    panels = []
    for prefix in prefixed:
        start = f"{prefix}."
        given = {k[len(start) :]: query[k] for k in names if k.startswith(start)}
        method_id = given.pop("method")
        panel, view = _panel(method_id, given, view, start)
        panels.append(panel)
    stray = sorted(k for k in names - GLOBAL if not any(k.startswith(f"{p}.") for p in prefixed))
    if stray:
        raise ApiError(422, stray[0], "in a comparison, parameters belong to a panel", "a.p, b.p…")
    return LabState(view or DEFAULTS.view, image, seed, iteration, tuple(panels))


def panel_query(state: LabState, panel: Panel) -> dict[str, str]:
    """One panel as the query of a single-method state (for /api/frames and the page)."""
    query = {"view": state.view, "method": panel.method, "image": state.image}
    query["seed"] = str(state.seed)
    for name, value in panel.params.items():
        query[name] = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
    return query
