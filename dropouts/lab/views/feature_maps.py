"""The feature-map view: a method applied to the maps of a convolutional stage.

The current picture runs through :mod:`dropouts.lab.views.features` (eight fixed filters, ReLU,
2 x 2 max pooling); the method then acts on the pooled maps ``(C, h, w)``, where a CNN puts its
dropout: after the nonlinearity, before the next layer. Units are activations, and for spatial
dropout whole maps:

- standard, Gaussian and stochastic dropout: one draw per activation;
- spatial dropout: one draw per map (mask ``(C, 1, 1)``);
- Cutout: the same holes on every map (mask ``(1, h, w)``), as when the input is cut;
- DropBlock: blocks drawn independently on each map, as in Ghiasi et al.'s Algorithm 1 and in
  torchvision and timm (the paper found per-channel masks to work better than shared ones);
- Max-Drop: the maxima of the actual maps (feature-wise: of each map; channel-wise: the
  strongest map at each position).

Sizes (``size``, ``block_size``, ``window``) are in map units here, not picture pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from torch import Tensor

from dropouts.lab.registry import ParamValue
from dropouts.lab.views.base import ByteArray, Frame, Json, Scene, frame_generator
from dropouts.lab.views.features import POOL, STAGE_SIDE, FeatureStage, filter_bank, run_stage
from dropouts.lab.views.masks import (
    MASKERS,
    MaskTheory,
    MaskView,
    mask_array,
    mask_theory,
    unit_statistics,
)

FEATURE_MAP_METHODS: tuple[str, ...] = (
    "standard",
    "gaussian",
    "spatial",
    "cutout",
    "dropblock",
    "maxdrop",
    "stochastic",
)
MAP_LEVELS = 16  # levels of a noise mask on the maps: 8 maps at 32 levels would pass 60 KB


def _unit_shape(method_id: str, maps: Tensor) -> tuple[int, int, int]:
    channels, height, width = maps.shape
    if method_id == "spatial":
        return channels, 1, 1
    if method_id == "cutout":
        return 1, height, width
    return channels, height, width


def stage_info(stage: FeatureStage) -> dict[str, Json]:
    """The stage as the page describes it: sizes, the filters and where each map peaks."""
    channels, height, width = stage.maps.shape
    peaks = stage.maps.reshape(channels, -1).argmax(dim=1).tolist()
    return {
        "width": width,
        "height": height,
        "channels": channels,
        "stage_width": stage.picture.shape[-1],
        "stage_height": stage.picture.shape[-2],
        "stage_side": STAGE_SIDE,
        "pool": POOL,
        "filters": [
            {
                "id": f.id,
                "label": f.label,
                "detail": f.detail,
                "size": f.kernel.shape[-1],
                "kernel": f.kernel.tolist(),  # (3, k, k): weights on R, G, B
            }
            for f in filter_bank()
        ],
        "peaks": [divmod(int(index), width) for index in peaks],  # (row, column) of each max
        "map_max": [float(v) for v in stage.maps.amax(dim=(1, 2))],
    }


class FeatureMapView(MaskView):
    """Eight feature maps of a fixed convolutional stage, and the method's mask on them."""

    id: ClassVar[str] = "feature_maps"
    methods: ClassVar[tuple[str, ...]] = FEATURE_MAP_METHODS

    def scene(self, picture: Tensor | None) -> Scene:
        if picture is None:
            raise ValueError("the feature-map view needs a picture")
        stage = run_stage(picture)  # only the pooled maps are kept: what dropout acts on
        return Scene(stage.maps, stage_info(stage), {"maps": ByteArray(stage.maps)})

    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> MaskTheory:
        self.check_method(method_id)
        maps: Tensor = scene.data
        return mask_theory(method_id, params, maps, element="activation", channel="map")

    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: MaskTheory,
    ) -> Frame:
        self.check_method(method_id)
        maps: Tensor = scene.data
        mask, p_t = MASKERS[method_id](maps, params, frame_generator(seed, iteration))
        mask = mask.expand(_unit_shape(method_id, maps)).float()
        dropped, mean, variance, histogram = unit_statistics(mask.flatten().double(), theory)
        total = float(maps.sum())
        stats: dict[str, Json] = {
            "dropped_fraction": dropped,
            "mask_mean": mean,
            "mask_variance": variance,
            "output_mean_ratio": float((maps * mask).sum()) / total if total > 0 else 1.0,
            "histogram": list(histogram),
            "p_t": p_t,
        }
        if method_id == "maxdrop":
            stats["maxima_dropped"] = _maxima_dropped(maps, mask)
        return Frame(iteration, stats, {"mask": mask_array(mask, theory, MAP_LEVELS)})


def _maxima_dropped(maps: Tensor, mask: Tensor) -> list[bool]:
    """For each map: whether its (first) maximum was zeroed this iteration."""
    channels = maps.shape[0]
    peaks = maps.reshape(channels, -1).argmax(dim=1, keepdim=True)
    at_peak = mask.expand_as(maps).reshape(channels, -1).gather(1, peaks)
    return [bool(v == 0) for v in at_peak.flatten().tolist()]


VIEW = FeatureMapView()
