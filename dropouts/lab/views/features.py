"""A real convolutional stage with fixed, hand-made filters: where the feature maps come from.

The picture (long side resized to :data:`STAGE_SIDE`) goes through eight interpretable filters
(one ``torch.nn.functional.conv2d``), a ReLU and a 2 x 2 max pooling, as the first stage of a
CNN does; dropout then acts on the pooled maps, before the next layer. The filters are not
learned: they are the kind of detectors a trained first layer ends up with (Hubel & Wiesel's
oriented edges, colour-opponent and centre-surround cells), built by hand so that each map can
be named.

- ``edge_<angle>``: first derivative of a Gaussian (sigma 1.5, 7 x 7) on the luminance; it
  answers a step edge whose brightness rises in the direction ``angle`` (0 = rising to the
  right, 90 = rising upwards, counter-clockwise, as on a compass rose of the picture).
- ``red_green`` / ``yellow_blue``: colour-opponent (R - G, (R + G) / 2 - B) under a 3 x 3
  Gaussian (sigma 0.8): red (yellow) regions.
- ``centre_on`` / ``centre_off``: difference of Gaussians (sigma 0.8 and 2, 7 x 7) on the
  luminance: a light (dark) spot on a darker (lighter) surround.

Every kernel has unit positive mass: on a picture in [0, 1] each response lies in [-1, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from dropouts.lab.registry import FILTER_IDS, FILTERS

STAGE_SIDE = 256  # the picture's long side as it enters the stage
POOL = 2
LUMINANCE = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights of R, G, B


@dataclass(frozen=True)
class Filter:
    id: str
    label: str  # what it detects, in a few words
    detail: str  # how it is made
    kernel: Tensor  # (3, k, k), float64: weights on R, G, B


@dataclass(frozen=True)
class FeatureStage:
    """The stage run on one picture."""

    picture: Tensor  # (3, h, w): the picture at the stage's resolution
    responses: Tensor  # (C, h, w): the filters' outputs, before the ReLU
    activations: Tensor  # (C, h, w): after the ReLU, before the pooling
    maps: Tensor  # (C, h // 2, w // 2): after the pooling; what dropout acts on


def _grid(size: int) -> tuple[Tensor, Tensor]:
    """Column (x, to the right) and row (y, downwards) offsets of a ``size x size`` kernel."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    return offsets[None, :].expand(size, size), offsets[:, None].expand(size, size)


def _gaussian(size: int, sigma: float) -> Tensor:
    x, y = _grid(size)
    weights = torch.exp(-(x * x + y * y) / (2 * sigma * sigma))
    return weights / weights.sum()


def _on_luminance(plane: Tensor) -> Tensor:
    return torch.stack([weight * plane for weight in LUMINANCE])


def _unit_positive_mass(kernel: Tensor) -> Tensor:
    return kernel / kernel.clamp(min=0).sum()


def _edge(angle_degrees: float, size: int = 7, sigma: float = 1.5) -> Tensor:
    """Derivative of a Gaussian along the direction ``angle`` (y points down in a picture, so
    "up" is -y): positive where the brightness rises that way."""
    x, y = _grid(size)
    angle = math.radians(angle_degrees)
    along = x * math.cos(angle) - y * math.sin(angle)
    return _on_luminance(_unit_positive_mass(along * _gaussian(size, sigma)))


def _opponent(positive: tuple[float, float, float], size: int = 3, sigma: float = 0.8) -> Tensor:
    blur = _gaussian(size, sigma)
    return torch.stack([weight * blur for weight in positive])


def _centre_surround(sign: float, size: int = 7) -> Tensor:
    difference = _gaussian(size, 0.8) - _gaussian(size, 2.0)
    return _on_luminance(_unit_positive_mass(sign * difference))


@lru_cache(maxsize=1)
def filter_bank() -> tuple[Filter, ...]:
    """The eight fixed filters, in the order of :data:`dropouts.lab.registry.FILTER_IDS`."""
    edge = "Derivative of a Gaussian (7 × 7, σ 1.5) on the brightness"
    bank = (
        Filter("edge_0", FILTERS["edge_0"], edge, _edge(0)),
        Filter("edge_45", FILTERS["edge_45"], edge, _edge(45)),
        Filter("edge_90", FILTERS["edge_90"], edge, _edge(90)),
        Filter("edge_135", FILTERS["edge_135"], edge, _edge(135)),
        Filter(
            "red_green",
            FILTERS["red_green"],
            "Colour opponent R − G (3 × 3, σ 0.8)",
            _opponent((1.0, -1.0, 0.0)),
        ),
        Filter(
            "yellow_blue",
            FILTERS["yellow_blue"],
            "Colour opponent (R + G)/2 − B (3 × 3, σ 0.8)",
            _opponent((0.5, 0.5, -1.0)),
        ),
        Filter(
            "centre_on",
            FILTERS["centre_on"],
            "Difference of Gaussians (7 × 7, σ 0.8 − σ 2) on the brightness: a light spot on a "
            "darker surround",
            _centre_surround(1.0),
        ),
        Filter(
            "centre_off",
            FILTERS["centre_off"],
            "Difference of Gaussians (7 × 7, σ 2 − σ 0.8) on the brightness: a dark spot on a "
            "lighter surround",
            _centre_surround(-1.0),
        ),
    )
    assert tuple(f.id for f in bank) == FILTER_IDS
    return bank


def stage_size(height: int, width: int) -> tuple[int, int]:
    """The picture's size entering the stage: long side :data:`STAGE_SIDE`, aspect kept."""
    scale = STAGE_SIDE / max(height, width)
    return max(POOL, round(height * scale)), max(POOL, round(width * scale))


def convolve(picture: Tensor) -> Tensor:
    """Every filter on ``picture`` ``(3, h, w)``: ``(C, h, w)`` responses, edges replicated
    (zero padding would invent an edge around the border)."""
    kernels = [f.kernel for f in filter_bank()]
    outputs = []
    for size in sorted({k.shape[-1] for k in kernels}):
        chosen = [k for k in kernels if k.shape[-1] == size]
        weight = torch.stack(chosen).to(picture.dtype)
        half = size // 2
        padded = F.pad(picture[None], (half, half, half, half), mode="replicate")
        outputs.append((size, F.conv2d(padded, weight)[0]))
    # Put the responses back in the bank's order.
    by_size = {size: iter(out) for size, out in outputs}
    return torch.stack([next(by_size[k.shape[-1]]) for k in kernels])


def run_stage(picture: Tensor) -> FeatureStage:
    """Resize, convolve, ReLU, 2 x 2 max-pool: the stage on an RGB picture in [0, 1]."""
    height, width = stage_size(picture.shape[-2], picture.shape[-1])
    resized = F.interpolate(
        picture[None].float(), size=(height, width), mode="bilinear", antialias=True
    )[0].clamp(0.0, 1.0)
    responses = convolve(resized)
    activations = F.relu(responses)
    maps = F.max_pool2d(activations, POOL)
    return FeatureStage(resized, responses, activations, maps)
