"""Element-wise dropouts: Bernoulli (standard), Gaussian and Alpha dropout.

Conventions (``methods.md`` §0): ``p`` is the DROP probability, ``keep = 1 - p``. With
``return_mask=True`` each function returns ``(output, mask)`` where ``mask`` is the
multiplicative factor actually applied, broadcastable to the input.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor

from ._common import (
    MaskedResult,
    check_probability,
    identity_mask,
    keep_mask,
    random_dtype,
    with_mask,
)

# SELU's negative saturation value -lambda * alpha (Klambauer et al. 2017, eq. 8).
SELU_ALPHA_PRIME = -1.7580993408473766


def bernoulli_dropout(
    x: Tensor,
    p: float,
    mask_shape: list[int] | tuple[int, ...] | torch.Size,
    *,
    scale: bool,
    training: bool,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """Bernoulli dropout with a mask of ``mask_shape`` broadcast over ``x``; returns ``(y, mask)``.

    Shared by standard dropout (mask shaped like ``x``), spatial dropout (one draw per channel)
    and drop path (one draw per sample). ``scale=True`` is inverted dropout (``/ keep`` at train
    time, identity at eval); ``scale=False`` is the original form (identity at train time,
    ``* keep`` at eval).
    """
    p = check_probability(p)
    keep = 1.0 - p
    if not training:
        return (x, identity_mask(x)) if scale else (x * keep, identity_mask(x, keep))
    if p == 0.0:
        return x, identity_mask(x)
    if p == 1.0:
        # Multiply by zero instead of dividing by keep = 0: all zeros, never NaN (as ATen does).
        mask = torch.zeros(mask_shape, dtype=random_dtype(x), device=x.device)
        return x.mul(mask), mask
    mask = keep_mask(mask_shape, keep, x, generator)
    if scale:
        mask.mul_(scale_factor(1.0 / keep, mask.dtype, mask.device))
    return x.mul(mask), mask


@lru_cache(maxsize=64)
def scale_factor(value: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``value`` as a 0-d tensor, made once: multiplying a small mask by it costs a third of
    multiplying by a Python float (no scalar wrapping per call), which matters for the
    microsecond-sized channel masks of spatial dropout and drop path. Never written to."""
    return torch.scalar_tensor(value, dtype=dtype, device=device)


def dropout(
    x: Tensor,
    p: float = 0.5,
    *,
    scale: bool = True,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """Standard dropout: zero each element independently with probability ``p``.

    Hinton et al. 2012, "Improving neural networks by preventing co-adaptation of feature
    detectors"; Srivastava et al. 2014, "Dropout: A Simple Way to Prevent Neural Networks from
    Overfitting", JMLR 15.

    ``scale=True`` (inverted dropout, as torch/keras): ``y = m * x / (1 - p)`` in training and
    ``y = x`` in eval. ``scale=False`` (the paper's form): ``y = m * x`` in training and
    ``y = (1 - p) * x`` in eval. Both have ``E_train[y] = y_eval``.
    """
    out, mask = bernoulli_dropout(
        x, p, x.shape, scale=scale, training=training, generator=generator
    )
    return with_mask(out, mask, return_mask)


def gaussian_std(p: float) -> float:
    """Noise std matching Bernoulli dropout's variance: ``sqrt(p / (1 - p))`` (Srivastava §10)."""
    p = check_probability(p, allow_one=False)
    return math.sqrt(p / (1.0 - p))


def gaussian_dropout(
    x: Tensor,
    p: float = 0.5,
    *,
    sigma: float | None = None,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """Gaussian (multiplicative) dropout: ``y = x * xi`` with ``xi ~ N(1, sigma^2)`` element-wise.

    Srivastava et al. 2014, §10 "Multiplicative Gaussian Noise"; Wang & Manning 2013, "Fast
    dropout training"; Kingma, Salimans & Welling 2015, "Variational Dropout and the Local
    Reparameterization Trick".

    ``sigma`` is the standard deviation of the noise; when it is None it is
    ``sqrt(p / (1 - p))``, so that ``y`` has the same mean and variance as inverted Bernoulli
    dropout with drop probability ``p`` (not the ``p(1 - p)`` of some write-ups). No rescaling is
    needed (the noise has mean 1) and eval is the identity. No unit is ever exactly zero.
    """
    if sigma is None:
        sigma = gaussian_std(p)
    else:
        check_probability(p)  # ignored when sigma is given, but never nonsense
    if not (sigma >= 0.0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    if not training or sigma == 0.0:
        return with_mask(x, identity_mask(x), return_mask)
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=random_dtype(x))
    mask = noise.mul_(sigma).add_(1.0)
    return with_mask(x.mul(mask), mask, return_mask)


def alpha_dropout_affine(p: float) -> tuple[float, float]:
    """The affine correction ``(a, b)`` of Alpha dropout for drop probability ``p`` < 1.

    ``a = ((1 - p)(1 + p * alpha'^2))^(-1/2)`` and ``b = -a * alpha' * p`` (Klambauer et al. 2017,
    §"New Dropout Technique"), so that zero-mean unit-variance inputs keep mean 0, variance 1.
    """
    keep = 1.0 - p
    a = 1.0 / math.sqrt(keep * (1.0 + p * SELU_ALPHA_PRIME**2))
    return a, -a * SELU_ALPHA_PRIME * p


def alpha_dropout(
    x: Tensor,
    p: float = 0.5,
    *,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """Alpha dropout: dropped units are set to SELU's saturation value ``alpha'``, then an affine
    map restores the mean and variance.

    Klambauer, Unterthiner, Mayr & Hochreiter 2017, "Self-Normalizing Neural Networks", NeurIPS.

    ``y = a * (x * d + alpha' * (1 - d)) + b`` with ``d ~ Bernoulli(1 - p)``. For standard
    normal inputs ``y`` has mean 0 and variance 1. Eval is the identity.

    Alpha dropout is affine, not multiplicative, so the returned mask is the keep indicator
    ``d`` (1 kept, 0 dropped); the output is ``a * x`` where ``d = 1`` and the constant
    ``a * alpha' + b`` where ``d = 0``. ``p = 1`` gives zeros, the limit of the formula.
    """
    p = check_probability(p)
    if not training or p == 0.0:
        return with_mask(x, identity_mask(x), return_mask)
    if p == 1.0:
        zeros = torch.zeros(x.shape, dtype=random_dtype(x), device=x.device)
        return with_mask(x.mul(zeros), zeros, return_mask)
    kept = keep_mask(x.shape, 1.0 - p, x, generator)
    a, b = alpha_dropout_affine(p)
    dropped_value = a * SELU_ALPHA_PRIME + b
    out = torch.where(kept.bool(), x * a + b, dropped_value)
    return with_mask(out, kept, return_mask)
