"""A bound on the work one training run may take, checked before it starts.

Each trained demo estimates the seconds its setting would train (on one core of a machine like
the CI's: a model of its steps, its multiply-adds and its random draws, fitted to runs measured
there); past :data:`TRAINING_BUDGET_S` the setting is refused with a
:class:`~dropouts.lab.registry.ParamError` naming the parameter furthest above its default and the
largest value it may take with the others as they are. The registry's ranges bound each
parameter; this bounds their product.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from dropouts.lab.registry import Param, ParamError, ParamValue

TRAINING_BUDGET_S = 20.0

Estimate = Callable[[Mapping[str, ParamValue]], float]


def check_budget(
    what: str,
    estimate: Estimate,
    values: Mapping[str, ParamValue],
    knobs: Sequence[Param],
    budget_s: float = TRAINING_BUDGET_S,
) -> None:
    """Refuse ``values`` when ``estimate(values)`` (seconds) exceeds ``budget_s``: the error
    names, of the whole-number ``knobs`` that alone can bring the run within the budget, the
    one furthest above its default, and the largest value it may take with the others as they
    are (when none can alone: the one that gains most, and that another must give too)."""
    seconds = estimate(values)
    if seconds <= budget_s:
        return

    def lowest(param: Param) -> float:
        return estimate(dict(values) | {param.name: int(param.min or 0)})

    enough = [param for param in knobs if lowest(param) <= budget_s]
    if not enough:
        knob = min(knobs, key=lowest)
        raise ParamError(
            knob.name,
            f"this {what} would train for about {seconds:.0f} s, more than the "
            f"{budget_s:.0f} s a run may take here, even at {knob.name} {knob.min:g}",
            f"a smaller {knob.name} and a smaller "
            + " or ".join(p.name for p in knobs if p is not knob),
        )
    knob = max(enough, key=lambda param: _stretch(param, values))
    start, step = int(knob.min or 0), max(1, int(knob.step or 1))
    low, high = 0, (int(_number(values[knob.name])) - start) // step  # in steps of the slider
    while low < high:  # the largest value within the budget
        middle = (low + high + 1) // 2
        if estimate(dict(values) | {knob.name: start + middle * step}) <= budget_s:
            low = middle
        else:
            high = middle - 1
    low = start + low * step
    others = ", ".join(f"{p.name} {values[p.name]}" for p in knobs if p is not knob)
    raise ParamError(
        knob.name,
        f"this {what} would train for about {seconds:.0f} s, more than the "
        f"{budget_s:.0f} s a run may take here",
        f"at most {low} with {others}",
    )


def _number(value: ParamValue) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _stretch(param: Param, values: Mapping[str, ParamValue]) -> float:
    """How far above its default a parameter is (its value over its default)."""
    default = _number(param.default) or 1.0
    return _number(values[param.name]) / default
