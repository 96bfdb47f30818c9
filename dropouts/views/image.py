"""The image view: a method applied to a picture, one reproducible mask per iteration.

The picture is an RGB tensor ``(3, H, W)`` in [0, 1]. Pixel-level methods treat each pixel
as one unit (the mask is shared by its three channels, shape ``(1, H, W)``); spatial dropout
treats each colour channel as a unit (mask ``(3, 1, 1)``), so it drops the cat's red channel.

Frames are addressable: the mask of iteration ``i`` depends only on ``(method, params, seed,
i, image size)``, never on the frames before it, so a player can jump to any iteration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from .. import expectations
from .. import functional as F
from ..functional._common import MaskedResult
from ..registry import ParamValue

Unit = Literal["pixel", "channel"]
MaskKind = Literal["binary", "real"]
HISTOGRAM_BINS = 48


def frame_generator(seed: int, iteration: int) -> torch.Generator:
    """A CPU generator for one iteration, mixed from ``(seed, iteration)`` by NumPy's SeedSequence.

    Every iteration gets an independent, well-mixed stream, identical on every machine.
    """
    state = np.random.SeedSequence([int(seed), int(iteration)]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


@dataclass(frozen=True)
class ImageTheory:
    """What the distribution predicts, for comparison with each frame's measurements."""

    unit: Unit
    mask_kind: MaskKind
    expected_dropped_fraction: float
    mask_mean: float | None
    mask_variance: float | None
    test_factor: float
    histogram_range: tuple[float, float]
    expected_histogram: tuple[float, ...] | None = None  # expected counts per bin, if known


@dataclass(frozen=True)
class ImageFrame:
    iteration: int
    mask: Tensor  # the factor applied, (1, H, W) or (3, 1, 1), float32
    dropped_fraction: float  # fraction of units whose factor is exactly 0
    mask_mean: float
    mask_variance: float
    output_mean_ratio: float  # mean(output) / mean(input)
    histogram: tuple[int, ...]  # counts of the mask values over the theory's range
    p_t: float | None = None  # stochastic dropout: this iteration's drop probability


def _number(params: Mapping[str, ParamValue], name: str) -> float:
    value = params[name]
    if not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def _mask_of(result: MaskedResult) -> Tensor:
    if isinstance(result, Tensor):
        raise TypeError("expected (output, mask)")
    return result[1]


Masker = Callable[[Tensor, Mapping[str, ParamValue], torch.Generator], tuple[Tensor, float | None]]


def _pixels(image: Tensor) -> Tensor:
    return image.new_ones((1, *image.shape[-2:]))


def _standard(
    image: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    scale = params["scaling"] == "inverted"
    result = F.dropout(
        _pixels(image), _number(params, "p"), scale=scale, generator=g, return_mask=True
    )
    return _mask_of(result), None


def _gaussian(
    image: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    sigma = params["sigma"]
    result = F.gaussian_dropout(
        _pixels(image),
        _number(params, "p"),
        sigma=None if sigma is None else float(sigma),
        generator=g,
        return_mask=True,
    )
    return _mask_of(result), None


def _spatial(
    image: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    scale = params["scaling"] == "inverted"
    result = F.spatial_dropout(
        image, _number(params, "p"), scale=scale, generator=g, return_mask=True
    )
    return _mask_of(result), None


def _cutout(
    image: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    size, holes = int(_number(params, "size")), int(_number(params, "n_holes"))
    return _mask_of(F.cutout(image, size, n_holes=holes, generator=g, return_mask=True)), None


def _dropblock(
    image: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    result = F.dropblock(
        _pixels(image),
        _number(params, "p"),
        int(_number(params, "block_size")),
        generator=g,
        return_mask=True,
    )
    return _mask_of(result), None


def _stochastic(
    image: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    p_t = F.draw_stochastic_p(_number(params, "mu"), _number(params, "sigma"), generator=g)
    result = F.stochastic_dropout(
        _pixels(image), mu=0.0, sigma=0.0, p_t=p_t, generator=g, return_mask=True
    )
    return _mask_of(result), p_t


MASKERS: dict[str, Masker] = {
    "standard": _standard,
    "gaussian": _gaussian,
    "spatial": _spatial,
    "cutout": _cutout,
    "dropblock": _dropblock,
    "stochastic": _stochastic,
}
IMAGE_METHODS: tuple[str, ...] = tuple(MASKERS)


def _gaussian_sigma(params: Mapping[str, ParamValue]) -> float:
    sigma = params["sigma"]
    return F.gaussian_std(_number(params, "p")) if sigma is None else float(sigma)


def _bin_index(value: float, low: float, high: float) -> int:
    """The bin ``torch.histc`` puts ``value`` in (clamped to the range), asked of histc itself
    so that a value on a bin edge lands where the measured histograms put it."""
    one = torch.tensor([min(max(value, low), high)], dtype=torch.float64)
    return int(torch.histc(one, bins=HISTOGRAM_BINS, min=low, max=high).argmax())


def _two_point_histogram(
    dropped: float, kept: float, kept_value: float, low: float, high: float
) -> tuple[float, ...]:
    """Counts when ``dropped`` units are 0 and ``kept`` units are ``kept_value``."""
    counts = [0.0] * HISTOGRAM_BINS
    counts[_bin_index(0.0, low, high)] += dropped
    counts[_bin_index(kept_value, low, high)] += kept
    return tuple(counts)


def _normal_histogram(units: int, sigma: float, low: float, high: float) -> tuple[float, ...]:
    """Expected counts of ``units`` draws of N(1, sigma^2) per bin, tails in the outer bins."""
    edges = torch.linspace(low, high, HISTOGRAM_BINS + 1, dtype=torch.float64)
    cdf = 0.5 * torch.erfc(-(edges - 1.0) / (sigma * math.sqrt(2.0)))
    cdf[0], cdf[-1] = 0.0, 1.0
    return tuple(float(c) for c in (units * cdf.diff()).tolist())


def image_theory(
    method_id: str, params: Mapping[str, ParamValue], height: int, width: int
) -> ImageTheory:
    """The expected statistics of ``method_id`` on an ``H x W`` picture."""
    pixels = height * width
    if method_id in ("standard", "spatial"):
        p = _number(params, "p")
        inverted = params["scaling"] == "inverted"
        keep = 1.0 - p
        kept = 1.0 / keep if inverted and keep > 0 else 1.0
        unit: Unit = "pixel" if method_id == "standard" else "channel"
        units = pixels if unit == "pixel" else 3
        top = max(kept, 1.0)
        return ImageTheory(
            unit, "binary", p, keep * kept, p * keep * kept**2, 1.0 if inverted else keep,
            (0.0, top), _two_point_histogram(units * p, units * keep, kept, 0.0, top),
        )  # fmt: skip
    if method_id == "gaussian":
        sigma = _gaussian_sigma(params)
        low, high = 1.0 - max(4.0 * sigma, 0.5), 1.0 + max(4.0 * sigma, 0.5)
        expected = _normal_histogram(pixels, sigma, low, high) if sigma > 0 else None
        return ImageTheory("pixel", "real", 0.0, 1.0, sigma**2, 1.0, (low, high), expected)
    if method_id == "cutout":
        size, holes = int(_number(params, "size")), int(_number(params, "n_holes"))
        fraction = expectations.cutout_dropped_fraction(size, holes, height, width)
        dropped = pixels * fraction
        return ImageTheory(
            "pixel", "binary", fraction, 1.0 - fraction, fraction * (1.0 - fraction), 1.0,
            (0.0, 1.0), _two_point_histogram(dropped, pixels - dropped, 1.0, 0.0, 1.0),
        )  # fmt: skip
    if method_id == "dropblock":
        p, block = _number(params, "p"), int(_number(params, "block_size"))
        fraction = expectations.dropblock_dropped_fraction(p, block, height, width)
        upper = 1.0 / (1.0 - fraction) if fraction < 1.0 else 1.0
        return ImageTheory(
            "pixel", "binary", fraction, 1.0, None, 1.0, (0.0, max(upper * 1.25, 1.0))
        )
    if method_id == "stochastic":
        mu, sigma = _number(params, "mu"), _number(params, "sigma")
        expected_p = expectations.stochastic_expected_p(mu, sigma)
        return ImageTheory("pixel", "binary", expected_p, None, None, 1.0, (0.0, 1.5))
    raise KeyError(f"{method_id!r} has no image view; image methods: {', '.join(IMAGE_METHODS)}")


def image_frame(
    method_id: str,
    image: Tensor,
    params: Mapping[str, ParamValue],
    seed: int,
    iteration: int,
    theory: ImageTheory,
) -> ImageFrame:
    """Iteration ``iteration`` of ``method_id`` on ``image`` ``(3, H, W)``, with its statistics."""
    masker = MASKERS.get(method_id)
    if masker is None:
        raise KeyError(
            f"{method_id!r} has no image view; image methods: {', '.join(IMAGE_METHODS)}"
        )
    mask, p_t = masker(image, params, frame_generator(seed, iteration))
    # p = 0 and friends return a constant (1, 1, 1) mask: give every frame the unit's shape.
    unit_shape = (1, *image.shape[-2:]) if theory.unit == "pixel" else (image.shape[0], 1, 1)
    mask = mask.expand(unit_shape)
    units = mask.flatten().double()
    input_mean = float(image.mean())
    output_mean = float((image * mask).mean())
    dropped, mean, variance, histogram = _two_valued_statistics(units, theory) or (
        mask_statistics(units, theory)
    )
    return ImageFrame(
        iteration=iteration,
        mask=mask.float(),
        dropped_fraction=dropped,
        mask_mean=mean,
        mask_variance=variance,
        output_mean_ratio=output_mean / input_mean if input_mean > 0 else 1.0,
        histogram=histogram,
        p_t=p_t,
    )


Statistics = tuple[float, float, float, tuple[int, ...]]  # dropped, mean, variance, histogram


def mask_statistics(units: Tensor, theory: ImageTheory) -> Statistics:
    """Fraction of exact zeros, mean, variance and histogram of the mask's unit values."""
    low, high = theory.histogram_range
    counts = torch.histc(units.clamp(low, high), bins=HISTOGRAM_BINS, min=low, max=high)
    return (
        float((units == 0).double().mean()),
        float(units.mean()),
        float(units.var(unbiased=False)),
        tuple(int(c) for c in counts.tolist()),
    )


def _two_valued_statistics(units: Tensor, theory: ImageTheory) -> Statistics | None:
    """The same statistics, exactly, for a mask of zeros and one kept value ``v`` (every binary
    mask): from the count of zeros alone, without a histogram pass. None if it is not one."""
    if theory.mask_kind != "binary":
        return None
    total = units.numel()
    zeros = int((units == 0).sum())
    value = float(units.max()) if zeros < total else 0.0
    if zeros < total and int((units == value).sum()) != total - zeros:
        return None
    kept = (total - zeros) / total
    counts = _two_point_histogram(zeros, total - zeros, value, *theory.histogram_range)
    mean = value * kept
    return zeros / total, mean, value * value * kept - mean * mean, tuple(map(int, counts))
