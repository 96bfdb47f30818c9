"""Monte Carlo dropout: predictive mean and uncertainty from stochastic forward passes.

Gal & Ghahramani, "Dropout as a Bayesian Approximation: Representing Model Uncertainty in Deep
Learning", ICML 2016. A network trained with dropout is an approximate Bayesian model; keeping
dropout on at test time and averaging ``T`` stochastic passes estimates the predictive mean,
and their spread (plus the observation noise ``τ⁻¹`` for regression) the predictive variance.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.modules.dropout import _DropoutNd

from dropouts.functional._common import check_positive_int
from dropouts.modules._base import DropoutModule

__all__ = ["MCPrediction", "enable_dropout", "is_dropout_module", "mc_predict"]

# Seeds for the per-module generators under ``mc_predict(seed=...)``: module i gets
# ``(seed + _GENERATOR_SEED_STRIDE * (i + 1)) mod 2**64``, distinct from the global seed and from
# each other.
_GENERATOR_SEED_STRIDE = 1_000_003


@dataclass(frozen=True)
class MCPrediction:
    """The result of ``mc_predict``; every statistic is taken over the leading ``T`` axis.

    * ``samples``: ``(T, *out)``, the raw outputs (regression) or softmax probabilities
      (classification) of the T passes.
    * ``mean``: ``(*out)``, the MC estimate of ``E[y*]`` (the averaged probabilities).
    * ``variance``: ``(*out)``, ``(1/T)·Σ ŷ_t² − mean²`` (+ ``τ⁻¹`` when ``tau`` is given).
    * ``std``: ``sqrt(variance)``.
    * ``predictive_entropy``: classification only, ``H[mean]`` over the class axis.
    * ``expected_entropy``: classification only, ``(1/T)·Σ H[p_t]`` (aleatoric part).
    * ``mutual_information``: classification only, ``predictive − expected entropy`` ≥ 0
      (epistemic part, the BALD score).
    """

    samples: Tensor
    mean: Tensor
    variance: Tensor
    std: Tensor
    predictive_entropy: Tensor | None = None
    expected_entropy: Tensor | None = None
    mutual_information: Tensor | None = None


def is_dropout_module(module: nn.Module) -> bool:
    """True for the library's ``DropoutModule``s and torch's dropouts (incl. ``AlphaDropout``)."""
    return isinstance(module, DropoutModule | _DropoutNd)


@contextmanager
def enable_dropout(model: nn.Module) -> Iterator[list[nn.Module]]:
    """Put ``model`` in eval mode except its dropout modules, which go to training mode.

    Yields the dropout modules that were switched on. On exit (also on an exception) every
    module gets back its own original ``training`` flag. Calling ``model.train()`` instead
    would also put BatchNorm in training mode, the classic MC-dropout pitfall.
    """
    original_flags = [(module, module.training) for module in model.modules()]
    dropout_modules = [module for module in model.modules() if is_dropout_module(module)]
    try:
        for module, _ in original_flags:
            module.training = is_dropout_module(module)
        yield dropout_modules
    finally:
        for module, flag in original_flags:
            module.training = flag


@contextmanager
def _fresh_generators(modules: list[nn.Module], seed: int) -> Iterator[None]:
    """Temporarily give each ``DropoutModule`` owning a generator a fresh one seeded by ``seed``.

    The caller's generators are put back, untouched, on exit.
    """
    saved: list[tuple[DropoutModule, torch.Generator]] = []
    try:
        for index, module in enumerate(modules):
            if isinstance(module, DropoutModule) and module.generator is not None:
                saved.append((module, module.generator))
                fresh = torch.Generator(device=module.generator.device)
                fresh.manual_seed((seed + _GENERATOR_SEED_STRIDE * (index + 1)) % 2**64)
                module.generator = fresh
        yield
    finally:
        for module, generator in saved:
            module.generator = generator


@contextmanager
def _reproducible(modules: list[nn.Module], seed: int | None) -> Iterator[None]:
    """With a seed: seed the global RNG inside ``fork_rng`` and give ``modules`` fresh generators.

    Without one: do nothing (the global RNG and the modules' own generators are used).
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(), _fresh_generators(modules, seed):
        torch.manual_seed(seed)
        yield


def _entropy(probabilities: Tensor, class_dim: int) -> Tensor:
    """Shannon entropy (nats) over ``class_dim``, with ``0·log 0 = 0``."""
    plogp: Tensor = torch.special.xlogy(probabilities, probabilities)
    return -plogp.sum(dim=class_dim)


def _mean_and_variance(samples: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and (1/T) variance over axis 0, shifted by the first sample for accuracy.

    When all passes are identical the shift makes the mean exactly that pass and the variance
    exactly 0.
    """
    deviations = samples - samples[0]
    mean_deviation = deviations.mean(dim=0)
    variance = (deviations * deviations).mean(dim=0) - mean_deviation * mean_deviation
    return samples[0] + mean_deviation, variance.clamp(min=0.0)


def _run_passes(model: nn.Module, x: Tensor, passes: int) -> Tensor:
    """Stack ``passes`` forward passes of ``model`` on ``x`` along a new leading axis."""
    outputs = []
    for _ in range(passes):
        output = model(x)
        if not isinstance(output, Tensor):
            raise TypeError(f"mc_predict needs a model returning a Tensor, got {type(output)}")
        outputs.append(output)
    return torch.stack(outputs)


def _classification_prediction(logits: Tensor, class_dim: int) -> MCPrediction:
    """Average softmax probabilities (never logits) and split the predictive entropy."""
    sample_dim = class_dim if class_dim < 0 else class_dim + 1
    probabilities = torch.softmax(logits, dim=sample_dim)
    mean, variance = _mean_and_variance(probabilities)
    predictive_entropy = _entropy(mean, class_dim)
    expected_entropy = _entropy(probabilities, sample_dim).mean(dim=0)
    return MCPrediction(
        samples=probabilities,
        mean=mean,
        variance=variance,
        std=variance.sqrt(),
        predictive_entropy=predictive_entropy,
        expected_entropy=expected_entropy,
        mutual_information=(predictive_entropy - expected_entropy).clamp(min=0.0),
    )


def _regression_prediction(outputs: Tensor, tau: float | None) -> MCPrediction:
    """Mean and variance ``τ⁻¹ + (1/T)·Σ ŷ_t² − mean²`` (Gal & Ghahramani 2016)."""
    mean, variance = _mean_and_variance(outputs)
    if tau is not None:
        variance = variance + 1.0 / tau
    return MCPrediction(samples=outputs, mean=mean, variance=variance, std=variance.sqrt())


def _check_tau(tau: float | None, classifier: bool) -> float | None:
    if tau is None:
        return None
    if classifier:
        raise ValueError("tau (the observation precision) only applies to regression")
    value = float(tau)
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"tau must be a finite number > 0, got {tau!r}")
    return value


def mc_predict(
    model: nn.Module,
    x: Tensor,
    *,
    T: int,
    seed: int | None = None,
    classifier: bool = False,
    tau: float | None = None,
    class_dim: int = -1,
) -> MCPrediction:
    """Monte Carlo dropout prediction (Gal & Ghahramani, ICML 2016).

    Runs ``T`` forward passes of ``model`` on ``x`` under ``torch.no_grad`` with only the dropout
    modules (``is_dropout_module``) in training mode, so each pass draws fresh masks while
    BatchNorm and everything else use their eval behaviour. Every module's ``training`` flag is
    restored afterwards, also when a pass raises.

    Args:
        model: the network; it must return a Tensor.
        x: the input batch.
        T: number of stochastic passes (≥ 1; 10–100 in practice).
        seed: when given, the result is a function of ``(model, x, T, seed)`` alone: torch's
            global RNG is seeded inside ``torch.random.fork_rng()`` (the caller's RNG state is
            left untouched), and every dropout module owning a ``generator`` temporarily gets a
            fresh generator seeded from ``seed`` (its own is put back unchanged). When ``None``
            the global RNG and the modules' own generators are used and advanced.
        classifier: when True the outputs are logits; they are turned into softmax
            probabilities over ``class_dim`` before averaging, and the entropy split
            (predictive / expected entropy, mutual information) is reported.
        tau: regression only: the model precision ``τ``; ``τ⁻¹`` is added to the variance.
            Gal's ``τ = r·l²/(2Nλ)`` with ``r`` the KEEP probability.
        class_dim: the class axis of the model output, for ``classifier=True``.

    Returns:
        An ``MCPrediction``; ``samples`` has shape ``(T, *output_shape)``.
    """
    passes = check_positive_int(T, "T")
    precision = _check_tau(tau, classifier)
    with (
        torch.no_grad(),
        enable_dropout(model) as dropout_modules,
        _reproducible(dropout_modules, seed),
    ):
        outputs = _run_passes(model, x, passes)
    if classifier:
        return _classification_prediction(outputs, class_dim)
    return _regression_prediction(outputs, precision)
