"""What a compression run depends on (:mod:`dropouts.lab.compression`): :class:`CompressionSetup`,
validated against the registry's ``compression`` view, the seeds derived from it, and the steps
of its :data:`CHECKPOINTS` checkpoints, evenly spaced from step 0 (as initialised) to the last
step: the view's iterations (:mod:`dropouts.lab.views.compression`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

import torch

from dropouts.lab.compression.data import CompressionData, compression_data
from dropouts.lab.registry import ParamError, ParamValue, get_view, validate_view_params

Variant = Literal["svdo", "sbp"]
VARIANTS: tuple[Variant, ...] = ("svdo", "sbp")
TRAINING_PARAMS = ("dataset", "variant", "width", "depth", "epochs", "lr", "warmup")
BATCH = 128
CHECKPOINTS = 100  # the view's iterations: 0 (as initialised) … 99 (the trained network)


def _seed(*parts: object) -> int:
    """A 63-bit seed derived from ``parts``: independent streams for the weights, the
    minibatches and the noise."""
    digest = hashlib.blake2b(repr(("compression", *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _generator(*parts: object) -> torch.Generator:
    return torch.Generator().manual_seed(_seed(*parts))


def _defaults() -> dict[str, ParamValue]:
    return {param.name: param.default for param in get_view("compression").params}


_DEFAULTS = _defaults()


@dataclass(frozen=True)
class CompressionSetup:
    """Everything a run depends on; frozen and hashable (the cache key). Not in it: the
    thresholds, which prune a trained network without changing it. Validated against the
    registry's ``compression`` view on construction (``ParamError`` naming the field)."""

    dataset: str = cast(str, _DEFAULTS["dataset"])
    variant: str = cast(str, _DEFAULTS["variant"])
    width: int = cast(int, _DEFAULTS["width"])
    depth: int = cast(int, _DEFAULTS["depth"])
    epochs: int = cast(int, _DEFAULTS["epochs"])
    lr: float = cast(float, _DEFAULTS["lr"])
    warmup: float = cast(float, _DEFAULTS["warmup"])
    seed: int = 0

    def __post_init__(self) -> None:
        values = validate_view_params(get_view("compression"), self.view_params())
        object.__setattr__(self, "dataset", str(values["dataset"]))
        object.__setattr__(self, "variant", str(values["variant"]))
        object.__setattr__(self, "width", int(cast(int, values["width"])))
        object.__setattr__(self, "depth", int(cast(int, values["depth"])))
        object.__setattr__(self, "epochs", int(cast(int, values["epochs"])))
        object.__setattr__(self, "lr", float(cast(float, values["lr"])))
        object.__setattr__(self, "warmup", float(cast(float, values["warmup"])))
        if isinstance(self.seed, bool) or not 0 <= int(self.seed) < 2**63:
            raise ParamError("seed", f"{self.seed!r} is out of range", "0 to 2**63 - 1")
        object.__setattr__(self, "seed", int(self.seed))

    def view_params(self) -> dict[str, ParamValue]:
        """The training parameters under the registry's names."""
        return {name: getattr(self, name) for name in TRAINING_PARAMS}

    @classmethod
    def from_params(
        cls, params: Mapping[str, ParamValue], seed: int | None = None
    ) -> CompressionSetup:
        """The setup from a merged parameter dict (the method's ``threshold`` and the view's
        ``snr`` are ignored; missing training parameters take the registry's defaults);
        ``seed``: the argument, else ``params["seed"]``, else 0."""
        values = validate_view_params(
            get_view("compression"), {k: v for k, v in params.items() if k in TRAINING_PARAMS}
        )
        if seed is None:
            seed = int(cast(int, params.get("seed", 0) or 0))
        return cls(
            dataset=str(values["dataset"]),
            variant=str(values["variant"]),
            width=int(cast(int, values["width"])),
            depth=int(cast(int, values["depth"])),
            epochs=int(cast(int, values["epochs"])),
            lr=float(cast(float, values["lr"])),
            warmup=float(cast(float, values["warmup"])),
            seed=seed,
        )

    def sizes(self, data: CompressionData | None = None) -> tuple[int, ...]:
        """Neurons per layer, input to output."""
        data = data or compression_data(self.dataset)
        return (data.features, *([self.width] * self.depth), data.classes)

    def steps_per_epoch(self) -> int:
        return math.ceil(int(compression_data(self.dataset).y_train.shape[0]) / BATCH)

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch()


def checkpoint_steps(setup: CompressionSetup) -> tuple[int, ...]:
    """The steps of the :data:`CHECKPOINTS` checkpoints: 0, evenly spaced, the last step."""
    total = setup.steps
    return tuple(round(k * total / (CHECKPOINTS - 1)) for k in range(CHECKPOINTS))
