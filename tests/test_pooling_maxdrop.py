"""Max-pooling dropout (methods.md §5), Max-Drop and stochastic dropout (§8)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as TF
from stats import assert_binomial_fraction, assert_mean, assert_variance, seeded

from dropouts import functional as F

# ---------------------------------------------------------------- max-pooling dropout


def exact_expected_max(values: list[float], p: float) -> float:
    """E[max(m * a)] by enumerating all 2^n masks."""
    total = 0.0
    for mask in itertools.product([0, 1], repeat=len(values)):
        prob = math.prod((1 - p) if m else p for m in mask)
        total += prob * max(m * v for m, v in zip(mask, values, strict=True))
    return total


def test_weighted_pooling_equals_the_enumerated_expectation() -> None:
    region = [0.1, 0.9, 0.4, 0.7]
    x = torch.tensor(region, dtype=torch.float64).view(1, 2, 2)
    pooled = F.probabilistic_weighted_pooling(x, p=0.4)
    assert float(pooled) == pytest.approx(exact_expected_max(region, 0.4), abs=1e-12)
    assert float(pooled) == pytest.approx(0.75024, abs=1e-5)  # methods.md worked example
    assert float(pooled) > 0.6 * 0.9  # scaled max-pooling is biased low


def test_weights_sum_to_one_minus_q_to_the_n() -> None:
    for p, n in [(0.4, 4), (0.1, 9), (0.7, 4)]:
        weights = F.weighted_pooling_weights(p, n)
        assert float(weights.sum()) == pytest.approx(1 - p**n)
    constant = torch.full((1, 2, 2), 3.0)
    assert float(F.probabilistic_weighted_pooling(constant, 0.4)) == pytest.approx(3 * (1 - 0.4**4))


def test_eval_output_is_the_mean_of_many_training_outputs() -> None:
    x = torch.rand(2, 6, 6, generator=seeded(0))  # non-negative, as after ReLU
    draws = 20_000
    batch = x.expand(draws, 2, 6, 6)
    train = F.maxpool_dropout(batch, 0.3, 2, generator=seeded(1))
    evaluated = F.maxpool_dropout(x, 0.3, 2, training=False)
    assert evaluated.shape == (2, 3, 3)
    assert_mean(train, evaluated)


def test_training_output_is_a_region_value_or_zero() -> None:
    x = torch.rand(4, 3, 8, 8, generator=seeded(2))
    y, mask = F.maxpool_dropout(x, 0.5, 2, generator=seeded(3), return_mask=True)
    assert mask.shape == x.shape and set(mask.unique().tolist()) <= {0.0, 1.0}
    regions = TF.unfold(x, 2, stride=2).view(4, 3, 4, 16)
    candidates = torch.cat([regions, torch.zeros(4, 3, 1, 16)], dim=2)
    assert bool((candidates == y.view(4, 3, 1, 16)).any(2).all())
    torch.testing.assert_close(y, TF.max_pool2d(x * mask, 2))


def test_maxpool_dropout_edge_cases() -> None:
    x = torch.rand(2, 3, 8, 8, generator=seeded(4))
    torch.testing.assert_close(F.maxpool_dropout(x, 0.0), TF.max_pool2d(x, 2))
    torch.testing.assert_close(F.maxpool_dropout(x, 0.0, training=False), TF.max_pool2d(x, 2))
    assert torch.equal(F.maxpool_dropout(x, 1.0), torch.zeros(2, 3, 4, 4))
    assert torch.equal(F.maxpool_dropout(x, 1.0, training=False), torch.zeros(2, 3, 4, 4))
    overlapping = F.maxpool_dropout(x, 0.2, 3, 1, training=False)
    assert overlapping.shape == (2, 3, 6, 6)


# ---------------------------------------------------------------- max-drop


def test_feature_max_drop_zeroes_only_the_argmax_of_selected_maps() -> None:
    x = torch.rand(3000, 4, 5, 5, generator=seeded(5))
    y, mask = F.max_drop(x, 0.3, generator=seeded(6), return_mask=True)
    zeros = (mask == 0).flatten(2)
    assert int(zeros.sum(2).max()) == 1  # at most one zero per map
    selected = zeros.any(2)
    argmax = x.flatten(2).argmax(2)
    assert torch.equal(zeros.float().argmax(2)[selected], argmax[selected])
    assert_binomial_fraction(int(selected.sum()), selected.numel(), 0.3)
    scale = 1 / (1 - 0.3 / 25)
    torch.testing.assert_close(y[mask != 0], x[mask != 0] * scale)


def test_feature_max_drop_window_is_centred_and_clipped() -> None:
    x = torch.zeros(1, 1, 7, 7)
    x[0, 0, 3, 3] = 1.0
    _, mask = F.max_drop(x, 1.0, window=3, scale=False, generator=seeded(7), return_mask=True)
    expected = torch.ones(7, 7)
    expected[2:5, 2:5] = 0
    assert torch.equal(mask[0, 0], expected)
    x[0, 0, 3, 3], x[0, 0, 0, 6] = 0.0, 1.0
    _, mask = F.max_drop(x, 1.0, window=3, scale=False, generator=seeded(7), return_mask=True)
    assert int((mask == 0).sum()) == 4 and float(mask[0, 0, 0:2, 5:7].sum()) == 0


def test_channel_max_drop_zeroes_the_argmax_channel_at_selected_positions() -> None:
    x = torch.rand(200, 6, 8, 8, generator=seeded(8))
    y, mask = F.max_drop(x, 0.25, mode="channel", generator=seeded(9), return_mask=True)
    zeros = mask == 0
    assert int(zeros.sum(1).max()) == 1  # at most one channel per position
    selected = zeros.any(1)
    assert torch.equal(zeros.float().argmax(1)[selected], x.argmax(1)[selected])
    assert_binomial_fraction(int(selected.sum()), selected.numel(), 0.25)
    torch.testing.assert_close(y[~zeros], x[~zeros] / (1 - 0.25 / 6))


def test_max_drop_removes_maxima_so_it_is_biased_and_eval_is_identity() -> None:
    x = torch.rand(500, 4, 6, 6, generator=seeded(10))
    y = F.max_drop(x, 0.5, scale=False, generator=seeded(11))
    assert float(y.amax((2, 3)).mean()) < float(x.amax((2, 3)).mean())
    assert torch.equal(F.max_drop(x, 0.5, training=False), x)
    assert torch.equal(F.max_drop(x, 0.0), x)
    with pytest.raises(ValueError):
        F.max_drop(x, 0.5, mode="pixel")  # type: ignore[arg-type]


# ---------------------------------------------------------------- stochastic dropout


def test_stochastic_p_follows_the_folded_clipped_normal() -> None:
    generator = seeded(12)
    draws = torch.tensor(
        [F.draw_stochastic_p(0.02, 0.05, generator=generator) for _ in range(20_000)]
    )
    # P(p_t = 0) = P(N(0.02, 0.05) < 0) = Phi(-0.4): sigma is the standard deviation.
    zero_prob = 0.5 * math.erfc(0.4 / math.sqrt(2))
    assert_binomial_fraction(int((draws == 0).sum()), draws.numel(), zero_prob)
    positive = draws[draws > 0]
    assert float(positive.max()) <= 0.7
    capped = [F.draw_stochastic_p(1.5, 0.1, generator=generator) for _ in range(100)]
    assert capped == [0.7] * 100
    folded = torch.tensor(
        [F.draw_stochastic_p(0.0, 0.1, generator=generator) for _ in range(20_000)]
    )
    assert bool((folded >= 0).all())
    assert_mean(folded, 0.1 * math.sqrt(2 / math.pi))  # mean of a half-normal


def test_stochastic_dropout_shares_p_within_an_iteration() -> None:
    x = torch.ones(100_000)
    y = F.stochastic_dropout(x, mu=0.0, sigma=1.0, p_t=0.25, generator=seeded(13))
    assert_binomial_fraction(int((y == 0).sum()), x.numel(), 0.25)
    torch.testing.assert_close(y[y != 0], torch.full_like(y[y != 0], 1 / 0.75))
    # The scale is capped at 1.5, so p_t = 0.5 gives 1.5, not 2.
    y = F.stochastic_dropout(x, mu=0.0, sigma=1.0, p_t=0.5, generator=seeded(14))
    assert float(y.max()) == pytest.approx(1.5)
    assert torch.equal(F.stochastic_dropout(x, mu=0.3, sigma=0.1, training=False), x)


def test_stochastic_dropout_draws_a_new_p_each_iteration() -> None:
    """The per-iteration dropped fraction varies as p_t does: Var = Var[p_t] + E[p(1-p)] / N."""
    n = 50_000
    x = torch.ones(n)
    generator = seeded(15)
    fractions = torch.tensor(
        [
            float((F.stochastic_dropout(x, mu=0.3, sigma=0.1, generator=generator) == 0).sum()) / n
            for _ in range(400)
        ]
    )
    # N(0.3, 0.1) is negative or above the 0.7 cap with probability < 2e-3: p_t ~ N(0.3, 0.1).
    binomial = (0.3 * 0.7 - 0.1**2) / n
    assert_mean(fractions, 0.3)
    assert_variance(fractions, 0.1**2 + binomial)
