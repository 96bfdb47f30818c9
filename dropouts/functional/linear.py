"""Dropouts inside a dense layer: DropConnect (on the weights) and Standout (adaptive)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from ._common import (
    MaskedResult,
    check_positive_int,
    check_probability,
    keep_mask,
    random_dtype,
    uniform,
    with_mask,
)

Activation = Callable[[Tensor], Tensor]


def _as_batch(x: Tensor, in_features: int) -> Tensor:
    """``(d_in,)`` or ``(B, d_in)`` input as ``(B, d_in)``."""
    if x.dim() not in (1, 2) or x.shape[-1] != in_features:
        raise ValueError(
            f"x must be (d_in,) or (B, d_in) with d_in = {in_features}, got {tuple(x.shape)}"
        )
    return x if x.dim() == 2 else x.unsqueeze(0)


def _apply(activation: Activation | None, pre: Tensor) -> Tensor:
    return pre if activation is None else activation(pre)


def _augmented_weight(weight: Tensor, bias: Tensor | None) -> Tensor:
    """``[W | b]``: the bias is the weight of a constant input 1 (Wan et al. mask it too)."""
    return weight if bias is None else torch.cat([weight, bias.unsqueeze(1)], dim=1)


def _augmented_input(x: Tensor, bias: Tensor | None) -> Tensor:
    return x if bias is None else torch.cat([x, x.new_ones(x.shape[0], 1)], dim=1)


def dropconnect_moments(
    x: Tensor, weight: Tensor, bias: Tensor | None, p: float, *, scale: bool
) -> tuple[Tensor, Tensor]:
    """Mean and variance of DropConnect's pre-activation ``u = (M * W) v + m_b * b``.

    With keep ``r = 1 - p`` and the mask factor ``s`` (``1 / r`` when ``scale`` else 1):
    ``E[u] = s r (W v + b)`` and ``Var[u] = s^2 r (1 - r) ((W * W)(v * v) + b^2)``, per unit
    and independent across units (Wan et al. 2013, §3 "Inference", eq. 8).
    """
    keep = 1.0 - p
    factor = 1.0 / keep if scale and keep > 0.0 else 1.0
    inputs = _augmented_input(_as_batch(x, weight.shape[1]), bias)
    weights = _augmented_weight(weight, bias)
    mean = factor * keep * (inputs @ weights.T)
    variance = factor**2 * keep * (1.0 - keep) * ((inputs * inputs) @ (weights * weights).T)
    return mean, variance


def dropconnect_linear(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    p: float = 0.5,
    *,
    scale: bool = True,
    activation: Activation | None = None,
    inference: Literal["mean", "gaussian"] = "mean",
    samples: int = 1000,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """DropConnect: a dense layer whose individual WEIGHTS (and biases) are dropped.

    Wan, Zeiler, Zhang, LeCun & Fergus 2013, "Regularization of Neural Networks using
    DropConnect", ICML. Their ``p`` is the keep probability; here ``p`` is the drop
    probability as everywhere in this library.

    Training: ``activation((M * W) v + m_b * b)`` with a fresh mask ``M ~ Bernoulli(1 - p)`` of
    shape ``(d_out, d_in)`` and ``m_b`` of shape ``(d_out,)`` for EACH example (not one mask per
    mini-batch). ``scale=True`` divides the mask by ``1 - p`` (modern inverted form);
    ``scale=False`` is the paper's (no train-time scaling).

    Eval: ``inference="mean"`` is the deterministic mean rule ``activation(E[u])``;
    ``inference="gaussian"`` is the paper's Algorithm 2: moment-match ``u`` with a Gaussian
    (:func:`dropconnect_moments`), draw ``samples`` values per unit and average
    ``activation(u)``. With no activation the Gaussian mean is returned exactly.

    ``x`` is ``(d_in,)`` or ``(B, d_in)``; ``weight`` is ``(d_out, d_in)`` as in
    ``torch.nn.Linear``. The returned mask is ``(B, d_out, d_in + 1)``: the factor applied to
    ``[W | b]`` (the last column is the bias mask; ``(B, d_out, d_in)`` without a bias). In eval
    it is the expected factor ``E[M]`` (1 inverted, ``1 - p`` in the paper's form), which the mean
    rule applies; the Gaussian rule through a nonlinearity applies no single factor. Eval is
    ``E_train`` also at ``p = 1``: all zeros, as every training output is.
    """
    p = check_probability(p)
    batch = _as_batch(x, weight.shape[1])
    if inference not in ("mean", "gaussian"):
        raise ValueError(f"inference must be 'mean' or 'gaussian', got {inference!r}")
    samples = check_positive_int(samples, "samples")
    if not training:
        out = _dropconnect_inference(
            batch, weight, bias, p, scale, activation, inference, samples, generator
        )
        # The factor the mean rule applies to [W | b]: E[M] = s * r, i.e. 1 when inverted, 1 - p
        # in the paper's form (and 0 at p = 1, the training output's expectation).
        keep = 1.0 - p
        expected = (1.0 if keep > 0.0 else 0.0) if scale else keep
        mask = batch.new_full((1, *_augmented_weight(weight, bias).shape), expected)
        return with_mask(out if x.dim() == 2 else out.squeeze(0), mask, return_mask)
    weights = _augmented_weight(weight, bias)
    mask_shape = (batch.shape[0], *weights.shape)
    keep = 1.0 - p
    mask = keep_mask(mask_shape, keep, batch, generator)
    if scale and keep > 0.0:
        mask.mul_(1.0 / keep)
    inputs = _augmented_input(batch, bias)
    pre = torch.bmm(mask * weights, inputs.unsqueeze(2)).squeeze(2)
    out = _apply(activation, pre)
    return with_mask(out if x.dim() == 2 else out.squeeze(0), mask, return_mask)


def _dropconnect_inference(
    batch: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    p: float,
    scale: bool,
    activation: Activation | None,
    inference: str,
    samples: int,
    generator: torch.Generator | None,
) -> Tensor:
    """Eval output: the mean rule, or Gaussian moment matching sampled through the activation."""
    mean, variance = dropconnect_moments(batch, weight, bias, p, scale=scale)
    if inference == "mean" or activation is None:
        return _apply(activation, mean)
    noise = torch.randn(
        (samples, *mean.shape), generator=generator, device=mean.device, dtype=random_dtype(mean)
    )
    draws = mean + variance.sqrt() * noise
    return activation(draws).mean(dim=0)


def standout_keep_probability(
    x: Tensor,
    pre_activation: Tensor,
    *,
    alpha: float,
    beta: float,
    form: Literal["additive", "tied"] = "additive",
) -> Tensor:
    """Standout's probability of KEEPING each unit, ``(B, d_out)``.

    ``form="additive"``: ``sigmoid(alpha * (W x + b) + beta)``: the form of Thevenot's article,
    where ``alpha = 0`` gives standard dropout with keep ``sigmoid(beta)``.
    ``form="tied"``: Ba & Frey's tied standout network ``pi = alpha * W + beta`` (their
    Algorithm 2, ``a_0 = 1`` carrying the bias):
    ``sigmoid(alpha * (W x + b) + beta * (1 + sum_i x_i))``.
    """
    if form == "additive":
        logits = alpha * pre_activation + beta
    elif form == "tied":
        logits = alpha * pre_activation + beta * (1.0 + x.sum(dim=-1, keepdim=True))
    else:
        raise ValueError(f"form must be 'additive' or 'tied', got {form!r}")
    return torch.sigmoid(logits)


def standout_linear(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    *,
    alpha: float = 1.0,
    beta: float = 0.0,
    form: Literal["additive", "tied"] = "additive",
    activation: Activation | None = None,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """Standout (adaptive dropout): each unit's keep probability depends on its own input.

    Ba & Frey 2013, "Adaptive dropout for training deep neural networks", NeurIPS.

    The probability ``pi`` comes from the layer's own weights (:func:`standout_keep_probability`;
    ``form="additive"`` by default). The sigmoid gives the probability to KEEP the unit, as in
    the paper (``P(m_j = 1)``); Thevenot's article reads it as the probability to drop, the
    other way round. With ``alpha > 0`` strongly driven units are kept more often.

    Training: ``m * activation(W x + b)`` with ``m ~ Bernoulli(pi)``, no rescaling (the
    paper's form); no gradient flows through ``pi`` or ``m``. Eval: ``pi * activation(W x + b)``,
    the expectation. The returned mask is ``m`` in training and ``pi`` in eval.
    """
    batch = _as_batch(x, weight.shape[1])
    pre = F.linear(batch, weight, bias)
    with torch.no_grad():
        keep_probability = standout_keep_probability(batch, pre, alpha=alpha, beta=beta, form=form)
    mask = (
        uniform(keep_probability.shape, pre, generator).lt_(keep_probability).to(pre.dtype)
        if training
        else keep_probability
    )
    out = mask * _apply(activation, pre)
    return with_mask(
        out if x.dim() == 2 else out.squeeze(0),
        mask if x.dim() == 2 else mask.squeeze(0),
        return_mask,
    )
