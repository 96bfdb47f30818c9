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
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as nnf
from torch import Tensor

from dropouts import functional as F
from dropouts.functional._common import MaskedResult

FRACTIONS: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
METHODS: tuple[str, ...] = ("standard", "cutout", "dropblock", "spatial")
EXAMPLE_FRACTION = 0.25

N_HOLES = 4  # Cutout holes per picture; their side is solved for each fraction
SIGMA = 1.0  # the Gaussian window of the normalised convolution, in pixels
RADIUS = 3  # its half-width: 2 * RADIUS + 1 = 7 taps
MIN_WEIGHT = 1e-3  # below this much kept weight in the window, a unit uses the fallbacks
SPATIAL_EXAMPLE_TRIES = 50  # redraws of the spatial example until it drops a channel
CHUNK_FLOATS = 1 << 21  # masks reconstructed at once: about this many floats of planes (8 MB)


# ---------------------------------------------------------------- reconstruction


@lru_cache(maxsize=8)
def _window(groups: int) -> tuple[Tensor, Tensor]:
    """The separable Gaussian window (taps summing to 1) as grouped conv2d weights: one
    ``(groups, 1, 7, 1)`` pass down the columns and one ``(groups, 1, 1, 7)`` along the rows.
    Never written to."""
    offsets = torch.arange(-RADIUS, RADIUS + 1, dtype=torch.float64)
    taps = torch.exp(-0.5 * (offsets / SIGMA) ** 2)
    taps = (taps / taps.sum()).to(torch.float32)
    down = taps.view(1, 1, -1, 1).expand(groups, 1, -1, 1).contiguous()
    across = taps.view(1, 1, 1, -1).expand(groups, 1, 1, -1).contiguous()
    return down, across


def _smooth(planes: Tensor) -> Tensor:
    """Every plane of ``planes`` ``(N, G, H, W)`` convolved with the Gaussian window (zero
    padding, output of the same size, channels-last): a separable pass down the columns, then
    one along the rows, each a grouped ``conv2d``."""
    groups = planes.shape[1]
    down, across = _window(groups)
    planes = planes.contiguous(memory_format=torch.channels_last)
    rows = nnf.conv2d(planes, down, padding=(RADIUS, 0), groups=groups)
    return nnf.conv2d(rows, across, padding=(0, RADIUS), groups=groups)


@dataclass(frozen=True)
class _Pixels:
    """A picture ``(C, H, W)`` stored pixel-major, as the reconstruction reads it."""

    values: Tensor  # (P, C) float32, contiguous: pixel p = row * W + column
    totals: Tensor  # (C,) float64: the sum of each channel
    height: int
    width: int
    _repeated: dict[int, Tensor] = field(default_factory=dict, compare=False, repr=False)
    _workspace: dict[int, Tensor] = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def of(picture: Tensor) -> _Pixels:
        channels, height, width = picture.shape
        values = picture.reshape(channels, -1).t().contiguous()
        return _Pixels(values, values.sum(0, dtype=torch.float64), height, width)

    def repeated(self, batch: int) -> Tensor:
        """``(P, batch, C + 1)``: the values and a one, repeated for each mask of a batch
        (made once per batch size: the product with the masks is then a plain one)."""
        if batch not in self._repeated:
            augmented = torch.ones((self.values.shape[0], 1, self.values.shape[1] + 1))
            augmented[:, 0, :-1] = self.values
            self._repeated[batch] = augmented.expand(-1, batch, -1).contiguous()
        return self._repeated[batch]

    def workspace(self, batch: int) -> Tensor:
        """A scratch tensor shaped like :meth:`repeated`, reused from one batch to the next
        (the allocator would hand fresh, page-faulting memory to each batch otherwise)."""
        if batch not in self._workspace:
            self._workspace[batch] = torch.empty_like(self.repeated(batch))
        return self._workspace[batch]

    def unflatten(self, values: Tensor) -> Tensor:
        """Pixel-major ``values`` ``(P, C)`` back to a picture ``(C, H, W)``."""
        return values.t().reshape(-1, self.height, self.width).contiguous()


def _rebuild(pixels: _Pixels, flags: Tensor) -> tuple[list[Tensor], list[Tensor], list[float]]:
    """Reconstruct a picture under a batch of masks ``flags`` ``(P, B, K)`` bool, contiguous,
    True = kept (K = 1: pixel masks shared by the channels; K = C: one mask per channel).

    Only the pixels with a dropped unit are computed. Returns, for each mask: the pixels with a
    dropped unit ``(M,)`` int64, the reconstruction there ``(M, C)`` float32 (kept units
    unchanged), and the sum of squared errors.

    The convolution runs on one channels-last image ``(1, B * (C + K), H, W)`` holding, per
    mask, the kept values of each channel and then the kept indicators: oneDNN's grouped
    convolution is fastest with many interleaved channels that stay in the CPU cache.
    """
    pixel_count, batch, mask_channels = flags.shape
    channels = pixels.values.shape[1]
    planes = channels + mask_channels
    if mask_channels == 1:  # (P, B, C + 1) * (P, B, 1): the kept values, then the indicator
        stack = torch.mul(pixels.repeated(batch), flags, out=pixels.workspace(batch))
    else:
        weights = flags.to(torch.float32)
        stack = torch.cat((pixels.values.unsqueeze(1) * weights, weights), dim=2)
    # (1, G, H, W) channels-last, with an honest batch stride: a view from unsqueeze(0) sends
    # oneDNN down a path twenty times slower.
    image = stack.view(1, pixels.height, pixels.width, batch * planes).permute(0, 3, 1, 2)
    smoothed = _smooth(image).permute(0, 2, 3, 1).reshape(pixel_count, batch, planes)

    dropped = flags.logical_not()
    if mask_channels > 1:
        dropped = dropped.any(2, keepdim=True)
    found_pixels, found_values, errors = [], [], []
    for mask in range(batch):
        where = dropped[:, mask, 0].nonzero().squeeze(1)  # (M,) pixels with a dropped unit
        found = smoothed[:, mask].index_select(0, where)
        numerator, denominator = found[:, :channels], found[:, channels:]
        known = pixels.values.index_select(0, where)  # (M, C): the picture there

        # Fallbacks, the last one first: 0.5; the mean of all kept units; that of the channel.
        # In float64, from the totals less what was dropped (float32 sums of 10^5 values are
        # off by 1e-4, which a hole filled with the channel mean would show).
        if mask_channels == 1:
            sums = pixels.totals - known.sum(0, dtype=torch.float64)  # (C,): kept values
            count = float(pixel_count - where.shape[0])
            counts = torch.full((channels,), count, dtype=torch.float64)  # (C,): how many
        else:
            kept_here = flags[:, mask].index_select(0, where)  # (M, K)
            lost = kept_here.logical_not()
            sums = pixels.totals - (known * lost).sum(0, dtype=torch.float64)
            counts = pixel_count - lost.sum(0, dtype=torch.float64)
        total = float(counts.sum())
        overall = float(sums.sum()) / total if total > 0 else 0.5
        fill = torch.where(counts > 0, sums / counts.clamp(min=1), overall).to(torch.float32)
        fill = fill.expand(where.shape[0], channels)
        if mask_channels > 1:
            # Per-channel masks: the mean of the kept channels at the same pixel comes first
            # (a dropped colour channel is estimated from the other two, in grey).
            here = kept_here.sum(1, keepdim=True)
            here_sums = (known * kept_here).sum(1, keepdim=True)
            fill = torch.where(here > 0, here_sums / here, fill)

        values = numerator / denominator
        torch.where(denominator > MIN_WEIGHT, values, fill, out=values).clamp_(0.0, 1.0)
        if mask_channels > 1:
            values = torch.where(kept_here, known, values)
        found_pixels.append(where)
        found_values.append(values)
        errors.append(float(known.sub_(values).square_().sum(dtype=torch.float64)))
    return found_pixels, found_values, errors


def _reconstruction(pixels: _Pixels, where: Tensor, values: Tensor) -> Tensor:
    """The reconstruction ``(C, H, W)``: the picture with ``values`` at the pixels ``where``."""
    out = pixels.values.clone()
    out[where] = values
    return pixels.unflatten(out)


def _flags(masks: list[Tensor]) -> Tensor:
    """Masks ``(K, H, W)`` bool stacked pixel-major: ``(P, B, K)``."""
    return torch.stack([mask.reshape(mask.shape[0], -1).t() for mask in masks], dim=1)


def _as_picture(picture: Tensor) -> Tensor:
    if picture.dim() != 3 or picture.shape[1] < 1 or picture.shape[2] < 1:
        raise ValueError(f"picture must be (3, H, W), got shape {tuple(picture.shape)}")
    return picture.detach().to(torch.float32)


def reconstruct(picture: Tensor, kept: Tensor) -> Tensor:
    """Reconstruct the dropped units of ``picture`` from the kept ones.

    ``picture`` is ``(3, H, W)`` in [0, 1]; ``kept`` is 0/1 (bool or numbers, nonzero = kept)
    broadcastable to it: ``(1, H, W)`` for a pixel mask shared by the channels, ``(3, 1, 1)``
    for a channel mask, or ``(3, H, W)``. Returns ``(3, H, W)`` float32: the kept units
    unchanged, the dropped ones estimated, everything clamped to [0, 1].

    "Reconstruct from what was kept" means normalised convolution (Knutsson & Westin 1993,
    "Normalized and differential convolution", CVPR): with a Gaussian window ``g`` (sigma 1 px,
    7 x 7 taps, separable, zero padding) applied to each channel,
    ``estimate = (g * (picture . kept)) / (g * kept)``, the window-weighted mean of the kept
    units of the same channel near the unit, wherever ``g * kept > 1e-3``. Where the window
    holds (almost) no kept unit, deep inside a Cutout hole or in a dropped channel, the estimate
    falls back, in this order, to (1) the mean of the kept channels at the same pixel (a dropped
    colour channel becomes the grey of the other two), (2) the mean of all kept units of the
    channel, (3) the mean of all kept units, (4) 0.5. This is a simple, local interpolator: a
    network that sees the kept pixels can do at least as well.
    """
    picture = _as_picture(picture)
    channels, height, width = picture.shape
    shape = (1,) * (3 - kept.dim()) + tuple(kept.shape)
    if len(shape) != 3 or any(k not in (1, n) for k, n in zip(shape, picture.shape, strict=True)):
        raise ValueError(
            f"kept must be broadcastable to {tuple(picture.shape)}, got shape {tuple(kept.shape)}"
        )
    flags = (kept.detach() != 0).reshape(shape)
    flags = flags.expand(channels if shape[0] > 1 else 1, height, width)
    pixels = _Pixels.of(picture)
    (where,), (values,), _ = _rebuild(pixels, _flags([flags]))
    return _reconstruction(pixels, where, values)


def psnr(reference: Tensor, estimate: Tensor) -> float:
    """Peak signal-to-noise ratio in dB for a peak of 1.0: ``10 log10(1 / MSE)``; inf when the
    two are identical."""
    if reference.shape != estimate.shape:
        raise ValueError(f"shapes differ: {tuple(reference.shape)} and {tuple(estimate.shape)}")
    mse = float((reference.double() - estimate.double()).square().mean())
    return _psnr_of_mse(mse)


def _psnr_of_mse(mse: float) -> float:
    return math.inf if mse <= 0.0 else -10.0 * math.log10(mse)


# ---------------------------------------------------------------- equal expected fractions


def _sizes_covering(pixels: int, sizes: Tensor) -> Tensor:
    """``(S, pixels)``: for hole side ``sizes[s]``, how many centres on the axis cover each
    pixel (a centre ``c`` covers ``c - size // 2 .. c - size // 2 + size - 1``)."""
    pixel = torch.arange(pixels, dtype=torch.float64).unsqueeze(0)
    size, offset = sizes.unsqueeze(1), (sizes // 2).unsqueeze(1)
    lowest = (pixel + offset - size + 1).clamp(min=0)
    highest = (pixel + offset).clamp(max=pixels - 1)
    return (highest - lowest + 1).clamp(min=0)


@lru_cache(maxsize=64)
def _cutout_sizes(height: int, width: int) -> tuple[int, ...]:
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


def _dropblock_block(height: int, width: int) -> int:
    """The odd block side nearest to ``max(H, W) / 32`` (the smaller on a tie: 15 for 512),
    at least 3, clipped to the map as :func:`dropouts.functional.dropblock` does."""
    half = math.ceil((max(height, width) / 32 - 1) / 2 - 0.5)
    return min(max(2 * half + 1, 3), height, width)


@lru_cache(maxsize=64)
def _dropblock_probabilities(height: int, width: int) -> tuple[float, ...]:
    """For each of :data:`FRACTIONS`: the DropBlock ``p`` whose
    :func:`dropouts.lab.expectations.dropblock_dropped_fraction` equals it (bisection on [0, 1]).

    The same expectation, ``mean_pixels 1 - (1 - gamma)^n(pixel)``, grouped by the few distinct
    row and column covering counts (``n`` is their product; at most block of each), so that
    all ten bisections run together.
    """
    block = _dropblock_block(height, width)
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


# ---------------------------------------------------------------- the study


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
            size = _cutout_sizes(height, width)[i]
            settings.append(f"{N_HOLES} holes of {size} px")
        else:
            p = _dropblock_probabilities(height, width)[i]
            block = _dropblock_block(height, width)
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


def _errors(pixels: _Pixels, masks: list[Tensor], shown: int) -> tuple[list[float], Tensor]:
    """The sum of squared errors of the reconstruction under each mask ``(K, H, W)`` bool of
    ``masks``, and the reconstruction under ``masks[shown]``; a few masks at a time."""
    planes = (pixels.values.shape[1] + masks[0].shape[0]) * pixels.height * pixels.width
    chunk = max(1, CHUNK_FLOATS // planes)
    errors: list[float] = []
    example: Tensor | None = None
    for start in range(0, len(masks), chunk):
        flags = _flags(masks[start : start + chunk])
        where, values, sums = _rebuild(pixels, flags)
        errors += sums
        if start <= shown < start + flags.shape[1]:
            example = _reconstruction(pixels, where[shown - start], values[shown - start])
    assert example is not None
    return errors, example


def _pixel_curve(
    picture: Tensor, pixels: _Pixels, method: str, seed: int, draws: int
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
        curve_psnr.append(_psnr_of_mse(sum(errors[draw_range]) / (units * channels * draws)))
    curve = Curve(method, FRACTIONS, tuple(realized), tuple(curve_psnr), settings)
    kept = masks[shown].expand(channels, height, width).to(torch.float32)
    return curve, Example(method, EXAMPLE_FRACTION, kept, example, psnr(picture, example))


def _channel_rebuild(pixels: _Pixels, pattern: tuple[bool, ...]) -> tuple[float, Tensor]:
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


def _spatial_curve(picture: Tensor, pixels: _Pixels, seed: int) -> tuple[Curve, Example]:
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
        curve_psnr.append(_psnr_of_mse(mse))
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
    picture = _as_picture(picture)
    if picture.shape[0] != 3:
        raise ValueError(f"picture must be (3, H, W), got shape {tuple(picture.shape)}")
    if isinstance(draws, bool) or int(draws) != draws or draws < 1:
        raise ValueError(f"draws must be a whole number >= 1, got {draws!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    pixels = _Pixels.of(picture)
    results = [_pixel_curve(picture, pixels, method, seed, draws) for method in METHODS[:3]]
    results.append(_spatial_curve(picture, pixels, seed))
    return Study(tuple(c for c, _ in results), tuple(e for _, e in results))
