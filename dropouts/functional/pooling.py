"""Max-pooling dropout and its test-time operator, probabilistic weighted pooling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ._common import (
    MaskedResult,
    check_image_layout,
    check_probability,
    identity_mask,
    keep_mask,
    with_mask,
)


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def weighted_pooling_weights(p: float, n: int) -> Tensor:
    """Weights ``r * q^(n - i)`` (``i = 1..n``, ``r = 1 - p``, ``q = p``) of the region's values
    sorted ascending: the probability that the i-th smallest is the largest one kept."""
    keep = 1.0 - p
    exponents = torch.arange(n - 1, -1, -1, dtype=torch.float64)
    return keep * torch.pow(torch.tensor(p, dtype=torch.float64), exponents)


def probabilistic_weighted_pooling(
    x: Tensor,
    p: float,
    kernel_size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
) -> Tensor:
    """Test-time output of max-pooling dropout: ``sum_i r * q^(n - i) * a'_i`` per region.

    Wu & Gu 2015, eq. (11): with each region's values sorted ascending ``a'_1 <= ... <= a'_n``,
    this is exactly ``E_mask[max(m * a)]`` for non-negative activations (post-ReLU, as the
    paper assumes), unlike the biased ``(1 - p) * max(a)``.
    """
    kernel = _pair(kernel_size)
    step = kernel if stride is None else _pair(stride)
    batched = x if x.dim() == 4 else x.unsqueeze(0)
    n_batch, channels, height, width = batched.shape
    out_h = (height - kernel[0]) // step[0] + 1
    out_w = (width - kernel[1]) // step[1] + 1
    regions = F.unfold(batched, kernel, stride=step)  # (N, C * n, L)
    regions = regions.view(n_batch, channels, kernel[0] * kernel[1], out_h * out_w)
    ascending = regions.sort(dim=2).values
    weights = weighted_pooling_weights(p, kernel[0] * kernel[1]).to(x.dtype).to(x.device)
    pooled = torch.einsum("ncil,i->ncl", ascending, weights).view(n_batch, channels, out_h, out_w)
    return pooled if x.dim() == 4 else pooled.squeeze(0)


def maxpool_dropout(
    x: Tensor,
    p: float = 0.5,
    kernel_size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    *,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """Max-pooling dropout: Bernoulli mask inside each pooling window, then max-pool.

    Wu & Gu 2015, "Towards dropout training for convolutional neural networks", Neural Networks
    71. Their "retaining probability" is ``1 - p`` here.

    Training: ``max(m * a)`` over each region with ``m ~ Bernoulli(1 - p)`` and NO rescaling
    (the paper's form), so the output is one of the region's values or 0. Eval:
    :func:`probabilistic_weighted_pooling`, the exact expectation of the training output for
    non-negative inputs. ``p = 0`` is plain max-pooling. ``x`` is ``(C, H, W)`` or
    ``(N, C, H, W)``; the returned mask is the 0/1 mask on the input of the pooling (all ones
    in eval, where no mask is drawn).
    """
    check_image_layout(x)
    p = check_probability(p)
    kernel = _pair(kernel_size)
    step = kernel if stride is None else _pair(stride)
    if not training:
        return with_mask(
            probabilistic_weighted_pooling(x, p, kernel, step), identity_mask(x), return_mask
        )
    if p == 0.0:
        return with_mask(F.max_pool2d(x, kernel, step), identity_mask(x), return_mask)
    mask = keep_mask(x.shape, 1.0 - p, x, generator)
    return with_mask(F.max_pool2d(x.mul(mask), kernel, step), mask, return_mask)
