"""The max-pooling dropout view (dropouts.lab.views.pooling) against Wu & Gu 2015 and the library.

The view must agree exactly with ``dropouts.functional.maxpool_dropout`` for the same generator;
the rank of each window's winner must follow Wu & Gu's ``p_i = (1 - p) p^(i - 1)`` (the counts
are multinomial: each rank within 4 binomial standard errors); the running Monte Carlo mean must
approach probabilistic weighted pooling as ``sigma^2 / T`` says (bound from the chi-square
spread of the squared errors).
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from stats import Z, assert_binomial_fraction, seeded

from dropouts import functional as F
from dropouts.lab.registry import (
    FILTER_IDS,
    ParamValue,
    get_method,
    get_view,
    methods_with_view,
    validate_view_params,
)
from dropouts.lab.registry import validate_params as validate
from dropouts.lab.views.base import BinaryArray, frame_generator
from dropouts.lab.views.pooling import (
    CROP,
    POOLING_METHODS,
    draw,
    pooling_theory,
    rank_order,
    running_means,
    windows_of,
)
from dropouts.lab.views.pooling import VIEW as POOLING

PICTURE = torch.rand(3, 180, 240, generator=seeded(3))
SCENE = POOLING.scene(PICTURE)


def params(**given: object) -> dict[str, ParamValue]:
    method = validate(get_method("maxpool"), {k: str(v) for k, v in given.items() if k != "map"})
    shown = {"map": str(given["map"])} if "map" in given else {}
    return method | validate_view_params(get_view("pooling"), shown)


def test_the_view_shows_the_registry_methods_with_a_pooling_view() -> None:
    assert set(POOLING_METHODS) == {m.id for m in methods_with_view("pooling")}
    assert set(SCENE.data.crops) == set(FILTER_IDS)
    for crop in SCENE.data.crops.values():
        assert crop.shape == (1, CROP, CROP)
        assert float(crop.min()) >= 0.0  # post-ReLU: Wu & Gu's analysis assumes it


def test_the_square_is_the_maps_most_active_one() -> None:
    from dropouts.lab.views.features import run_stage

    stage = run_stage(PICTURE)
    for index, map_id in enumerate(FILTER_IDS):
        row, column = SCENE.data.origins[map_id]
        assert row % 12 == 0 and column % 12 == 0  # on the stage's pooling grid for 2, 3, 4
        expected = stage.activations[index, row : row + CROP, column : column + CROP]
        assert torch.equal(SCENE.data.crops[map_id][0], expected)
        # No other square on the lattice holds more activation.
        totals = [
            float(stage.activations[index, r : r + CROP, c : c + CROP].double().sum())
            for r in range(0, stage.activations.shape[1] - CROP + 1, 12)
            for c in range(0, stage.activations.shape[2] - CROP + 1, 12)
        ]
        assert float(expected.double().sum()) == pytest.approx(max(totals))


@pytest.mark.parametrize("kernel", [2, 3, 4])
def test_frames_agree_with_maxpool_dropout_for_the_same_generator(kernel: int) -> None:
    chosen = params(p=0.4, kernel_size=kernel, map="centre_on")
    theory = POOLING.theory("maxpool", chosen, SCENE)
    crop = SCENE.data.crops["centre_on"]
    values = windows_of(crop, kernel)
    for frame in POOLING.frames("maxpool", chosen, 8, range(0, 6), SCENE, theory):
        result = F.maxpool_dropout(
            crop, 0.4, kernel, generator=frame_generator(8, frame.iteration), return_mask=True
        )
        assert isinstance(result, tuple)
        output, mask = result
        assert frame.stats["outputs"] == output.flatten().tolist()
        array = frame.arrays["mask"]
        assert isinstance(array, BinaryArray)
        assert torch.equal(array.tensor, mask.float())
        # The winner's value is the output; no kept unit ranks above the winner.
        kept = windows_of(mask, kernel) != 0
        for w, (winner, rank) in enumerate(
            zip(frame.stats["winners"], frame.stats["ranks"], strict=True)
        ):
            if winner < 0:
                assert rank == 0 and not bool(kept[w].any()) and output.flatten()[w] == 0
                continue
            assert float(values[w, winner]) == pytest.approx(float(output.flatten()[w]))
            assert bool(kept[w, winner])
            assert theory.order[w].index(winner) == rank - 1
            above = theory.order[w][: rank - 1]
            assert not any(bool(kept[w, unit]) for unit in above)


def test_weighted_pooling_is_the_exact_expectation_by_enumeration() -> None:
    crop = SCENE.data.crops["edge_0"]
    p = 0.35
    theory = pooling_theory(crop, "edge_0", p, 2)
    windows = windows_of(crop, 2)
    for w in range(0, windows.shape[0], 7):
        exact = 0.0
        for kept in itertools.product((0, 1), repeat=4):
            probability = math.prod((1 - p) if k else p for k in kept)
            exact += probability * max(float(v) * k for v, k in zip(windows[w], kept, strict=True))
        assert theory.weighted[w] == pytest.approx(exact, abs=1e-12)
        assert theory.scaled_max[w] == pytest.approx((1 - p) * float(windows[w].max()))
    assert sum(theory.rank_probability) + theory.none_probability == pytest.approx(1.0)
    assert sum(theory.expected_rank_counts) == pytest.approx(windows.shape[0])


@pytest.mark.parametrize(("p", "kernel"), [(0.5, 2), (0.3, 3)])
def test_winner_ranks_follow_wu_and_gu(p: float, kernel: int) -> None:
    crop = SCENE.data.crops["edge_90"]
    n = kernel * kernel
    iterations = 200
    counts = [0] * (n + 1)  # ranks 1..n, then none
    for iteration in range(iterations):
        for rank in draw(crop, p, kernel, 5, iteration).ranks:
            counts[rank - 1 if rank > 0 else n] += 1
    trials = sum(counts)
    assert trials == iterations * (CROP // kernel) ** 2
    for i in range(n):
        assert_binomial_fraction(counts[i], trials, (1 - p) * p**i)
    assert_binomial_fraction(counts[n], trials, p**n)


def test_the_running_mean_converges_to_weighted_pooling() -> None:
    crop = SCENE.data.crops["edge_0"]
    p, kernel, last = 0.5, 2, 1499
    theory = pooling_theory(crop, "edge_0", p, kernel)
    means = running_means(crop, p, kernel, 1, last)
    weighted = torch.tensor(theory.weighted, dtype=torch.float64)
    variance = torch.tensor(theory.output_variance, dtype=torch.float64)
    windows = variance.numel()
    for steps in (10, 100, 1500):
        squared = float(((means[steps - 1] - weighted) ** 2).mean())
        # Each window's mean of `steps` independent outputs has error variance sigma_w^2 /
        # steps; the mean of the squared errors over the windows has expectation
        # mean(sigma^2) / steps and (normal approximation) variance 2 sum(sigma^4) /
        # (steps windows)^2.
        expected = float(variance.mean()) / steps
        spread = math.sqrt(2 * float((variance**2).sum())) / (steps * windows)
        assert abs(squared - expected) <= Z * spread + 1e-15, (steps, squared, expected)
    # The frames report the same running error.
    chosen = params(p=p, kernel_size=kernel, map="edge_0")
    view_theory = POOLING.theory("maxpool", chosen, SCENE)
    (frame,) = POOLING.frames("maxpool", chosen, 1, range(99, 100), SCENE, view_theory)
    assert frame.stats["mc_rms_error"] == pytest.approx(
        math.sqrt(float(((means[99] - weighted) ** 2).mean()))
    )
    assert frame.stats["mc_rms_expected"] == pytest.approx(math.sqrt(float(variance.mean()) / 100))


def test_the_scaled_max_is_biased_below_weighted_pooling() -> None:
    for map_id in FILTER_IDS:
        theory = pooling_theory(SCENE.data.crops[map_id], map_id, 0.5, 2)
        for plain, weighted, scaled in zip(
            theory.plain_max, theory.weighted, theory.scaled_max, strict=True
        ):
            assert scaled <= weighted + 1e-12 <= plain + 2e-12


def test_windows_not_won_by_their_max_are_a_fraction_p() -> None:
    chosen = params(p=0.3, kernel_size=2, map="red_green")
    theory = POOLING.theory("maxpool", chosen, SCENE)
    frames = POOLING.frames("maxpool", chosen, 2, range(0, 40), SCENE, theory)
    changed = sum(f.stats["changed_fraction"] for f in frames) * (CROP // 2) ** 2
    assert_binomial_fraction(round(changed), 40 * (CROP // 2) ** 2, 0.3)


def test_rank_order_breaks_ties_in_reading_order() -> None:
    windows = torch.tensor([[0.0, 0.5, 0.5, 0.2], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    assert rank_order(windows).tolist() == [[1, 2, 3, 0], [0, 1, 2, 3]]


def test_frames_are_addressable() -> None:
    chosen = params(p=0.5, kernel_size=2)
    theory = POOLING.theory("maxpool", chosen, SCENE)
    batch = POOLING.frames("maxpool", chosen, 3, range(10, 14), SCENE, theory)
    for frame in batch:
        alone = POOLING.frame("maxpool", chosen, 3, frame.iteration, SCENE, theory)
        assert alone.stats == frame.stats
