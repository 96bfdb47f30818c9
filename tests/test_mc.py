"""Tests of ``dropouts.mc``: Monte Carlo dropout (Gal & Ghahramani, ICML 2016).

The models use plain ``torch.nn.Dropout``; a minimal ``DropoutModule`` subclass defined here
stands in for the library's own modules.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

from dropouts.mc import MCPrediction, enable_dropout, is_dropout_module, mc_predict
from dropouts.modules._base import DropoutModule

Z_BOUND = 4.0  # standard errors allowed in a Monte Carlo comparison


class _SeededDropout(DropoutModule):
    """Inverted dropout drawing its mask from ``self.generator`` (a test stand-in)."""

    def __init__(self, p: float, generator: torch.Generator | None = None) -> None:
        super().__init__(generator=generator)
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        keep = torch.rand(x.shape, generator=self.generator) >= self.p
        return x * keep / (1.0 - self.p)


class _Explodes(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        raise RuntimeError("boom")


def _mlp(p: float, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(p), nn.Linear(32, 3))


def _batchnorm_net(p: float) -> nn.Sequential:
    """Linear → BatchNorm → ReLU → Dropout → Linear, with non-trivial running statistics."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(p), nn.Linear(16, 2)
    )
    net.train()
    with torch.no_grad():
        for _ in range(5):
            net(torch.randn(64, 8) * 3.0 + 1.0)
    return net


def _training_flags(model: nn.Module) -> list[bool]:
    return [module.training for module in model.modules()]


def test_p_zero_passes_are_identical_with_zero_variance() -> None:
    model = _mlp(0.0).eval()
    x = torch.randn(5, 8)
    prediction = mc_predict(model, x, T=20)
    assert prediction.samples.shape == (20, 5, 3)
    assert all(torch.equal(sample, prediction.samples[0]) for sample in prediction.samples)
    assert torch.equal(prediction.variance, torch.zeros(5, 3))
    assert torch.equal(prediction.std, torch.zeros(5, 3))
    with torch.no_grad():
        assert torch.equal(prediction.mean, model(x))


def test_p_zero_variance_is_exactly_inverse_tau() -> None:
    tau = 4.0
    prediction = mc_predict(_mlp(0.0), torch.randn(5, 8), T=10, tau=tau)
    assert torch.equal(prediction.variance, torch.full((5, 3), 1.0 / tau))
    assert torch.equal(prediction.std, torch.full((5, 3), math.sqrt(1.0 / tau)))


def test_positive_p_gives_fresh_masks_and_positive_variance() -> None:
    torch.manual_seed(1)
    prediction = mc_predict(_mlp(0.5), torch.randn(5, 8), T=30)
    assert not torch.equal(prediction.samples[0], prediction.samples[1])
    assert torch.all(prediction.variance > 0)
    with_tau = mc_predict(_mlp(0.5), torch.randn(5, 8), T=30, tau=2.0)
    assert torch.all(with_tau.variance > 0.5)  # the sample variance is ≥ τ⁻¹


def test_alpha_dropout_is_switched_on_too() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.SELU(), nn.AlphaDropout(0.3), nn.Linear(16, 2))
    prediction = mc_predict(model.eval(), torch.randn(4, 8), T=10)
    assert torch.all(prediction.variance > 0)
    assert is_dropout_module(nn.FeatureAlphaDropout(0.2)) and is_dropout_module(nn.Dropout2d())
    assert not is_dropout_module(nn.BatchNorm1d(3))


def test_batchnorm_stays_in_eval_mode() -> None:
    net = _batchnorm_net(0.0)
    net.train()  # even a model left in training mode must not update or use batch statistics
    batchnorm = net[1]
    assert isinstance(batchnorm, nn.BatchNorm1d)
    running_mean = batchnorm.running_mean.clone()  # type: ignore[union-attr]
    running_var = batchnorm.running_var.clone()  # type: ignore[union-attr]
    batches_tracked = batchnorm.num_batches_tracked.clone()  # type: ignore[union-attr]
    x = torch.randn(16, 8)
    prediction = mc_predict(net, x, T=5)
    assert torch.equal(batchnorm.running_mean, running_mean)
    assert torch.equal(batchnorm.running_var, running_var)
    assert torch.equal(batchnorm.num_batches_tracked, batches_tracked)
    net.eval()
    with torch.no_grad():
        eval_output = net(x)  # uses the running statistics
    torch.testing.assert_close(prediction.mean, eval_output, rtol=0, atol=0)


def test_training_flags_are_restored() -> None:
    net = _batchnorm_net(0.3)
    net.eval()
    net[1].train()
    net[3].eval()
    before = _training_flags(net)
    mc_predict(net, torch.randn(4, 8), T=3)
    assert _training_flags(net) == before
    net.train()
    mc_predict(net, torch.randn(4, 8), T=3)
    assert all(_training_flags(net))


def test_training_flags_are_restored_after_an_exception() -> None:
    net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), _Explodes())
    net.eval()
    net[2].eval()
    net[1].train()
    before = _training_flags(net)
    with pytest.raises(RuntimeError, match="boom"):
        mc_predict(net, torch.randn(3, 4), T=2)
    assert _training_flags(net) == before


def test_enable_dropout_switches_only_dropout_modules() -> None:
    net = _batchnorm_net(0.2).train()
    with enable_dropout(net) as switched:
        assert switched == [net[3]]
        assert [module.training for module in net] == [False, False, False, True, False]
        assert net.training is False
    assert all(_training_flags(net))


def test_mc_mean_converges_to_eval_output_when_linear_after_dropout() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 24), nn.Tanh(), nn.Dropout(0.4), nn.Linear(24, 3))
    x = torch.randn(4, 6)
    passes = 4000
    prediction = mc_predict(model, x, T=passes, seed=3)
    with torch.no_grad():
        eval_output = model.eval()(x)
    standard_error = torch.sqrt(prediction.variance / (passes - 1))
    assert torch.all((prediction.mean - eval_output).abs() <= Z_BOUND * standard_error)


def test_classifier_averages_probabilities_and_splits_entropy() -> None:
    torch.manual_seed(2)
    model = _mlp(0.5)
    x = torch.randn(6, 8) * 3.0
    prediction = mc_predict(model, x, T=50, classifier=True, seed=0)
    assert prediction.samples.shape == (50, 6, 3)
    torch.testing.assert_close(prediction.samples.sum(-1), torch.ones(50, 6))
    torch.testing.assert_close(prediction.mean.sum(-1), torch.ones(6))
    torch.testing.assert_close(prediction.mean, prediction.samples.mean(0))
    assert prediction.predictive_entropy is not None
    assert prediction.expected_entropy is not None
    assert prediction.mutual_information is not None
    assert torch.all(prediction.mutual_information >= 0)
    assert torch.all(prediction.predictive_entropy >= prediction.expected_entropy - 1e-6)
    torch.testing.assert_close(
        prediction.mutual_information,
        prediction.predictive_entropy - prediction.expected_entropy,
    )
    assert torch.all(prediction.predictive_entropy <= math.log(3) + 1e-6)
    # Same masks (same seed), but averaging the logits first gives a different answer.
    averaged_logits = torch.softmax(mc_predict(model, x, T=50, seed=0).mean, dim=-1)
    assert not torch.allclose(averaged_logits, prediction.mean, atol=1e-3)


def test_classifier_with_p_zero_has_no_mutual_information() -> None:
    model = _mlp(0.0)
    prediction = mc_predict(model, torch.randn(3, 8), T=5, classifier=True)
    assert prediction.mutual_information is not None
    assert torch.equal(prediction.mutual_information, torch.zeros(3))
    torch.testing.assert_close(prediction.predictive_entropy, prediction.expected_entropy)


def test_classifier_class_dim() -> None:
    model = nn.Sequential(nn.Conv1d(2, 4, 1), nn.Dropout(0.3))
    prediction = mc_predict(model, torch.randn(3, 2, 5), T=6, classifier=True, class_dim=1)
    torch.testing.assert_close(prediction.mean.sum(1), torch.ones(3, 5))
    assert prediction.predictive_entropy is not None
    assert prediction.predictive_entropy.shape == (3, 5)


def test_seed_is_reproducible_and_leaves_global_rng_alone() -> None:
    model = _mlp(0.5)
    x = torch.randn(5, 8)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = mc_predict(model, x, T=10, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    second = mc_predict(model, x, T=10, seed=7)
    other = mc_predict(model, x, T=10, seed=8)
    assert torch.equal(first.samples, second.samples)
    assert not torch.equal(first.samples, other.samples)
    assert torch.equal(torch.get_rng_state(), state)


def test_seed_also_covers_modules_with_their_own_generator() -> None:
    own = torch.Generator().manual_seed(99)
    model = nn.Sequential(nn.Linear(8, 16), _SeededDropout(0.5, own), nn.Linear(16, 2))
    x = torch.randn(3, 8)
    generator_state = own.get_state()
    first = mc_predict(model, x, T=8, seed=1)
    second = mc_predict(model, x, T=8, seed=1)
    assert torch.equal(first.samples, second.samples)
    assert not torch.equal(first.samples[0], first.samples[1])
    assert torch.equal(own.get_state(), generator_state)  # the module's generator is untouched
    assert model[1].generator is own
    unseeded = mc_predict(model, x, T=2)
    assert not torch.equal(own.get_state(), generator_state)  # without a seed it is used
    assert not torch.equal(unseeded.samples[0], unseeded.samples[1])


def test_prediction_is_frozen_and_arguments_are_checked() -> None:
    prediction = mc_predict(_mlp(0.1), torch.randn(2, 8), T=1)
    assert isinstance(prediction, MCPrediction)
    assert torch.equal(prediction.variance, torch.zeros(2, 3))
    with pytest.raises(AttributeError):
        prediction.mean = torch.zeros(1)  # type: ignore[misc]
    with pytest.raises(ValueError, match="T"):
        mc_predict(_mlp(0.1), torch.randn(2, 8), T=0)
    with pytest.raises(ValueError, match="tau"):
        mc_predict(_mlp(0.1), torch.randn(2, 8), T=2, tau=0.0)
    with pytest.raises(ValueError, match="regression"):
        mc_predict(_mlp(0.1), torch.randn(2, 8), T=2, tau=1.0, classifier=True)


def test_runs_without_gradients() -> None:
    model = _mlp(0.3)
    prediction = mc_predict(model, torch.randn(2, 8, requires_grad=True), T=3)
    assert not prediction.samples.requires_grad
