"""The same dropped fraction for every method of a comparison: the setting of a method's
main parameter whose expected dropped fraction (as its view's theory predicts it on the
current input) is a given fraction.

Standard dropout at p = 0.25 drops a quarter of the pixels; DropBlock needs a higher p (its
blocks overlap), Cutout a hole size that depends on the picture's size, stochastic dropout
a mean that its clipping makes nonlinear. The search uses each view's own theory, so what
is matched is exactly the "expected" the page shows beside each measured fraction.
Gaussian dropout drops nothing: it is matched by its noise, p = the fraction (then
sigma^2 = p / (1 - p), the variance of Bernoulli dropout at that p).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dropouts.lab.registry import ParamValue, get_method
from dropouts.lab.views.base import Scene, View

# The parameter moved to reach a fraction, per method (its other parameters stay).
MATCHED: dict[str, str] = {
    "standard": "p",
    "gaussian": "p",
    "spatial": "p",
    "cutout": "size",
    "dropblock": "p",
    "stochastic": "mu",
    "maxdrop": "p",
    "maxpool": "p",
    "alpha": "p",
    "dropconnect": "p",
    "droppath": "p",  # the last block's drop rate (linear rule) or every block's
    "standout": "beta",  # the offset of the KEEP probability's logit: more beta, fewer dropped
    "mc_dropout": "p",  # the passes' masks drop p
    "rnndrop": "p",
    "recurrent": "p",
    "variational_rnn": "p",  # the mask on h; the input's p_input stays
    "zoneout": "zoneout_c",  # the share of cell units held (the hidden state's stays)
    "compression": "threshold",  # the share of weights pruned: a higher log alpha prunes fewer
}
# Parameters that drop LESS as they grow.
DECREASING = frozenset({"standout", "compression"})
STEPS = 24  # bisection steps on a continuous parameter (2^-24 of its range: below 4 decimals)


@dataclass(frozen=True)
class Match:
    params: dict[str, ParamValue]
    parameter: str  # the one that was moved
    expected: float  # the expected dropped fraction at the match
    reached: bool  # False: the fraction is out of the method's reach; the nearest is given


def _expected(
    view: View[object], method_id: str, scene: Scene, seed: int
) -> Callable[[dict[str, ParamValue]], float]:
    def expected(params: dict[str, ParamValue]) -> float:
        return view.expected_dropped_fraction(method_id, params, scene, seed=seed)

    return expected


def match_fraction(
    view: View[object],
    method_id: str,
    params: Mapping[str, ParamValue],
    scene: Scene,
    fraction: float,
    tolerance: float = 0.005,
    *,
    seed: int = 0,
) -> Match:
    """``params`` with the method's :data:`MATCHED` parameter set so that the expected dropped
    fraction is ``fraction`` (the nearest setting its range allows; a whole-number parameter
    takes the whole number nearest to it). ``seed``: a trained view's network is its seed's."""
    name = MATCHED[method_id]
    param = get_method(method_id).param(name)
    low, high = float(param.min or 0.0), float(param.max or 1.0)
    chosen = dict(params)
    expected = _expected(view, method_id, scene, seed)
    if method_id == "gaussian":  # no unit is dropped: matched by its noise
        chosen |= {"p": min(max(fraction, low), high), "sigma": None}
        return Match(chosen, name, fraction, low <= fraction <= high)
    if method_id == "cutout" and chosen.get("n_holes") == 0:
        chosen["n_holes"] = 1  # no hole drops nothing, whatever its size

    def at(value: ParamValue) -> float:
        return expected(chosen | {name: value})

    growing = method_id not in DECREASING
    for _ in range(STEPS):  # the expected fraction is monotone in the parameter
        middle = (low + high) / 2
        if (at(middle) < fraction) == growing:
            low = middle
        else:
            high = middle
    best: ParamValue
    if param.kind == "int":
        allowed = range(int(param.min or 0), int(param.max or 0) + 1)
        candidates = {int(low), int(low) + 1, int(high)} & set(allowed)
        best = min(candidates, key=lambda value: (abs(at(value) - fraction), value))
    else:  # four decimals: finer than any slider, short in a URL
        edge = high if growing else low
        best = round(min(max(edge, float(param.min or 0.0)), float(param.max or 1.0)), 4)
    chosen[name] = best
    reached_value = at(best)
    return Match(chosen, name, reached_value, abs(reached_value - fraction) <= tolerance)
