"""Equal expected dropped fractions: the Cutout hole side and the DropBlock ``p`` at which
each method drops, in expectation, each of :data:`FRACTIONS` of a picture ``(H, W)``."""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor

FRACTIONS: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
N_HOLES = 4  # Cutout holes per picture; their side is solved for each fraction


def _sizes_covering(pixels: int, sizes: Tensor) -> Tensor:
    """``(S, pixels)``: for hole side ``sizes[s]``, how many centres on the axis cover each
    pixel (a centre ``c`` covers ``c - size // 2 .. c - size // 2 + size - 1``)."""
    pixel = torch.arange(pixels, dtype=torch.float64).unsqueeze(0)
    size, offset = sizes.unsqueeze(1), (sizes // 2).unsqueeze(1)
    lowest = (pixel + offset - size + 1).clamp(min=0)
    highest = (pixel + offset).clamp(max=pixels - 1)
    return (highest - lowest + 1).clamp(min=0)


@lru_cache(maxsize=64)
def cutout_sizes(height: int, width: int) -> tuple[int, ...]:
    """For each of :data:`FRACTIONS`: the hole side L in ``1 .. max(H, W)`` whose
    :func:`dropouts.lab.expectations.cutout_dropped_fraction` ``(L, 4, H, W)`` is closest to it.

    The same expectation as there, for every L at once: a pixel at ``(r, c)`` lies in one hole
    with probability ``q = a_r b_c`` (row and column covering probabilities), so the expected
    fraction is ``1 - mean_rc (1 - a_r b_c)^4 = 1 - sum_k C(4, k) (-1)^k mean(a^k) mean(b^k)``.
    """
    sizes = torch.arange(1, max(height, width) + 1, dtype=torch.float64)
    rows = _sizes_covering(height, sizes) / height
    cols = _sizes_covering(width, sizes) / width
    kept = torch.zeros_like(sizes)
    for k in range(N_HOLES + 1):
        term = rows.pow(k).mean(1) * cols.pow(k).mean(1)
        kept += math.comb(N_HOLES, k) * (-1) ** k * term
    expected = 1.0 - kept
    targets = torch.tensor(FRACTIONS, dtype=torch.float64).unsqueeze(1)
    best = (expected.unsqueeze(0) - targets).abs().argmin(1)  # the smaller L on a tie
    return tuple(int(sizes[i]) for i in best.tolist())


def dropblock_block(height: int, width: int) -> int:
    """The odd block side nearest to ``max(H, W) / 32`` (the smaller on a tie: 15 for 512),
    at least 3, clipped to the map as :func:`dropouts.functional.dropblock` does."""
    half = math.ceil((max(height, width) / 32 - 1) / 2 - 0.5)
    return min(max(2 * half + 1, 3), height, width)


@lru_cache(maxsize=64)
def dropblock_probabilities(height: int, width: int) -> tuple[float, ...]:
    """For each of :data:`FRACTIONS`: the DropBlock ``p`` whose
    :func:`dropouts.lab.expectations.dropblock_dropped_fraction` equals it (bisection on [0, 1]).

    The same expectation, ``mean_pixels 1 - (1 - gamma)^n(pixel)``, grouped by the few distinct
    row and column covering counts (``n`` is their product; at most block of each), so that
    all ten bisections run together.
    """
    block = dropblock_block(height, width)
    row_counts, row_repeats = torch.unique(_valid_covering(height, block), return_counts=True)
    col_counts, col_repeats = torch.unique(_valid_covering(width, block), return_counts=True)
    values = (row_counts[:, None] * col_counts[None, :]).flatten()  # n = n_row * n_column
    share = (row_repeats[:, None] * col_repeats[None, :]).flatten().double() / (height * width)
    valid = (height - block + 1) * (width - block + 1)
    rate = height * width / (block * block * valid)  # gamma = min(1, p * rate)

    def expected(p: Tensor) -> Tensor:
        gamma = (p * rate).clamp(max=1.0).unsqueeze(1)
        fraction: Tensor = 1.0 - ((1.0 - gamma) ** values * share).sum(1)
        return fraction

    targets = torch.tensor(FRACTIONS, dtype=torch.float64)
    low, high = torch.zeros_like(targets), torch.ones_like(targets)
    for _ in range(60):
        middle = (low + high) / 2
        below = expected(middle) < targets
        low, high = torch.where(below, middle, low), torch.where(below, high, middle)
    return tuple(((low + high) / 2).tolist())


def _valid_covering(pixels: int, block: int) -> Tensor:
    """For each pixel of an axis: how many valid DropBlock centres (``0 .. pixels - block``,
    covering ``c .. c + block - 1``) cover it."""
    pixel = torch.arange(pixels, dtype=torch.float64)
    lowest = (pixel - block + 1).clamp(min=0)
    highest = pixel.clamp(max=pixels - block)
    return (highest - lowest + 1).clamp(min=0)
