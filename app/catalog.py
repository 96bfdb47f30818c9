"""The registry as JSON for the API and the page (built once, it never changes at run time)."""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache

from dropouts.lab.registry import (
    FAMILIES,
    METHODS,
    SEED,
    VIEW_LABELS,
    VIEWS,
    Method,
    Param,
    ViewSpec,
)
from dropouts.lab.views import BUILT, views_of

from .grammar import DEFAULTS
from .mathml import to_mathml
from .schemas import FamilyOut, MethodOut, MethodsOut, PaperOut, ParamOut, ViewOut

FAMILY_LABELS = {
    "dense": "Dense layers",
    "convolutional": "Convolutional layers",
    "recurrent": "Recurrent layers",
    "inference": "Inference and compression",
}


def param_out(param: Param) -> ParamOut:
    values = asdict(param)
    values["choices"] = list(param.choices)
    values["choice_labels"] = list(param.choice_labels)
    return ParamOut(**values)


def method_out(method: Method) -> MethodOut:
    return MethodOut(
        id=method.id,
        name=method.name,
        family=method.family,
        papers=[PaperOut(**asdict(paper)) for paper in method.papers],
        views=list(method.views),
        summary=method.summary,
        formula=method.formula,
        formula_mathml=to_mathml(method.formula),
        test_time=method.test_time,
        notes=list(method.notes),
        function=method.function,
        params=[param_out(param) for param in method.params],
        image_view=DEFAULTS.view in views_of(method.id, method.views),
        built_views=list(views_of(method.id, method.views)),
    )


def view_out(view: ViewSpec) -> ViewOut:
    return ViewOut(
        id=view.id,
        label=view.label,
        built=view.id in BUILT,
        params=[param_out(param) for param in view.params],
    )


@lru_cache(maxsize=1)
def catalog() -> MethodsOut:
    return MethodsOut(
        families=[FamilyOut(id=family, label=FAMILY_LABELS[family]) for family in FAMILIES],
        views=dict(VIEW_LABELS),
        view_specs=[view_out(view) for view in VIEWS],
        seed=param_out(SEED),
        methods=[method_out(method) for method in METHODS],
    )
