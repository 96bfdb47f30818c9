"""Why pixel dropout fails on images: a dropped pixel is easy to guess from its neighbours.

Neighbouring pixels of a photograph are strongly correlated, so zeroing single pixels (standard
dropout on the input) removes almost no information: the network can fill each hole from the
pixels around it. That is why structured methods exist (Tompson et al. 2015 drop whole
feature maps, DeVries & Taylor 2017 cut out squares, Ghiasi et al. 2018 drop blocks).

This view makes the argument measurable on the user's own picture ``(3, H, W)`` in [0, 1].
Each method drops units at the same expected dropped fraction ``f`` (units are pixels, or
channel-pixels for spatial dropout); the dropped units are then reconstructed from what was
kept (:func:`reconstruct`) and the reconstruction PSNR is plotted against ``f``. The higher the
PSNR, the less information the method removed. Pure torch, no HTTP.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dropouts import functional as F
from dropouts.functional._common import MaskedResult
from dropouts.lab.views.reconstruction_fill import (
    Pixels,
    as_picture,
    flags_of,
    psnr,
    psnr_of_mse,
    rebuild,
    reconstruct,
    reconstruction_of,
)
from dropouts.lab.views.reconstruction_fractions import (
    FRACTIONS,
    N_HOLES,
    cutout_sizes,
    dropblock_block,
    dropblock_probabilities,
)

__all__ = [
    "EXAMPLE_FRACTION",
    "FRACTIONS",
    "METHODS",
    "Curve",
    "Example",
    "Study",
    "pixel_dropout_study",
    "psnr",
    "reconstruct",
]

METHODS: tuple[str, ...] = ("standard", "cutout", "dropblock", "spatial")
EXAMPLE_FRACTION = 0.25

SPATIAL_EXAMPLE_TRIES = 50  # redraws of the spatial example until it drops a channel
CHUNK_FLOATS = 1 << 21  # masks reconstructed at once: about this many floats of planes (8 MB)


@dataclass(frozen=True)
class Curve:
    method: str
    fractions: tuple[float, ...]  # the target (expected) dropped fractions
    realized: tuple[float, ...]  # mean realized dropped fraction (of units) over the draws
    psnr: tuple[float, ...]  # PSNR (dB) of the mean squared error over the draws
    setting: tuple[str, ...]  # the method's parameters at each fraction, in words


@dataclass(frozen=True)
class Example:
    method: str
    fraction: float  # EXAMPLE_FRACTION
    kept: Tensor  # the 0/1 mask used, expanded to (3, H, W) float32
    reconstruction: Tensor  # (3, H, W) float32 in [0, 1]
    psnr: float


@dataclass(frozen=True)
class Study:
    curves: tuple[Curve, ...]  # one per METHODS, in that order
    examples: tuple[Example, ...]  # one per METHODS, at EXAMPLE_FRACTION, first draw


def _generator(seed: int, method: int, fraction: int, draw: int) -> torch.Generator:
    """A CPU generator mixed from ``(seed, method, fraction, draw)`` by NumPy's SeedSequence."""
    keys = [int(seed), method, fraction, draw]
    state = np.random.SeedSequence(keys).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _mask_of(result: MaskedResult) -> Tensor:
    if isinstance(result, Tensor):
        raise TypeError("expected (output, mask)")
    return result[1]


def _pixel_masks(
    method: str, height: int, width: int, seed: int, draws: int
) -> tuple[list[Tensor], tuple[str, ...]]:
    """The kept indicators ``(1, H, W)`` bool of ``method``, fraction-major then draw, and the
    setting used at each fraction."""
    index = METHODS.index(method)
    ones = torch.ones((1, height, width))
    masks: list[Tensor] = []
    settings: list[str] = []
    for i, fraction in enumerate(FRACTIONS):
        if method == "standard":
            settings.append(f"p = {fraction:.2f}")
        elif method == "cutout":
            size = cutout_sizes(height, width)[i]
            settings.append(f"{N_HOLES} holes of {size} px")
        else:
            p = dropblock_probabilities(height, width)[i]
            block = dropblock_block(height, width)
            settings.append(f"p = {p:.3f}, block {block}")
        for draw in range(draws):
            g = _generator(seed, index, i, draw)
            if method == "standard":
                result = F.dropout(ones, fraction, scale=False, generator=g, return_mask=True)
            elif method == "cutout":
                result = F.cutout(ones, size, n_holes=N_HOLES, generator=g, return_mask=True)
            else:
                result = F.dropblock(ones, p, block, generator=g, return_mask=True)
            masks.append(_mask_of(result).expand(1, height, width) != 0)
    return masks, tuple(settings)


def _errors(pixels: Pixels, masks: list[Tensor], shown: int) -> tuple[list[float], Tensor]:
    """The sum of squared errors of the reconstruction under each mask ``(K, H, W)`` bool of
    ``masks``, and the reconstruction under ``masks[shown]``; a few masks at a time."""
    planes = (pixels.values.shape[1] + masks[0].shape[0]) * pixels.height * pixels.width
    chunk = max(1, CHUNK_FLOATS // planes)
    errors: list[float] = []
    example: Tensor | None = None
    for start in range(0, len(masks), chunk):
        flags = flags_of(masks[start : start + chunk])
        where, values, sums = rebuild(pixels, flags)
        errors += sums
        if start <= shown < start + flags.shape[1]:
            example = reconstruction_of(pixels, where[shown - start], values[shown - start])
    assert example is not None
    return errors, example


def _pixel_curve(
    picture: Tensor, pixels: Pixels, method: str, seed: int, draws: int
) -> tuple[Curve, Example]:
    channels, height, width = picture.shape
    masks, settings = _pixel_masks(method, height, width, seed, draws)
    shown = FRACTIONS.index(EXAMPLE_FRACTION) * draws
    errors, example = _errors(pixels, masks, shown)
    units = height * width
    dropped = [units - int(mask.sum()) for mask in masks]
    realized, curve_psnr = [], []
    for i in range(len(FRACTIONS)):
        draw_range = slice(i * draws, (i + 1) * draws)
        realized.append(sum(dropped[draw_range]) / (units * draws))
        curve_psnr.append(psnr_of_mse(sum(errors[draw_range]) / (units * channels * draws)))
    curve = Curve(method, FRACTIONS, tuple(realized), tuple(curve_psnr), settings)
    kept = masks[shown].expand(channels, height, width).to(torch.float32)
    return curve, Example(method, EXAMPLE_FRACTION, kept, example, psnr(picture, example))


def _channel_rebuild(pixels: Pixels, pattern: tuple[bool, ...]) -> tuple[float, Tensor]:
    """:func:`reconstruct` under a channel mask (``pattern[c]``: channel c kept), and its sum
    of squared errors, without the convolution: the window of a dropped channel holds no kept
    unit anywhere, so its estimate is the first fallback that applies, the grey of the kept
    channels at each pixel, or 0.5 when no channel is kept (exactly what :func:`reconstruct`
    computes)."""
    kept = [c for c, keep in enumerate(pattern) if keep]
    lost = [c for c, keep in enumerate(pattern) if not keep]
    values = pixels.values
    if not kept:
        grey = torch.full((values.shape[0], 1), 0.5)
    else:
        grey = values[:, kept].sum(1, keepdim=True) / len(kept)
    out = values.clone()
    out[:, lost] = grey.clamp(0.0, 1.0)
    error = float((out - values).square_().sum(dtype=torch.float64))
    return error, pixels.unflatten(out)


def _spatial_curve(picture: Tensor, pixels: Pixels, seed: int) -> tuple[Curve, Example]:
    """Spatial dropout's curve, exactly: a channel mask has only 2^3 patterns, so the expected
    squared error at fraction f is ``sum_pattern (1 - f)^kept f^dropped SE(pattern)``."""
    channels, height, width = picture.shape
    g = _generator(seed, METHODS.index("spatial"), FRACTIONS.index(EXAMPLE_FRACTION), 0)
    for _ in range(SPATIAL_EXAMPLE_TRIES):
        result = F.spatial_dropout(
            picture, EXAMPLE_FRACTION, scale=False, generator=g, return_mask=True
        )
        drawn = _mask_of(result).expand(channels, 1, 1) != 0
        if not bool(drawn.all()):
            break
    patterns = list(itertools.product((False, True), repeat=channels))
    shown = patterns.index(tuple(bool(b) for b in drawn.flatten().tolist()))
    rebuilt = [_channel_rebuild(pixels, pattern) for pattern in patterns]
    errors = [error for error, _ in rebuilt]
    example = rebuilt[shown][1]
    units = channels * height * width
    curve_psnr = []
    for fraction in FRACTIONS:
        mse = 0.0
        for pattern, error in zip(patterns, errors, strict=True):
            kept_count = sum(pattern)
            weight = (1 - fraction) ** kept_count * fraction ** (channels - kept_count)
            mse += weight * error / units
        curve_psnr.append(psnr_of_mse(mse))
    settings = tuple(f"p = {fraction:.2f}" for fraction in FRACTIONS)
    curve = Curve("spatial", FRACTIONS, FRACTIONS, tuple(curve_psnr), settings)
    kept = drawn.expand(channels, height, width).to(torch.float32)
    return curve, Example("spatial", EXAMPLE_FRACTION, kept, example, psnr(picture, example))


def pixel_dropout_study(picture: Tensor, seed: int = 0, draws: int = 3) -> Study:
    """Reconstruction PSNR against the dropped fraction for each of :data:`METHODS`.

    At each fraction ``f`` of :data:`FRACTIONS` the methods drop the same expected fraction of
    units: standard dropout with ``p = f`` (one draw per pixel, shared by its channels);
    Cutout with 4 holes whose side makes the expected fraction closest to ``f``; DropBlock
    with a block of about ``max(H, W) / 32`` and the ``p`` whose expected fraction is ``f``;
    spatial dropout with ``p = f`` on the colour channels. Each mask is reconstructed with
    :func:`reconstruct`; the squared error is averaged over ``draws`` seeded draws (exactly
    over the 8 channel patterns for spatial dropout). Deterministic for a given
    ``(picture, seed, draws)``.
    """
    picture = as_picture(picture)
    if picture.shape[0] != 3:
        raise ValueError(f"picture must be (3, H, W), got shape {tuple(picture.shape)}")
    if isinstance(draws, bool) or int(draws) != draws or draws < 1:
        raise ValueError(f"draws must be a whole number >= 1, got {draws!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    pixels = Pixels.of(picture)
    results = [_pixel_curve(picture, pixels, method, seed, draws) for method in METHODS[:3]]
    results.append(_spatial_curve(picture, pixels, seed))
    return Study(tuple(c for c, _ in results), tuple(e for _, e in results))
