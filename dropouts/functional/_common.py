"""Helpers shared by the functional dropouts: argument checks and seeded random draws.

Every random draw in the library goes through these helpers so that the same
``torch.Generator`` state gives the same mask on every machine (CPU generator,
same torch version).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def check_probability(p: float, name: str = "p", *, allow_one: bool = True) -> float:
    """``p`` as a float, checked to lie in [0, 1] (in [0, 1) when ``allow_one`` is False)."""
    value = float(p)
    upper_ok = value <= 1.0 if allow_one else value < 1.0
    if not (value >= 0.0 and upper_ok) or math.isnan(value):
        bound = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{name} must be in {bound}, got {p!r}")
    return value


def check_positive_int(value: int, name: str) -> int:
    """Return ``value`` as an int after checking it is a whole number >= 1."""
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def random_dtype(x: Tensor) -> torch.dtype:
    """The dtype of masks and noise for ``x``: that of ``x`` when it is floating, else float32."""
    return x.dtype if x.is_floating_point() else torch.float32


def draw_dtype(x: Tensor) -> torch.dtype:
    """The dtype uniform numbers are drawn in before a comparison: float64 for float64 inputs,
    else float32. Never half precision: bfloat16 rounds ``keep = 0.999`` to 1 and its uniforms
    to 8 bits, which biases the drop rate far outside binomial bounds."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def uniform(
    shape: tuple[int, ...] | list[int] | torch.Size, like: Tensor, generator: torch.Generator | None
) -> Tensor:
    """U[0, 1) numbers of ``shape`` on the device of ``like``, in :func:`draw_dtype`."""
    return torch.rand(shape, generator=generator, device=like.device, dtype=draw_dtype(like))


# Below this many elements a mask is drawn with ``bernoulli_`` (fewer dispatcher calls);
# above it with ``rand < keep``, which is 3-4x faster per element than ``bernoulli_`` on the
# CPU. Both give exactly Bernoulli(keep) draws (in float32 or float64, see ``draw_dtype``);
# the threshold only picks the faster kernel.
SMALL_MASK = 4096


def keep_mask(
    shape: tuple[int, ...] | list[int] | torch.Size,
    keep: float,
    like: Tensor,
    generator: torch.Generator | None,
) -> Tensor:
    """A 0/1 tensor (in :func:`random_dtype` of ``like``) whose elements are 1 independently
    with probability ``keep``."""
    if like.dtype is torch.float32 or like.dtype is torch.float64:  # the common case, first
        mask_dtype = dtype = like.dtype
        empty = like.new_empty(shape)  # cheaper to call than torch.empty(..., dtype, device)
    else:
        mask_dtype, dtype = random_dtype(like), draw_dtype(like)
        empty = torch.empty(shape, device=like.device, dtype=dtype)
    if math.prod(shape) <= SMALL_MASK:
        mask = empty.bernoulli_(keep, generator=generator)
    else:
        mask = empty.uniform_(generator=generator).lt_(keep)
    return mask if dtype == mask_dtype else mask.to(mask_dtype)


def identity_mask(x: Tensor, value: float = 1.0) -> Tensor:
    """A constant mask broadcastable to ``x`` (shape ``[1] * x.dim()``), for eval mode and p = 0."""
    return torch.full([1] * x.dim(), value, dtype=random_dtype(x), device=x.device)


def per_sample_shape(x: Tensor, batch_dims: int = 1) -> list[int]:
    """Shape ``(B, 1, ..., 1)``: one draw per sample, broadcast over every other axis."""
    return list(x.shape[:batch_dims]) + [1] * (x.dim() - batch_dims)


MaskedResult = Tensor | tuple[Tensor, Tensor]


def with_mask(output: Tensor, mask: Tensor, return_mask: bool) -> MaskedResult:
    """``(output, mask)`` when the caller asked for the mask, else ``output``."""
    return (output, mask) if return_mask else output


def check_image_layout(x: Tensor, name: str = "x") -> None:
    """Check ``x`` is one image ``(C, H, W)`` or a batch ``(N, C, H, W)``."""
    if x.dim() not in (3, 4):
        raise ValueError(f"{name} must be (C, H, W) or (N, C, H, W), got shape {tuple(x.shape)}")


def window_any(flags: Tensor, size: int, dim: int) -> Tensor:
    """``out[i] = flags[i] | ... | flags[i + size - 1]`` along ``dim`` (length shrinks by size - 1).

    Doubling trick (a sparse table): O(log size) boolean passes instead of ``size``, which makes
    block dilation 10-20x cheaper than ``max_pool2d`` on the CPU.
    """
    covered = flags
    span = 1
    while span * 2 <= size:
        length = covered.size(dim) - span
        covered = covered.narrow(dim, 0, length) | covered.narrow(dim, span, length)
        span *= 2
    out_length = flags.size(dim) - size + 1
    return covered.narrow(dim, 0, out_length) | covered.narrow(dim, size - span, out_length)


def dilate(seeds: Tensor, size: int, before: int, after: int) -> Tensor:
    """Grow each True pixel of ``seeds`` (``..., H, W`` booleans) into a ``size x size`` square.

    The map is first padded with ``before`` rows/columns of False in front and ``after`` behind;
    a seed at row ``y`` then covers output rows ``y + before - size + 1 .. y + before`` (the same
    for columns), clipped to the output, whose side is ``H + before + after - size + 1``.
    """
    *lead, height, width = seeds.shape
    padded = seeds.new_zeros((*lead, height + before + after, width + before + after))
    padded[..., before : before + height, before : before + width] = seeds
    return window_any(window_any(padded, size, -2), size, -1)


def centred_dilate(seeds: Tensor, size: int) -> Tensor:
    """A ``size x size`` square around each seed: rows ``y - size // 2`` .. ``+ size - 1``.

    For an odd size the square is exactly centred; for an even size it reaches one pixel further
    up/left than down/right, as Cutout's ``y - L // 2 : y + L // 2`` slicing does.
    """
    return dilate(seeds, size, before=size - 1 - size // 2, after=size // 2)
