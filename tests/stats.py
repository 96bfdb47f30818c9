"""Statistical assertions with bounds derived from the sampling distribution.

Every bound is ``z`` standard errors (z = 4 by default: a false alarm about once in 16,000
runs for a normal statistic); the tests run on seeded generators, so they are reproducible.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

Z = 4.0


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def assert_binomial_fraction(hits: int | float, trials: int, prob: float, z: float = Z) -> None:
    """``hits / trials`` is within ``z * sqrt(prob (1 - prob) / trials)`` of ``prob``."""
    fraction = float(hits) / trials
    bound = z * math.sqrt(prob * (1.0 - prob) / trials)
    assert abs(fraction - prob) <= bound, f"fraction {fraction:.5f} vs {prob:.5f} +- {bound:.5f}"


def assert_mean(samples: Tensor, expected: Tensor | float, z: float = Z, dim: int = 0) -> None:
    """The sample mean along ``dim`` is within ``z`` standard errors of ``expected``."""
    samples = samples.double()
    n = samples.shape[dim]
    mean = samples.mean(dim)
    standard_error = samples.std(dim) / math.sqrt(n)
    expected_t = torch.as_tensor(expected, dtype=torch.float64).expand_as(mean)
    gap = (mean - expected_t).abs()
    tolerance = z * standard_error + 1e-9
    assert bool((gap <= tolerance).all()), (
        f"max gap {float((gap - tolerance).max()):.3g} over bound"
    )


def assert_variance(samples: Tensor, expected: Tensor | float, z: float = Z, dim: int = 0) -> None:
    """The sample variance is within ``z`` standard errors (from the 4th moment) of ``expected``."""
    samples = samples.double()
    n = samples.shape[dim]
    centred = samples - samples.mean(dim, keepdim=True)
    variance = centred.pow(2).mean(dim)
    fourth = centred.pow(4).mean(dim)
    standard_error = ((fourth - variance.pow(2)).clamp(min=0) / n).sqrt()
    expected_t = torch.as_tensor(expected, dtype=torch.float64).expand_as(variance)
    gap = (variance - expected_t).abs()
    tolerance = z * standard_error + 1e-9
    assert bool((gap <= tolerance).all()), (
        f"max gap {float((gap - tolerance).max()):.3g} over bound"
    )
