"""Reconstructing dropped units of a picture from the kept ones: normalised convolution.

The measure of :mod:`dropouts.lab.views.reconstruction`: :func:`reconstruct` fills the dropped
units of a picture ``(3, H, W)`` from the kept units near them, :func:`psnr` scores the result.
:class:`Pixels` and :func:`rebuild` do the same for a batch of masks at once. Pure torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import torch
import torch.nn.functional as nnf
from torch import Tensor

SIGMA = 1.0  # the Gaussian window of the normalised convolution, in pixels
RADIUS = 3  # its half-width: 2 * RADIUS + 1 = 7 taps
MIN_WEIGHT = 1e-3  # below this much kept weight in the window, a unit uses the fallbacks


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
class Pixels:
    """A picture ``(C, H, W)`` stored pixel-major, as the reconstruction reads it."""

    values: Tensor  # (P, C) float32, contiguous: pixel p = row * W + column
    totals: Tensor  # (C,) float64: the sum of each channel
    height: int
    width: int
    _repeated: dict[int, Tensor] = field(default_factory=dict, compare=False, repr=False)
    _workspace: dict[int, Tensor] = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def of(picture: Tensor) -> Pixels:
        channels, height, width = picture.shape
        values = picture.reshape(channels, -1).t().contiguous()
        return Pixels(values, values.sum(0, dtype=torch.float64), height, width)

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


def rebuild(pixels: Pixels, flags: Tensor) -> tuple[list[Tensor], list[Tensor], list[float]]:
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


def reconstruction_of(pixels: Pixels, where: Tensor, values: Tensor) -> Tensor:
    """The reconstruction ``(C, H, W)``: the picture with ``values`` at the pixels ``where``."""
    out = pixels.values.clone()
    out[where] = values
    return pixels.unflatten(out)


def flags_of(masks: list[Tensor]) -> Tensor:
    """Masks ``(K, H, W)`` bool stacked pixel-major: ``(P, B, K)``."""
    return torch.stack([mask.reshape(mask.shape[0], -1).t() for mask in masks], dim=1)


def as_picture(picture: Tensor) -> Tensor:
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
    picture = as_picture(picture)
    channels, height, width = picture.shape
    shape = (1,) * (3 - kept.dim()) + tuple(kept.shape)
    if len(shape) != 3 or any(k not in (1, n) for k, n in zip(shape, picture.shape, strict=True)):
        raise ValueError(
            f"kept must be broadcastable to {tuple(picture.shape)}, got shape {tuple(kept.shape)}"
        )
    flags = (kept.detach() != 0).reshape(shape)
    flags = flags.expand(channels if shape[0] > 1 else 1, height, width)
    pixels = Pixels.of(picture)
    (where,), (values,), _ = rebuild(pixels, flags_of([flags]))
    return reconstruction_of(pixels, where, values)


def psnr(reference: Tensor, estimate: Tensor) -> float:
    """Peak signal-to-noise ratio in dB for a peak of 1.0: ``10 log10(1 / MSE)``; inf when the
    two are identical."""
    if reference.shape != estimate.shape:
        raise ValueError(f"shapes differ: {tuple(reference.shape)} and {tuple(estimate.shape)}")
    mse = float((reference.double() - estimate.double()).square().mean())
    return psnr_of_mse(mse)


def psnr_of_mse(mse: float) -> float:
    return math.inf if mse <= 0.0 else -10.0 * math.log10(mse)
