"""DropConnect (methods.md §2) and Standout (§3)."""

from __future__ import annotations

import math

import pytest
import torch
from stats import assert_binomial_fraction, assert_mean, assert_variance, seeded

from dropouts import functional as F


def _layer(d_in: int = 12, d_out: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = seeded(seed)
    return torch.randn(d_out, d_in, generator=generator), torch.randn(d_out, generator=generator)


# ---------------------------------------------------------------- dropconnect


def test_dropconnect_masks_are_drawn_per_example_on_weights_and_bias() -> None:
    weight, bias = _layer()
    x = torch.randn(64, 12, generator=seeded(1))
    _, mask = F.dropconnect_linear(x, weight, bias, 0.5, generator=seeded(2), return_mask=True)
    assert mask.shape == (64, 5, 13)  # the last column masks the bias
    assert not torch.equal(mask[0], mask[1])
    assert_binomial_fraction(int((mask == 0).sum()), mask.numel(), 0.5)


@pytest.mark.parametrize("scale", [False, True])
def test_dropconnect_pre_activation_mean_and_variance(scale: bool) -> None:
    weight, bias = _layer(seed=3)
    v = torch.randn(12, generator=seeded(4))
    p, keep = 0.4, 0.6
    samples = F.dropconnect_linear(
        v.expand(200_000, 12), weight, bias, p, scale=scale, generator=seeded(5)
    )
    factor = 1 / keep if scale else 1.0
    mean = factor * keep * (weight @ v + bias)
    variance = factor**2 * keep * (1 - keep) * ((weight**2) @ (v**2) + bias**2)
    assert_mean(samples, mean)
    assert_variance(samples, variance)
    expected_mean, expected_variance = F.dropconnect_moments(v, weight, bias, p, scale=scale)
    torch.testing.assert_close(expected_mean[0], mean)
    torch.testing.assert_close(expected_variance[0], variance)


def test_dropconnect_masks_the_bias_too() -> None:
    weight, bias = _layer(seed=6)
    out = F.dropconnect_linear(torch.zeros(50_000, 12), weight, bias, 0.3, generator=seeded(7))
    assert_binomial_fraction(int((out == 0).sum()), out.numel(), 0.3)


def test_dropconnect_eval_mean_rule() -> None:
    weight, bias = _layer(seed=8)
    v = torch.randn(3, 12, generator=seeded(9))
    torch.testing.assert_close(
        F.dropconnect_linear(v, weight, bias, 0.5, training=False), v @ weight.T + bias
    )
    original = F.dropconnect_linear(v, weight, bias, 0.5, scale=False, training=False)
    torch.testing.assert_close(original, 0.5 * (v @ weight.T + bias))


def test_gaussian_inference_with_identity_activation_is_the_mean_exactly() -> None:
    weight, bias = _layer(seed=10)
    v = torch.randn(3, 12, generator=seeded(11))
    out = F.dropconnect_linear(
        v, weight, bias, 0.5, scale=False, inference="gaussian", training=False
    )
    torch.testing.assert_close(out, 0.5 * (v @ weight.T + bias))


def test_gaussian_inference_through_relu_matches_the_rectified_gaussian_mean() -> None:
    weight, bias = _layer(seed=12)
    v = torch.randn(2, 12, generator=seeded(13))
    samples = 200_000
    out = F.dropconnect_linear(
        v,
        weight,
        bias,
        0.5,
        activation=torch.relu,
        inference="gaussian",
        samples=samples,
        training=False,
        generator=seeded(14),
    )
    mean, variance = F.dropconnect_moments(v, weight, bias, 0.5, scale=True)
    std = variance.sqrt()
    ratio = mean / std
    normal_cdf = 0.5 * torch.erfc(-ratio / math.sqrt(2))
    normal_pdf = torch.exp(-0.5 * ratio**2) / math.sqrt(2 * math.pi)
    rectified_mean = mean * normal_cdf + std * normal_pdf  # E[ReLU(u)], u ~ N(mean, std^2)
    second_moment = (mean**2 + variance) * normal_cdf + mean * std * normal_pdf
    standard_error = (second_moment - rectified_mean**2).sqrt() / math.sqrt(samples)
    assert bool(((out - rectified_mean).abs() <= 4 * standard_error + 1e-6).all())
    assert bool((out >= torch.relu(mean) - 4 * standard_error).all())  # Jensen


def test_dropconnect_edge_cases() -> None:
    weight, bias = _layer(seed=15)
    v = torch.randn(12, generator=seeded(16))
    assert F.dropconnect_linear(v, weight, bias, 0.5, generator=seeded(17)).shape == (5,)
    torch.testing.assert_close(F.dropconnect_linear(v, weight, bias, 0.0), weight @ v + bias)
    zeros = F.dropconnect_linear(v, weight, bias, 1.0)
    assert torch.equal(zeros, torch.zeros(5))
    with pytest.raises(ValueError, match="inference"):
        F.dropconnect_linear(v, weight, bias, 0.5, inference="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="d_in"):
        F.dropconnect_linear(torch.ones(7), weight, bias, 0.5)


# ---------------------------------------------------------------- standout


def test_standout_with_alpha_zero_is_standard_dropout_with_keep_sigmoid_beta() -> None:
    weight, bias = _layer(seed=18)
    x = torch.randn(40_000, 12, generator=seeded(19))
    beta = 0.8
    _, mask = F.standout_linear(
        x, weight, bias, alpha=0.0, beta=beta, generator=seeded(20), return_mask=True
    )
    keep = 1 / (1 + math.exp(-beta))
    assert_binomial_fraction(int(mask.sum()), mask.numel(), keep)


def test_standout_mask_mean_is_the_keep_probability_per_unit() -> None:
    weight, bias = _layer(seed=21)
    x = torch.randn(12, generator=seeded(22)) * 0.3
    _, mask = F.standout_linear(
        x.expand(100_000, 12),
        weight,
        bias,
        alpha=1.0,
        beta=-0.5,
        generator=seeded(23),
        return_mask=True,
    )
    pi = F.standout_keep_probability(x, weight @ x + bias, alpha=1.0, beta=-0.5)
    assert_mean(mask, pi)


def test_standout_keeps_strongly_driven_units_more_often() -> None:
    pre = torch.linspace(-3, 3, 13)
    pi = F.standout_keep_probability(torch.zeros(1, 4), pre.unsqueeze(0), alpha=1.5, beta=0.0)
    assert bool((pi.diff() > 0).all())  # KEEP probability grows with the pre-activation
    assert bool(((pi > 0) & (pi < 1)).all())


def test_standout_tied_form_adds_beta_times_the_input_sum() -> None:
    x = torch.tensor([[0.5, 1.0, -0.25]])
    pre = torch.tensor([[0.2]])
    pi = F.standout_keep_probability(x, pre, alpha=2.0, beta=0.3, form="tied")
    assert float(pi) == pytest.approx(1 / (1 + math.exp(-(2.0 * 0.2 + 0.3 * (1 + 1.25)))))


def test_standout_eval_is_the_training_expectation() -> None:
    weight, bias = _layer(seed=24)
    x = torch.randn(12, generator=seeded(25)) * 0.5
    train = F.standout_linear(
        x.expand(100_000, 12),
        weight,
        bias,
        alpha=1.0,
        beta=0.0,
        activation=torch.relu,
        generator=seeded(26),
    )
    evaluated, pi = F.standout_linear(
        x,
        weight,
        bias,
        alpha=1.0,
        beta=0.0,
        activation=torch.relu,
        training=False,
        return_mask=True,
    )
    torch.testing.assert_close(evaluated, pi * torch.relu(weight @ x + bias))
    assert_mean(train, evaluated)


def test_no_gradient_flows_through_the_keep_probability() -> None:
    weight, bias = _layer(seed=27)
    weight.requires_grad_()
    x = torch.randn(4, 12, generator=seeded(28))
    out, mask = F.standout_linear(
        x, weight, bias, alpha=1.0, beta=0.0, generator=seeded(29), return_mask=True
    )
    out.sum().backward()
    assert weight.grad is not None
    torch.testing.assert_close(weight.grad, mask.T @ x)  # d(m * (W x + b)) / dW with m constant
