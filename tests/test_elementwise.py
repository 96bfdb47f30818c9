"""Standard, Gaussian and Alpha dropout against the invariants of methods.md §1, §4, §15."""

from __future__ import annotations

import math

import pytest
import torch
from stats import assert_binomial_fraction, assert_mean, assert_variance, seeded

from dropouts import functional as F
from dropouts.functional.elementwise import SELU_ALPHA_PRIME


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_drops_a_binomial_fraction(p: float) -> None:
    x = torch.ones(200_000)
    y = F.dropout(x, p, generator=seeded(1))
    assert_binomial_fraction(int((y == 0).sum()), x.numel(), p)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_inverted_dropout_keeps_mean_and_has_variance_x2_p_over_keep(p: float) -> None:
    x = torch.tensor([2.0, -0.5, 3.0])
    samples = F.dropout(x.expand(100_000, 3), p, generator=seeded(2))
    assert_mean(samples, x)
    assert_variance(samples, x**2 * p / (1 - p))


def test_every_kept_value_is_x_over_keep_exactly() -> None:
    x = torch.randn(10_000, generator=seeded(3))
    y, mask = F.dropout(x, 0.3, generator=seeded(4), return_mask=True)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.7)
    values = mask.unique().tolist()
    assert len(values) == 2 and values[0] == 0.0 and values[1] == pytest.approx(1 / 0.7)
    torch.testing.assert_close(y, x * mask)


def test_original_form_scales_at_test_time_not_train_time() -> None:
    x = torch.randn(1000, generator=seeded(5)) + 3.0
    y, mask = F.dropout(x, 0.25, scale=False, generator=seeded(6), return_mask=True)
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(y[y != 0], x[y != 0])
    torch.testing.assert_close(F.dropout(x, 0.25, scale=False, training=False), 0.75 * x)
    # Same expectation in both forms.
    samples = F.dropout(x[:3].expand(80_000, 3), 0.25, scale=False, generator=seeded(7))
    assert_mean(samples, 0.75 * x[:3])


def test_dropout_edge_cases() -> None:
    x = torch.randn(4, 5, generator=seeded(8))
    assert torch.equal(F.dropout(x, 0.0, generator=seeded(9)), x)
    assert torch.equal(F.dropout(x, 0.7, training=False), x)
    zeros = F.dropout(x, 1.0)
    assert torch.equal(zeros, torch.zeros_like(x)) and not zeros.isnan().any()
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError, match="p must be in"):
            F.dropout(x, bad)


def test_same_generator_state_gives_same_mask_and_calls_differ() -> None:
    x = torch.ones(64, 64)
    first = F.dropout(x, 0.5, generator=seeded(10))
    assert torch.equal(first, F.dropout(x, 0.5, generator=seeded(10)))
    generator = seeded(10)
    assert not torch.equal(
        F.dropout(x, 0.5, generator=generator), F.dropout(x, 0.5, generator=generator)
    )


def test_gradient_is_zero_exactly_where_the_output_is_zero() -> None:
    x = torch.randn(5000, generator=seeded(11)).requires_grad_()
    y = F.dropout(x, 0.4, generator=seeded(12))
    assert isinstance(y, torch.Tensor)
    y.sum().backward()
    assert x.grad is not None
    assert torch.equal(x.grad == 0, y == 0)
    torch.testing.assert_close(x.grad[y != 0], torch.full_like(x.grad[y != 0], 1 / 0.6))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.75])
def test_gaussian_noise_is_n_1_sigma2_with_sigma2_p_over_keep(p: float) -> None:
    x = torch.tensor([2.0, -1.0])
    samples, mask = F.gaussian_dropout(
        x.expand(100_000, 2), p, generator=seeded(13), return_mask=True
    )
    assert_mean(samples, x)
    assert_variance(samples, x**2 * p / (1 - p))
    assert_mean(mask.flatten(), 1.0)
    assert_variance(mask.flatten(), p / (1 - p))
    assert not (samples == 0).any()


def test_gaussian_sigma_overrides_p_and_eval_is_identity() -> None:
    x = torch.ones(200_000)
    mask = F.gaussian_dropout(x, 0.5, sigma=0.3, generator=seeded(14))
    assert_variance(mask, 0.09)
    assert torch.equal(F.gaussian_dropout(x, 0.5, training=False), x)
    assert torch.equal(F.gaussian_dropout(x, 0.0, generator=seeded(15)), x)
    with pytest.raises(ValueError):
        F.gaussian_dropout(x, 1.0)
    with pytest.raises(ValueError):
        F.gaussian_dropout(x, 0.5, sigma=-1.0)


@pytest.mark.parametrize("p", [0.05, 0.1, 0.3])
def test_alpha_dropout_keeps_zero_mean_unit_variance(p: float) -> None:
    x = torch.randn(400_000, generator=seeded(16))
    y, kept = F.alpha_dropout(x, p, generator=seeded(17), return_mask=True)
    assert_mean(y, 0.0)
    assert_variance(y, 1.0)
    assert_binomial_fraction(int((kept == 0).sum()), x.numel(), p)
    a, b = F.alpha_dropout_affine(p)
    # Exactly two affine branches: a x + b where kept, the constant a alpha' + b where dropped.
    torch.testing.assert_close(y[kept == 1], a * x[kept == 1] + b)
    dropped = y[kept == 0]
    torch.testing.assert_close(dropped, torch.full_like(dropped, a * SELU_ALPHA_PRIME + b))


def test_alpha_dropout_constants_match_pytorch_formula() -> None:
    # ATen: a = 1 / sqrt((alpha^2 p + 1)(1 - p)), b = alpha a p, with its alpha = -alpha' > 0.
    for p in (0.05, 0.1, 0.3):
        a, b = F.alpha_dropout_affine(p)
        assert a == pytest.approx(1 / math.sqrt((SELU_ALPHA_PRIME**2 * p + 1) * (1 - p)))
        assert b == pytest.approx(-a * SELU_ALPHA_PRIME * p)


def test_alpha_dropout_edge_cases() -> None:
    x = torch.randn(100, generator=seeded(18))
    assert torch.equal(F.alpha_dropout(x, 0.3, training=False), x)
    assert torch.equal(F.alpha_dropout(x, 0.0), x)
    assert torch.equal(F.alpha_dropout(x, 1.0), torch.zeros_like(x))


def test_elementwise_methods_run_on_torch_dropout_distribution() -> None:
    # Our rand < keep draw has the distribution of torch's bernoulli_: compare zero fractions.
    x = torch.ones(300_000)
    torch.manual_seed(0)
    theirs = int((torch.nn.functional.dropout(x, 0.3) == 0).sum())
    ours = int((F.dropout(x, 0.3, generator=seeded(19)) == 0).sum())
    bound = 4 * math.sqrt(2 * 0.3 * 0.7 * x.numel())
    assert abs(theirs - ours) <= bound
