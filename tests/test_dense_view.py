"""The dense view (dropouts.lab.views.dense): its masks are the library's for the frame's generator,
Standout's probabilities are the formula's, AlphaDropout keeps mean and variance, the
DropConnect panel's Gaussian has the sampled pre-activations' moments, and the sampled
ensemble mean converges to the exact mean over every sub-network (bounds from the sampling
distribution, tests/stats.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
import torch.nn.functional as TF
from stats import Z, assert_binomial_fraction

from dropouts import functional as F
from dropouts.functional.elementwise import SELU_ALPHA_PRIME
from dropouts.lab.registry import (
    ParamValue,
    get_method,
    get_view,
    validate_params,
    validate_view_params,
)
from dropouts.lab.views import BUILT
from dropouts.lab.views.base import JsonArray, frame_generator
from dropouts.lab.views.dense import (
    ALPHA_BATCH,
    DENSE_METHODS,
    UNIT_SAMPLES,
    VIEW,
    exact_mean,
    forward,
    toy_network,
)

SCENE = VIEW.scene(None)


def params(method: str, **given: object) -> dict[str, ParamValue]:
    view_names = {p.name for p in get_view("dense").params}
    method_given = {k: str(v) for k, v in given.items() if k not in view_names}
    view_given = {k: str(v) for k, v in given.items() if k in view_names}
    return validate_params(get_method(method), method_given) | validate_view_params(
        get_view("dense"), view_given
    )


def pass_of(frame: Any) -> dict[str, Any]:
    array = frame.arrays["pass"]
    assert isinstance(array, JsonArray)
    value: dict[str, Any] = array.value
    return value


def test_the_dense_methods_are_the_registry_methods_with_that_view() -> None:
    from dropouts.lab.registry import methods_with_view

    assert set(DENSE_METHODS) == {m.id for m in methods_with_view("dense")}
    assert BUILT["dense"] is VIEW


@pytest.mark.parametrize("scaling", ["inverted", "original"])
def test_standard_masks_are_the_librarys_for_the_frame_generator(scaling: str) -> None:
    chosen = params("standard", p=0.4, scaling=scaling, width=6, depth=2)
    theory = VIEW.theory("standard", chosen, SCENE)
    network = theory.network
    for iteration in (0, 7):
        frame = VIEW.frame("standard", chosen, 5, iteration, SCENE, theory)
        drawn = pass_of(frame)
        generator = frame_generator(5, iteration)
        h = theory.x
        for layer in range(1, 3):
            weight, bias = network.layers[layer - 1]
            activated = TF.relu(TF.linear(h, weight, bias))
            result = F.dropout(
                activated, 0.4, scale=scaling == "inverted", generator=generator, return_mask=True
            )
            assert isinstance(result, tuple)
            h, mask = result
            assert drawn["layers"][layer]["mask"] == mask[0].tolist()
            assert drawn["layers"][layer]["values"] == pytest.approx(h[0].tolist())


def test_dropconnect_masks_are_the_librarys_per_connection() -> None:
    chosen = params("dropconnect", p=0.5, width=4, depth=1)
    theory = VIEW.theory("dropconnect", chosen, SCENE)
    weight, bias = theory.network.layers[0]
    frame = VIEW.frame("dropconnect", chosen, 3, 2, SCENE, theory)
    result = F.dropconnect_linear(
        theory.x, weight, bias, 0.5, activation=TF.relu,
        generator=frame_generator(3, 2), return_mask=True,
    )  # fmt: skip
    assert isinstance(result, tuple)
    connection = pass_of(frame)["connections"][1]
    assert connection["weights"] == result[1][0, :, :-1].tolist()
    assert connection["bias"] == result[1][0, :, -1].tolist()


def test_standout_probabilities_are_the_formula() -> None:
    chosen = params("standout", alpha=1.5, beta=-0.5, form="additive", width=5, depth=2)
    theory = VIEW.theory("standout", chosen, SCENE)
    frame = VIEW.frame("standout", chosen, 0, 0, SCENE, theory)
    drawn = pass_of(frame)
    weight, bias = theory.network.layers[0]
    pre = TF.linear(theory.x, weight, bias)
    expected = torch.sigmoid(1.5 * pre - 0.5)[0]
    assert drawn["layers"][1]["keep"] == pytest.approx(expected.tolist())
    # Over many iterations each neuron of the first layer is kept with its probability.
    kept = torch.zeros(5)
    iterations = 300
    for iteration in range(iterations):
        mask = pass_of(VIEW.frame("standout", chosen, 1, iteration, SCENE, theory))
        kept += torch.tensor(mask["layers"][1]["mask"])
    for k in range(5):
        assert_binomial_fraction(float(kept[k]), iterations, float(expected[k]))


@pytest.mark.parametrize("p", [0.05, 0.1, 0.3])
def test_alpha_dropout_keeps_mean_and_variance(p: float) -> None:
    theory = VIEW.theory("alpha", params("alpha", p=p), SCENE)
    histograms = theory.extra["histograms"]
    n = ALPHA_BATCH
    # Standard normal inputs: the sample mean has standard error 1/sqrt(n); the sample
    # variance of an output with variance 1 and kurtosis k has standard error sqrt((k-1)/n).
    # Alpha dropout's output is a mixture whose kurtosis stays below 6 for p <= 0.3.
    for name in ("before", "alpha"):
        assert abs(histograms[name]["mean"]) <= Z / math.sqrt(n)
        assert abs(histograms[name]["variance"] - 1.0) <= Z * math.sqrt(5.0 / n)
    # Plain inverted dropout keeps the mean but inflates the variance to 1 / (1 - p).
    assert abs(histograms["plain"]["variance"] - 1.0 / (1.0 - p)) <= Z * math.sqrt(
        (3.0 / (1.0 - p) ** 3) / n
    )
    a, b = F.alpha_dropout_affine(p)
    assert histograms["dropped_value"] == pytest.approx(a * SELU_ALPHA_PRIME + b)


def test_the_dropconnect_gaussian_has_the_sampled_moments() -> None:
    theory = VIEW.theory("dropconnect", params("dropconnect", p=0.4, width=6, depth=2), SCENE)
    unit = theory.extra["dropconnect_unit"]
    n = UNIT_SAMPLES
    sd = math.sqrt(unit["moment_variance"])
    assert abs(unit["sample_mean"] - unit["moment_mean"]) <= Z * sd / math.sqrt(n)
    # The variance of a sample variance is about 2 sigma^4 / n for near-normal sums; a sum of a
    # few masked terms has heavier tails: allow the kurtosis of a two-point variable (<= 3x).
    assert abs(unit["sample_variance"] - unit["moment_variance"]) <= Z * sd**2 * math.sqrt(6.0 / n)
    assert sum(unit["sampled"]) == n
    assert sum(unit["gaussian"]) == pytest.approx(n, rel=1e-3)


@pytest.mark.parametrize("method", ["standard", "alpha", "standout"])
def test_the_sampled_ensemble_converges_to_the_exact_mean(method: str) -> None:
    chosen = params(method, width=3, depth=2)
    network = toy_network(3, 2, method == "alpha")
    x = torch.tensor([[0.8, -0.35]], dtype=torch.float64)
    exact = exact_mean(network, x, method, chosen)
    assert exact is not None and float(exact.sum()) == pytest.approx(1.0)
    bounds = []
    for samples in (100, 1600, 25600):
        outputs = forward(
            network, x.expand(samples, -1), method, chosen, torch.Generator().manual_seed(11)
        ).output[:, 1]
        error = abs(float(outputs.mean()) - float(exact[0, 1]))
        # Within 4 standard errors of the exact mean: a bound that shrinks like 1/sqrt(n).
        bound = Z * float(outputs.std()) / math.sqrt(samples)
        assert error <= bound + 1e-12, (samples, error, bound)
        bounds.append(bound)
    assert bounds[-1] < bounds[0] / 8


def test_frames_are_deterministic_and_fast_to_address() -> None:
    chosen = params("gaussian", p=0.3)
    theory = VIEW.theory("gaussian", chosen, SCENE)
    one = VIEW.frame("gaussian", chosen, 9, 4, SCENE, theory)
    two = VIEW.frame("gaussian", chosen, 9, 4, SCENE, theory)
    assert pass_of(one) == pass_of(two) and one.stats == two.stats
    assert pass_of(VIEW.frame("gaussian", chosen, 10, 4, SCENE, theory)) != pass_of(one)
    # No neuron is ever off: the multipliers are N(1, sigma^2).
    assert all(v != 0 for layer in pass_of(one)["layers"][1:-1] for v in layer["mask"])


# ---------------------------------------------------------------- Standout's expected fraction
# A later layer's keep probability depends on the earlier layers' MASKED outputs, so the
# expectation must be taken over those masks, not read off the test-time pass.

STANDOUT_PASSES = 200_000


def standout_frames_fraction(chosen: dict[str, ParamValue], seed: int) -> tuple[float, float]:
    """The mean of what frames drop (each frame: one training pass of the example, its hidden
    neurons' dropped share) over :data:`STANDOUT_PASSES` passes, and its 4-sigma bound. The
    share f lies in [0, 1], so Var f <= E f (1 - E f): the bound needs no estimate."""
    theory = VIEW.theory("standout", chosen, SCENE)
    x = theory.x.expand(STANDOUT_PASSES, -1)
    record = forward(theory.network, x, "standout", chosen, torch.Generator().manual_seed(seed))
    masks = torch.cat([m for m in record.masks if m is not None], dim=1)
    mean = float((masks == 0).double().mean(dim=1).mean())
    return mean, Z * math.sqrt(max(mean * (1.0 - mean), 1e-12) / STANDOUT_PASSES)


@pytest.mark.parametrize("alpha", [-5.0, 0.0, 3.0])
@pytest.mark.parametrize("beta", [-1.5, 0.5, 3.0])
@pytest.mark.parametrize(
    ("form", "width", "depth"),
    [("additive", 5, 2), ("tied", 5, 2), ("additive", 8, 3), ("tied", 3, 1)],
)
def test_standout_expectation_is_what_the_frames_drop(
    alpha: float, beta: float, form: str, width: int, depth: int
) -> None:
    chosen = params("standout", alpha=alpha, beta=beta, form=form, width=width, depth=depth)
    stated = VIEW.theory_json(VIEW.theory("standout", chosen, SCENE))["expected_dropped_fraction"]
    assert VIEW.expected_dropped_fraction("standout", chosen, SCENE) == pytest.approx(stated)
    measured, bound = standout_frames_fraction(chosen, seed=int(10 * alpha + beta + width))
    assert abs(measured - stated) <= bound, (measured, stated, bound)


def test_the_page_default_case_of_the_issue() -> None:
    """2-5-5-2 at alpha = -5, beta = 3: the test-time pass said 0.239; frames drop 0.274."""
    chosen = params("standout", alpha=-5, beta=3, width=5, depth=2)
    theory = VIEW.theory("standout", chosen, SCENE)
    stated = theory.expected_dropped_fraction
    keeps = torch.cat([k.flatten() for k in theory.test.keep if k is not None])
    from_test_pass = 1.0 - float(keeps.mean())
    measured, bound = standout_frames_fraction(chosen, seed=3)
    assert abs(measured - stated) <= bound
    assert abs(measured - from_test_pass) > 5 * bound  # the old reading: 9 bounds away


def test_sampled_standout_expectation_agrees_with_the_enumeration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sampled estimate (trained networks: too many neurons to enumerate) against the exact
    one on a network small enough for both. It averages 1 - pi over S passes: each pass's share
    lies in [0, 1], so its error is within 4 sqrt(v (1 - v) / S) of the exact value v."""
    from dropouts.lab.views import dense

    chosen = params("standout", alpha=2.0, beta=-0.5, form="additive", width=6, depth=3)
    theory = VIEW.theory("standout", chosen, SCENE)
    exact = dense.standout_expected_dropped(theory.network, theory.x, chosen)
    monkeypatch.setattr(dense, "STANDOUT_EXACT_LIMIT", 0)
    sampled = dense.standout_expected_dropped(theory.network, theory.x, chosen)
    bound = Z * math.sqrt(exact * (1.0 - exact) / dense.standout_samples(theory.network))
    assert sampled != exact and abs(sampled - exact) <= bound


@pytest.mark.parametrize(("alpha", "target"), [(3.0, 0.70), (3.0, 0.3), (-5.0, 0.5), (1.0, 0.2)])
def test_matching_standout_hits_its_target(alpha: float, target: float) -> None:
    from dropouts.lab.views.matching import match_fraction

    chosen = params("standout", alpha=alpha, width=5, depth=2)
    match = match_fraction(VIEW, "standout", chosen, SCENE, target)
    assert match.reached and abs(match.expected - target) <= 0.005
    measured, bound = standout_frames_fraction(dict(match.params), seed=17)
    assert abs(measured - target) <= 0.005 + bound, (match.params["beta"], measured, target)
