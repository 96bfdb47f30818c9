"""Dropouts that remove whole structures: channels, square regions, blocks, residual branches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

from ._common import (
    MaskedResult,
    centred_dilate,
    check_image_layout,
    check_positive_int,
    check_probability,
    dilate,
    identity_mask,
    per_sample_shape,
    random_dtype,
    uniform,
    with_mask,
)
from .elementwise import bernoulli_dropout


def spatial_dropout(
    x: Tensor,
    p: float = 0.5,
    *,
    scale: bool = True,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """Spatial dropout: drop whole feature maps (channels), independently per sample and channel.

    Tompson, Goroshin, Jain, LeCun & Bregler 2015, "Efficient Object Localization Using
    Convolutional Networks", CVPR.

    ``x`` is one image ``(C, H, W)`` (mask ``(C, 1, 1)``) or a batch ``(N, C, H, W)`` (mask
    ``(N, C, 1, 1)``). Unlike ``torch.nn.functional.dropout2d``, a 3-D input is treated as ONE
    image, so spatial dropout on an RGB picture drops colour channels. Scaling as in
    :func:`dropouts.functional.dropout` (``scale=False`` is Torch7's original
    ``nn.SpatialDropout``: no train-time scaling, ``* (1 - p)`` at eval).
    """
    check_image_layout(x)
    shape = x.shape
    mask_shape = (shape[0], 1, 1) if len(shape) == 3 else (shape[0], shape[1], 1, 1)
    out, mask = bernoulli_dropout(
        x, p, mask_shape, scale=scale, training=training, generator=generator
    )
    return with_mask(out, mask, return_mask)


def drop_path(
    x: Tensor,
    p: float = 0.1,
    *,
    mode: Literal["row", "batch"] = "row",
    scale: bool = True,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """DropPath / stochastic depth: drop a whole residual branch ``x`` (shape ``(B, ...)``).

    Huang, Sun, Liu, Sedra & Weinberger 2016, "Deep Networks with Stochastic Depth", ECCV.

    Apply it to the branch ``f(x)`` only, never to the shortcut: ``out = x + drop_path(f(x))``.
    ``mode="row"`` draws one gate per sample (timm, torchvision ``"row"``); ``mode="batch"``
    one gate for the whole mini-batch (Huang's original, torchvision ``"batch"``). ``p`` is the
    probability of dropping the branch (1 - survival). Not Wan et al.'s DropConnect.
    The first axis is always the batch, as in timm: an unbatched branch output must be given
    as a batch of one (``f(x)[None]``), or each of its elements is gated on its own.
    """
    if mode not in ("row", "batch"):
        raise ValueError(f"mode must be 'row' or 'batch', got {mode!r}")
    mask_shape = per_sample_shape(x) if mode == "row" else [1] * x.dim()
    out, mask = bernoulli_dropout(
        x, p, mask_shape, scale=scale, training=training, generator=generator
    )
    return with_mask(out, mask, return_mask)


def stochastic_depth_survival(
    blocks: int, p: float, *, rule: Literal["constant", "linear"] = "linear"
) -> tuple[float, ...]:
    """Survival probability ``s_l`` of each residual block ``l = 1 .. L`` of a stack of ``blocks``.

    Huang et al. 2016, eq. (4), the linear decay rule ``s_l = 1 - (l / L) (1 - s_L)``, with
    ``p = 1 - s_L`` the drop probability of the LAST block (the paper uses ``s_L = 0.5``): block
    ``l`` drops its branch with probability ``(l / L) p``, the first hardly ever, the last with
    ``p``. ``rule="constant"``: every block drops with ``p``. Not timm's spacing: timm spreads its
    ``drop_path_rate`` as ``linspace(0, rate, L)``, i.e. ``(l - 1) / (L - 1) p``, so that its
    first block never drops.
    """
    blocks = check_positive_int(blocks, "blocks")
    p = check_probability(p)
    if rule == "constant":
        return tuple(1.0 - p for _ in range(blocks))
    if rule == "linear":
        return tuple(1.0 - (index / blocks) * p for index in range(1, blocks + 1))
    raise ValueError(f"rule must be 'constant' or 'linear', got {rule!r}")


def expected_depth(survival: Sequence[float]) -> float:
    """The expected number of residual blocks whose branch survives: ``E[depth] = sum_l s_l``.

    Huang et al. 2016, section 3: with the linear rule and ``s_L = 0.5`` on 54 blocks (their
    110-layer ResNet) it is 40.25; in general ``L - p (L + 1) / 2`` (see
    :func:`stochastic_depth_survival`). The identity shortcuts are always there.
    """
    return float(sum(check_probability(s, "survival") for s in survival))


def depth_variance(survival: Sequence[float]) -> float:
    """The variance of that number: the gates are independent Bernoulli(``s_l``), so the depth
    is Poisson-binomial with variance ``sum_l s_l (1 - s_l)``."""
    return float(sum(s * (1.0 - s) for s in (check_probability(v, "survival") for v in survival)))


def cutout(
    x: Tensor,
    size: int,
    *,
    n_holes: int = 1,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
) -> MaskedResult:
    """Cutout: zero ``n_holes`` squares of side ``size`` on all channels of each image.

    DeVries & Taylor 2017, "Improved Regularization of Convolutional Neural Networks with
    Cutout", arXiv:1708.04552.

    Each centre is uniform over every pixel of the image, so a hole near the border is cut by
    it (the paper allows partial holes on purpose). A hole centred at ``(cy, cx)`` covers rows
    ``cy - size // 2`` to ``cy - size // 2 + size - 1``: exactly ``size x size`` pixels inside
    the image, also for an odd size (upstream's ``cy - L // 2 : cy + L // 2`` slicing gives
    ``(L - 1)^2`` for odd L). Holes may overlap. No rescaling; eval is the identity (Cutout is a
    training-time augmentation). The mask ``(1, H, W)`` or ``(N, 1, H, W)`` is shared by
    all channels and drawn independently per image.
    """
    check_image_layout(x)
    size = check_positive_int(size, "size")
    if n_holes < 0 or int(n_holes) != n_holes:
        raise ValueError(f"n_holes must be a whole number >= 0, got {n_holes!r}")
    if not training or n_holes == 0:
        return with_mask(x, identity_mask(x), return_mask)
    *lead, height, width = x.shape
    images = 1 if x.dim() == 3 else lead[0]
    centre_y = torch.randint(0, height, (images, n_holes), generator=generator, device=x.device)
    centre_x = torch.randint(0, width, (images, n_holes), generator=generator, device=x.device)
    centres = torch.zeros((images, height, width), dtype=torch.bool, device=x.device)
    image_index = torch.arange(images, device=x.device).unsqueeze(1).expand(-1, n_holes)
    centres[image_index, centre_y, centre_x] = True
    holes = centred_dilate(centres, size)
    mask = (~holes).to(random_dtype(x)).unsqueeze(-3)  # (N, 1, H, W)
    if x.dim() == 3:
        mask = mask.squeeze(0)
    return with_mask(x.mul(mask), mask, return_mask)


def dropblock_gamma(p: float, block_size: int, height: int, width: int) -> float:
    """Seed rate of DropBlock: ``gamma = p * H * W / (bs^2 * (H - bs + 1) * (W - bs + 1))``.

    Ghiasi et al. 2018, eq. (1), for rectangular maps as in torchvision. Seeds fall only on the
    ``(H - bs + 1) x (W - bs + 1)`` valid centres; to first order a fraction ``p`` is dropped.
    ``block_size`` is clipped to the map. Capped at 1.
    """
    block = min(block_size, height, width)
    valid = (height - block + 1) * (width - block + 1)
    return min(1.0, p * height * width / (block * block * valid))


def dropblock(
    x: Tensor,
    p: float = 0.1,
    block_size: int = 7,
    *,
    training: bool = True,
    generator: torch.Generator | None = None,
    return_mask: bool = False,
    eps: float = 1e-6,
) -> MaskedResult:
    """DropBlock: drop contiguous ``block_size x block_size`` squares of each feature map.

    Ghiasi, Lin & Le 2018, "DropBlock: A regularization method for convolutional networks",
    NeurIPS.

    Seeds ``~ Bernoulli(gamma)`` (:func:`dropblock_gamma`) are drawn independently per
    ``(n, c)`` map at the valid centres only, so a block never hangs over the border (timm's
    default ``fast`` variant lets it). Each seed grows into a square; the kept units are
    rescaled by ``numel / count(kept)`` counted over the whole tensor from the realised mask
    (not ``1 / (1 - p)``), so a constant input keeps its mean exactly. ``x`` is ``(C, H, W)``
    or ``(N, C, H, W)``; the mask has the shape of ``x``. ``block_size = 1`` is standard
    dropout with that normalisation. Eval is the identity.
    """
    check_image_layout(x)
    p = check_probability(p)
    block_size = check_positive_int(block_size, "block_size")
    if not training or p == 0.0:
        return with_mask(x, identity_mask(x), return_mask)
    *lead, height, width = x.shape
    block = min(block_size, height, width)
    gamma = dropblock_gamma(p, block, height, width)
    seeds = uniform((*lead, height - block + 1, width - block + 1), x, generator) < gamma
    # A seed at (i, j) of the valid grid covers rows i..i+block-1, columns j..j+block-1.
    dropped = dilate(seeds, block, before=block - 1, after=block - 1)
    mask = (~dropped).to(random_dtype(x))
    kept = float(mask.sum(dtype=torch.float64))  # half precision overflows at 65504
    mask.mul_(mask.numel() / max(kept, eps))
    return with_mask(x.mul(mask), mask, return_mask)
