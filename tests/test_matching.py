"""Same dropped fraction (dropouts.lab.views.matching): each method's main parameter set so that
its view's theory expects the asked fraction; what the masks then drop, measured."""

from __future__ import annotations

import pytest
import torch
from stats import assert_mean, seeded

from dropouts.lab.registry import get_method, get_view, validate_params, validate_view_params
from dropouts.lab.views import BUILT
from dropouts.lab.views.matching import MATCHED, match_fraction

PICTURE = torch.rand(3, 120, 160, generator=seeded(5))
CASES = [(view_id, method) for view_id, view in BUILT.items() for method in view.methods]


def defaults(view_id: str, method_id: str) -> dict[str, object]:
    return dict(validate_params(get_method(method_id), {})) | dict(
        validate_view_params(get_view(view_id), {})
    )


def test_every_method_with_a_view_has_a_matched_parameter() -> None:
    for _, method_id in CASES:
        assert get_method(method_id).param(MATCHED[method_id])


@pytest.mark.parametrize(("view_id", "method_id"), CASES)
@pytest.mark.parametrize("fraction", [0.1, 0.3])
def test_the_match_is_what_the_theory_expects(
    view_id: str, method_id: str, fraction: float
) -> None:
    view = BUILT[view_id]
    scene = view.scene(PICTURE)
    match = match_fraction(view, method_id, defaults(view_id, method_id), scene, fraction)
    shown = {param.name for param in get_view(view_id).params}
    validate_params(
        get_method(method_id),
        {  # the setting is a valid one
            k: "" if v is None else str(v) for k, v in match.params.items() if k not in shown
        },
    )
    if method_id == "maxdrop":  # only the maxima go: out of reach on these maps
        assert not match.reached and match.expected < fraction
        return
    if method_id == "compression":  # sparse VD prunes most weights at any threshold (89 % at
        # log alpha = 8 on the default run): the nearest setting is the highest threshold
        assert not match.reached and match.expected > fraction
        assert match.params["threshold"] == get_method(method_id).param("threshold").max
        return
    assert match.reached
    assert match.expected == pytest.approx(fraction, abs=0.005)
    theory = view.theory_json(view.theory(method_id, match.params, scene))
    # Gaussian noise drops nothing; compression's iterations are checkpoints of one run, not
    # draws, so its theory holds no expectation (app/wire.py): its fraction is what it prunes.
    if method_id not in ("gaussian", "compression"):
        assert theory["expected_dropped_fraction"] == pytest.approx(match.expected)
    if method_id != "gaussian":
        cheap = view.expected_dropped_fraction(method_id, match.params, scene)
        assert cheap == pytest.approx(match.expected)
        assert view.expected_dropped_fraction(method_id, match.params, scene) == pytest.approx(
            match.expected
        )


def test_matched_masks_drop_that_fraction_on_average() -> None:
    view = BUILT["image"]
    scene = view.scene(PICTURE)
    for method_id in ("standard", "cutout", "dropblock", "stochastic"):
        match = match_fraction(view, method_id, defaults("image", method_id), scene, 0.25)
        theory = view.theory(method_id, match.params, scene)
        frames = view.frames(method_id, match.params, 3, range(120), scene, theory)
        dropped = torch.tensor([frame.stats["dropped_fraction"] for frame in frames])
        assert_mean(dropped, match.expected)


def test_cutout_without_holes_gets_one() -> None:
    view = BUILT["image"]
    params = defaults("image", "cutout") | {"n_holes": 0}
    match = match_fraction(view, "cutout", params, view.scene(PICTURE), 0.2)
    assert match.params["n_holes"] == 1 and match.reached
