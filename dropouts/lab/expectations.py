"""Closed-form expectations that the views show beside the measured statistics.

Each function is the exact expectation under the method's sampling distribution, so a
measured dropped fraction can be compared with it (the tests check each one by simulation).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import torch

from dropouts.functional import dropblock_gamma


def _covering_counts(pixels: int, positions: int, size: int, offset: int) -> torch.Tensor:
    """For each pixel r of an axis: how many square positions cover it.

    Positions are ``c = 0 .. positions - 1``; the square at ``c`` covers pixels
    ``c - offset .. c - offset + size - 1``.
    """
    pixel = torch.arange(pixels, dtype=torch.float64)
    lowest = (pixel + offset - size + 1).clamp(min=0)
    highest = (pixel + offset).clamp(max=positions - 1)
    return (highest - lowest + 1).clamp(min=0)


# Pure functions of a few numbers, asked again for every frame: remembered.
@lru_cache(maxsize=256)
def cutout_dropped_fraction(size: int, n_holes: int, height: int, width: int) -> float:
    """Expected fraction of pixels inside at least one of ``n_holes`` Cutout holes.

    A centre is uniform over the pixels; a pixel lies in one hole with probability
    ``q = P(row covered) * P(column covered)``; the holes are independent, so it is dropped
    with probability ``1 - (1 - q)^n_holes``.
    """
    rows = _covering_counts(height, height, size, size // 2) / height
    cols = _covering_counts(width, width, size, size // 2) / width
    one_hole = rows[:, None] * cols[None, :]
    return float((1.0 - (1.0 - one_hole) ** n_holes).mean())


@lru_cache(maxsize=256)
def dropblock_dropped_fraction(p: float, block_size: int, height: int, width: int) -> float:
    """Expected fraction dropped by DropBlock: ``mean_pixels 1 - (1 - gamma)^n(pixel)``.

    ``n(pixel)`` is the number of valid seed positions whose block covers the pixel; to first
    order this is ``p`` (Ghiasi et al. 2018), exactly it is a little less.
    """
    block = min(block_size, height, width)
    gamma = dropblock_gamma(p, block, height, width)
    rows = _covering_counts(height, height - block + 1, block, 0)
    cols = _covering_counts(width, width - block + 1, block, 0)
    covering = rows[:, None] * cols[None, :]
    return float((1.0 - (1.0 - gamma) ** covering).mean())


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _normal_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def stochastic_expected_p(mu: float, sigma: float, max_p: float = 0.7) -> float:
    """``E[p_t]`` for Park & Kwak's draw (:func:`dropouts.functional.draw_stochastic_p`).

    ``mu != 0``: ``p_t = clip(N(mu, sigma), 0, max_p)``; ``mu == 0``: ``min(|N(0, sigma)|, max_p)``.
    """
    if sigma == 0.0:
        return min(max(mu, 0.0), max_p)
    if mu == 0.0:
        upper = max_p / sigma
        return 2.0 * sigma * (_normal_pdf(0.0) - _normal_pdf(upper)) + 2.0 * max_p * (
            1.0 - _normal_cdf(upper)
        )
    lower, upper = (0.0 - mu) / sigma, (max_p - mu) / sigma
    inside = _normal_cdf(upper) - _normal_cdf(lower)
    return (
        max_p * (1.0 - _normal_cdf(upper))
        + mu * inside
        + sigma * (_normal_pdf(lower) - _normal_pdf(upper))
    )


def _window_span(position: int, window: int, length: int) -> int:
    """How many of ``window`` cells centred on ``position`` (as Max-Drop centres them: from
    ``position - window // 2``) lie inside ``0 .. length - 1``."""
    first = position - window // 2
    return min(length, first + window) - max(0, first)


def max_drop_dropped_fraction(
    x: torch.Tensor, p: float, mode: Literal["feature", "channel"], window: int
) -> float:
    """Exact expected fraction of units that Max-Drop zeroes on ``x`` ``(C, H, W)``.

    The maxima are fixed by ``x``; only the coin flips are random (Park & Kwak 2016).
    Feature-wise, map ``c`` loses the window around its (first) maximum with probability ``p``:
    ``p * sum_c area_c / (C H W)``, each area clipped by the border. Channel-wise, every position
    ``s`` flips its own coin and, on heads, zeroes the window around ``s`` in the channel holding
    its maximum: unit ``(c, y, x)`` survives only if each of the ``n`` positions whose window
    covers it with ``c`` as their argmax flips tails, so it goes with ``1 - (1 - p)^n``.
    """
    channels, height, width = x.shape
    if mode == "feature":
        flat = x.reshape(channels, -1).argmax(dim=1)
        area = 0
        for index in flat.tolist():
            row, column = divmod(int(index), width)
            area += _window_span(row, window, height) * _window_span(column, window, width)
        return p * area / (channels * height * width)
    winners = torch.nn.functional.one_hot(x.max(dim=0).indices, channels).permute(2, 0, 1)
    before, after = window - 1 - window // 2, window // 2
    padded = torch.nn.functional.pad(winners.double()[None], (before, after, before, after))
    ones = torch.ones((channels, 1, window, window), dtype=torch.float64)
    covering = torch.nn.functional.conv2d(padded, ones, groups=channels)[0]
    return float((1.0 - (1.0 - p) ** covering).mean())
