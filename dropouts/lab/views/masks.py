"""Masks of the methods that act on a grid of units (pixels, activations, channels), their
expected statistics, and the statistics of each drawn mask: shared by the image view and the
feature-map view.

A *masker* applies a method of :mod:`dropouts.functional` to a tensor ``x`` of shape
``(C, H, W)`` and returns the factor it applied (broadcastable to ``x``). The caller decides
what ``x`` is: the image view passes a ``(1, H, W)`` plane for pixel-level methods (one draw
per pixel, shared by its three colours) and the picture itself for channel-level ones; the
feature-map view passes the maps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import Tensor

from dropouts import functional as F
from dropouts.functional._common import MaskedResult
from dropouts.lab import expectations
from dropouts.lab.registry import ParamValue
from dropouts.lab.views.base import BinaryArray, Json, LevelArray, ValueArray, View, number

Unit = Literal["pixel", "channel", "activation", "map"]
MaskKind = Literal["binary", "real"]
HISTOGRAM_BINS = 48
REAL_LEVELS = 32  # levels of a real-valued mask on the wire (see app/wire.py)


@dataclass(frozen=True)
class MaskTheory:
    """What the distribution predicts, for comparison with each frame's measurements."""

    unit: Unit
    mask_kind: MaskKind
    expected_dropped_fraction: float
    mask_mean: float | None
    mask_variance: float | None
    test_factor: float
    histogram_range: tuple[float, float]
    expected_histogram: tuple[float, ...] | None = None  # expected counts per bin, if known
    kept_value: float | None = None  # a kept unit's mask value, where every kept one has it


Masker = Callable[[Tensor, Mapping[str, ParamValue], torch.Generator], tuple[Tensor, float | None]]


def _mask_of(result: MaskedResult) -> Tensor:
    if isinstance(result, Tensor):
        raise TypeError("expected (output, mask)")
    return result[1]


def _standard(
    x: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    scale = params["scaling"] == "inverted"
    result = F.dropout(x, number(params, "p"), scale=scale, generator=g, return_mask=True)
    return _mask_of(result), None


def _gaussian(
    x: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    sigma = params["sigma"]
    result = F.gaussian_dropout(
        x,
        number(params, "p"),
        sigma=None if sigma is None else float(sigma),
        generator=g,
        return_mask=True,
    )
    return _mask_of(result), None


def _spatial(
    x: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    scale = params["scaling"] == "inverted"
    result = F.spatial_dropout(x, number(params, "p"), scale=scale, generator=g, return_mask=True)
    return _mask_of(result), None


def _cutout(
    x: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    size, holes = int(number(params, "size")), int(number(params, "n_holes"))
    return _mask_of(F.cutout(x, size, n_holes=holes, generator=g, return_mask=True)), None


def _dropblock(
    x: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    result = F.dropblock(
        x, number(params, "p"), int(number(params, "block_size")), generator=g, return_mask=True
    )
    return _mask_of(result), None


def _stochastic(
    x: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    p_t = F.draw_stochastic_p(number(params, "mu"), number(params, "sigma"), generator=g)
    result = F.stochastic_dropout(x, mu=0.0, sigma=0.0, p_t=p_t, generator=g, return_mask=True)
    return _mask_of(result), p_t


def _max_drop_mode(params: Mapping[str, ParamValue]) -> Literal["feature", "channel"]:
    return "channel" if params["mode"] == "channel" else "feature"


def _maxdrop(
    x: Tensor, params: Mapping[str, ParamValue], g: torch.Generator
) -> tuple[Tensor, float | None]:
    mode = _max_drop_mode(params)
    window = int(number(params, "window"))
    result = F.max_drop(
        x, number(params, "p"), mode=mode, window=window, generator=g, return_mask=True
    )
    return _mask_of(result), None


MASKERS: dict[str, Masker] = {
    "standard": _standard,
    "gaussian": _gaussian,
    "spatial": _spatial,
    "cutout": _cutout,
    "dropblock": _dropblock,
    "stochastic": _stochastic,
    "maxdrop": _maxdrop,
}


# ---------------------------------------------------------------- expected statistics


def gaussian_sigma(params: Mapping[str, ParamValue]) -> float:
    sigma = params["sigma"]
    return F.gaussian_std(number(params, "p")) if sigma is None else float(sigma)


def _bin_index(value: float, low: float, high: float) -> int:
    """The bin ``torch.histc`` puts ``value`` in (clamped to the range), asked of histc itself
    so that a value on a bin edge lands where the measured histograms put it."""
    one = torch.tensor([min(max(value, low), high)], dtype=torch.float64)
    return int(torch.histc(one, bins=HISTOGRAM_BINS, min=low, max=high).argmax())


def two_point_histogram(
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


def _bernoulli_theory(p: float, inverted: bool, unit: Unit, units: int) -> MaskTheory:
    """Independent 0/1 units dropped with probability ``p``, kept ones scaled by 1/(1-p) when
    ``inverted``: standard dropout (per unit) and spatial dropout (per channel)."""
    keep = 1.0 - p
    kept = 1.0 / keep if inverted and keep > 0 else 1.0
    top = max(kept, 1.0)
    return MaskTheory(
        unit, "binary", p, keep * kept, p * keep * kept**2, 1.0 if inverted else keep,
        (0.0, top), two_point_histogram(units * p, units * keep, kept, 0.0, top), kept,
    )  # fmt: skip


def _fixed_fraction_theory(unit: Unit, units: int, fraction: float, kept: float) -> MaskTheory:
    """A two-valued mask whose expected dropped fraction is known and whose kept value is
    ``kept``: the expected histogram and moments follow."""
    dropped = units * fraction
    top = max(kept, 1.0)
    return MaskTheory(
        unit, "binary", fraction, kept * (1.0 - fraction), None, 1.0, (0.0, top),
        two_point_histogram(dropped, units - dropped, kept, 0.0, top), kept,
    )  # fmt: skip


def mask_theory(
    method_id: str,
    params: Mapping[str, ParamValue],
    x: Tensor,
    *,
    element: Unit = "pixel",
    channel: Unit = "channel",
) -> MaskTheory:
    """The expected statistics of ``method_id`` applied to ``x`` ``(C, H, W)``, as a masker
    applies it; ``element`` and ``channel`` name the units in the page's words."""
    channels, height, width = x.shape
    elements = channels * height * width
    if method_id in ("standard", "spatial"):
        p = number(params, "p")
        inverted = params["scaling"] == "inverted"
        if method_id == "standard":
            return _bernoulli_theory(p, inverted, element, elements)
        return _bernoulli_theory(p, inverted, channel, channels)
    if method_id == "gaussian":
        sigma = gaussian_sigma(params)
        low, high = 1.0 - max(4.0 * sigma, 0.5), 1.0 + max(4.0 * sigma, 0.5)
        expected = _normal_histogram(elements, sigma, low, high) if sigma > 0 else None
        return MaskTheory(element, "real", 0.0, 1.0, sigma**2, 1.0, (low, high), expected)
    if method_id == "cutout":
        size, holes = int(number(params, "size")), int(number(params, "n_holes"))
        fraction = expectations.cutout_dropped_fraction(size, holes, height, width)
        pixels = height * width
        dropped = pixels * fraction
        return MaskTheory(
            element, "binary", fraction, 1.0 - fraction, fraction * (1.0 - fraction), 1.0,
            (0.0, 1.0), two_point_histogram(dropped, pixels - dropped, 1.0, 0.0, 1.0), 1.0,
        )  # fmt: skip
    if method_id == "dropblock":
        p, block = number(params, "p"), int(number(params, "block_size"))
        fraction = expectations.dropblock_dropped_fraction(p, block, height, width)
        upper = 1.0 / (1.0 - fraction) if fraction < 1.0 else 1.0
        return MaskTheory(
            element, "binary", fraction, 1.0, None, 1.0, (0.0, max(upper * 1.25, 1.0))
        )
    if method_id == "stochastic":
        mu, sigma = number(params, "mu"), number(params, "sigma")
        expected_p = expectations.stochastic_expected_p(mu, sigma)
        return MaskTheory(element, "binary", expected_p, None, None, 1.0, (0.0, 1.5))
    if method_id == "maxdrop":
        p, window = number(params, "p"), int(number(params, "window"))
        mode = _max_drop_mode(params)
        fraction = expectations.max_drop_dropped_fraction(x, p, mode, window)
        kept = F.max_drop_scale(p, mode, window, x.shape)
        return _fixed_fraction_theory(element, elements, fraction, kept)
    raise KeyError(f"{method_id!r} has no mask on a grid of units")


# ---------------------------------------------------------------- measured statistics

Statistics = tuple[float, float, float, tuple[int, ...]]  # dropped, mean, variance, histogram


def mask_statistics(units: Tensor, theory: MaskTheory) -> Statistics:
    """Fraction of exact zeros, mean, variance and histogram of the mask's unit values."""
    low, high = theory.histogram_range
    counts = torch.histc(units.clamp(low, high), bins=HISTOGRAM_BINS, min=low, max=high)
    return (
        float((units == 0).double().mean()),
        float(units.mean()),
        float(units.var(unbiased=False)),
        tuple(int(c) for c in counts.tolist()),
    )


def two_valued_statistics(units: Tensor, theory: MaskTheory) -> Statistics | None:
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
    counts = two_point_histogram(zeros, total - zeros, value, *theory.histogram_range)
    mean = value * kept
    return zeros / total, mean, value * value * kept - mean * mean, tuple(map(int, counts))


def unit_statistics(units: Tensor, theory: MaskTheory) -> Statistics:
    """:func:`two_valued_statistics` where it applies, else :func:`mask_statistics`."""
    return two_valued_statistics(units, theory) or mask_statistics(units, theory)


def mask_array(
    mask: Tensor, theory: MaskTheory, levels: int = REAL_LEVELS
) -> BinaryArray | LevelArray | ValueArray:
    """How a mask travels: per-channel factors inline, 0/1 masks as bits, noise as ``levels``
    levels."""
    if theory.unit in ("channel", "map"):
        return ValueArray(tuple(float(v) for v in mask.flatten()))
    if theory.mask_kind == "binary":
        return BinaryArray(mask)
    low, high = theory.histogram_range
    return LevelArray(mask, low, high, levels)


def histogram_edges(theory: MaskTheory) -> list[float]:
    low, high = theory.histogram_range
    return [low + (high - low) * i / HISTOGRAM_BINS for i in range(HISTOGRAM_BINS + 1)]


class MaskView(View[MaskTheory]):
    """A view whose frames are one mask on a grid of units (the image, the feature maps):
    its theory travels with the edges of the histogram bins."""

    def theory_json(self, theory: MaskTheory) -> dict[str, Json]:
        return asdict(theory) | {"histogram_edges": histogram_edges(theory)}
