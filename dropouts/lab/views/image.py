"""The image view: a method applied to a picture, one reproducible mask per iteration.

The picture is an RGB tensor ``(3, H, W)`` in [0, 1]. Pixel-level methods treat each pixel
as one unit (the mask is shared by its three channels, shape ``(1, H, W)``); spatial dropout
treats each colour channel as a unit (mask ``(3, 1, 1)``), so it drops the cat's red channel.

Frames are addressable: the mask of iteration ``i`` depends only on ``(method, params, seed,
i, image size)``, never on the frames before it, so a player can jump to any iteration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from dropouts.lab.registry import ParamValue
from dropouts.lab.views.base import Frame, Json, Scene, frame_generator
from dropouts.lab.views.masks import (
    HISTOGRAM_BINS,
    MASKERS,
    MaskTheory,
    MaskView,
    histogram_edges,
    mask_array,
    mask_statistics,
    mask_theory,
    unit_statistics,
)

__all__ = [
    "HISTOGRAM_BINS",
    "IMAGE_METHODS",
    "VIEW",
    "ImageFrame",
    "ImageTheory",
    "ImageView",
    "frame_generator",
    "histogram_edges",
    "image_frame",
    "image_theory",
    "mask_statistics",
]

ImageTheory = MaskTheory
IMAGE_METHODS: tuple[str, ...] = (
    "standard",
    "gaussian",
    "spatial",
    "cutout",
    "dropblock",
    "stochastic",
)
# Methods that draw one unit per channel (the picture itself), not one per pixel.
_WHOLE_PICTURE = ("spatial", "cutout")


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


def _check(method_id: str) -> None:
    if method_id not in IMAGE_METHODS:
        raise KeyError(
            f"{method_id!r} has no image view; image methods: {', '.join(IMAGE_METHODS)}"
        )


def _target(method_id: str, image: Tensor) -> Tensor:
    """What the method's masker is applied to: the picture, or one plane of its pixels."""
    if method_id in _WHOLE_PICTURE:
        return image
    return image.new_ones((1, *image.shape[-2:]))


def image_theory(
    method_id: str, params: Mapping[str, ParamValue], height: int, width: int
) -> ImageTheory:
    """The expected statistics of ``method_id`` on an ``H x W`` picture."""
    _check(method_id)
    shape = (3, height, width) if method_id == "spatial" else (1, height, width)
    # Only the shape matters for the image methods: an empty tensor of it stands in.
    return mask_theory(method_id, params, torch.empty(shape), element="pixel", channel="channel")


def image_frame(
    method_id: str,
    image: Tensor,
    params: Mapping[str, ParamValue],
    seed: int,
    iteration: int,
    theory: ImageTheory,
) -> ImageFrame:
    """Iteration ``iteration`` of ``method_id`` on ``image`` ``(3, H, W)``, with its statistics."""
    _check(method_id)
    mask, p_t = MASKERS[method_id](
        _target(method_id, image), params, frame_generator(seed, iteration)
    )
    # p = 0 and friends return a constant (1, 1, 1) mask: give every frame the unit's shape.
    unit_shape = (1, *image.shape[-2:]) if theory.unit == "pixel" else (image.shape[0], 1, 1)
    mask = mask.expand(unit_shape)
    input_mean = float(image.mean())
    output_mean = float((image * mask).mean())
    dropped, mean, variance, histogram = unit_statistics(mask.flatten().double(), theory)
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


def frame_stats(frame: ImageFrame) -> dict[str, Json]:
    """An image frame's statistics as the page reads them."""
    return {
        "dropped_fraction": frame.dropped_fraction,
        "mask_mean": frame.mask_mean,
        "mask_variance": frame.mask_variance,
        "output_mean_ratio": frame.output_mean_ratio,
        "histogram": list(frame.histogram),
        "p_t": frame.p_t,
    }


class ImageView(MaskView):
    """The picture, its mask, the output at training time and at test time."""

    id: ClassVar[str] = "image"
    methods: ClassVar[tuple[str, ...]] = IMAGE_METHODS

    def scene(self, picture: Tensor | None) -> Scene:
        if picture is None:
            raise ValueError("the image view needs a picture")
        return Scene(picture, {"width": picture.shape[-1], "height": picture.shape[-2]})

    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> MaskTheory:
        picture: Tensor = scene.data
        return image_theory(method_id, params, picture.shape[-2], picture.shape[-1])

    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: MaskTheory,
    ) -> Frame:
        frame = image_frame(method_id, scene.data, params, seed, iteration, theory)
        return Frame(iteration, frame_stats(frame), {"mask": mask_array(frame.mask, theory)})


VIEW = ImageView()
