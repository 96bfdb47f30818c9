"""The compression view: a network trained with sparse variational dropout (or structured
Bayesian pruning), what it prunes at the threshold, and what the pruning costs.

The network is trained in the server (:mod:`dropouts.lab.compression`; deterministic in its
setting and seed, memoised, shared with the training stream). The page's slider, the method's
``threshold`` on ``log α`` (sparse VD) or the view's ``snr`` (structured BP), prunes the
trained network without training it again: pruning is a function of the trained ``log α`` (or
of the neurons' SNR).

**Iterations are training checkpoints.** Iteration ``i`` is the network after
``i / 99`` of the run (0: as initialised, 99: trained), one of the run's
:data:`~dropouts.lab.compression.CHECKPOINTS` evenly spaced checkpoints, pruned at the current
threshold. So playing the view plays the compression as it happens (the weights' ``log α``
climbing past the threshold, the connections vanishing, the accuracy holding), a GIF export
shows it, and the series chart is sparsity and accuracy over training. (The alternative,
the trained network's weights resampled from ``N(θ, α θ²)`` per iteration, would show only
that the pruned weights are noise, which the ``log α`` histogram already says, while hiding
how the run gets there.) A frame depends only on the setting, the seed and the iteration.

Each frame carries, per layer, the weights the heatmaps show (sparse VD's ``θ``; structured
BP's weights times the ``E[θ]`` of the neuron they read) and the kept weights, exactly those
with ``log α`` below the threshold (structured BP: between two neurons whose SNR is above its
threshold); its statistics: the pruned share, the test accuracy before and after pruning and the
dense reference's, the compression factor, the layer widths before and after, the terms of the
loss, and the ``log α`` histogram of each layer (structured BP: of each layer's input neurons,
``log α = −2 log SNR``). The theory holds the trained network's figures at the threshold and
the accuracy-sparsity curve over thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from dropouts.lab.compression import (
    CHECKPOINTS,
    LOG_ALPHA_CLIP,
    Checkpoint,
    CompressionRun,
    CompressionSetup,
    Pruning,
    checkpoint_steps,
    effective_weights,
    pruning,
    trained_compression,
)
from dropouts.lab.registry import ParamValue
from dropouts.lab.trained.compression import TRAINING
from dropouts.lab.views.base import (
    Array,
    BinaryArray,
    Frame,
    Json,
    JsonArray,
    LevelArray,
    Scene,
    View,
    number,
)

HISTOGRAM_BINS = 64  # of log α on [−8, 8]: 0.25 wide
WEIGHT_LEVELS = 255  # a weight travels as one of 255 levels on ±its layer's scale (0 exact)
DECIMALS = 4


def histogram_edges() -> list[float]:
    step = 2 * LOG_ALPHA_CLIP / HISTOGRAM_BINS
    return [-LOG_ALPHA_CLIP + step * k for k in range(HISTOGRAM_BINS + 1)]


def _histogram(values: Tensor) -> list[int]:
    clipped = values.double().clamp(-LOG_ALPHA_CLIP, LOG_ALPHA_CLIP).flatten()
    counts = torch.histc(clipped, bins=HISTOGRAM_BINS, min=-LOG_ALPHA_CLIP, max=LOG_ALPHA_CLIP)
    return [int(c) for c in counts.tolist()]


def neuron_log_alpha(snr: Tensor) -> Tensor:
    """Structured BP: a neuron's noise as a Gaussian dropout rate, ``log(Var θ / E[θ]²)`` =
    ``−2 log SNR``, on the axis of sparse VD's ``log α`` (SNR 1 is ``log α = 0``)."""
    return -2.0 * torch.log(snr.double())


def log_alphas(checkpoint: Checkpoint) -> list[Tensor]:
    """Per layer what the histogram counts: sparse VD's weights' ``log α``, structured BP's
    input neurons' ``−2 log SNR``."""
    if checkpoint.snr:
        return [neuron_log_alpha(snr) for snr in checkpoint.snr]
    return [layer.log_alpha for layer in checkpoint.layers if layer.log_alpha is not None]


def _rounded(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, DECIMALS)


@dataclass(frozen=True)
class CompressionTheory:
    run: CompressionRun
    variant: str
    threshold: float  # sparse VD: log α
    snr: float  # structured BP
    final: Pruning  # the trained network at the threshold


def figures(pruned: Pruning) -> dict[str, Json]:
    """A pruning's figures as the page reads them."""
    return {
        "pruned_share": _rounded(pruned.pruned_share),
        "dropped_fraction": _rounded(pruned.dropped_fraction),
        "accuracy_before": _rounded(pruned.accuracy_before),
        "accuracy_after": _rounded(pruned.accuracy_after),
        "compression": _rounded(pruned.compression),
        "weights": pruned.weights,
        "weights_kept": pruned.weights_kept,
        "widths_before": list(pruned.widths_before),
        "widths_after": list(pruned.widths_after),
        "layer_kept": [int(mask.sum()) for mask in pruned.kept],
        "layer_weights": [int(mask.numel()) for mask in pruned.kept],
    }


class CompressionView(View[CompressionTheory]):
    """Sparse VD and structured BP: a trained network, pruned at the threshold."""

    id: ClassVar[str] = "compression"
    methods: ClassVar[tuple[str, ...]] = ("compression",)
    needs_image: ClassVar[bool] = False
    max_iteration: ClassVar[int | None] = CHECKPOINTS
    training = TRAINING

    def scene(self, picture: Tensor | None) -> Scene:
        del picture  # the view draws no picture
        return Scene(None, {})

    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> CompressionTheory:
        self.check_method(method_id)
        setup = CompressionSetup.from_params(params, seed)
        run = trained_compression(setup)
        threshold = number(params, "threshold")
        snr = number(params, "snr")
        final = pruning(run.final, setup.variant, run.data, threshold=threshold, snr=snr)
        return CompressionTheory(run, setup.variant, threshold, snr, final)

    def expected_dropped_fraction(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> float:
        """What the trained network drops at the threshold (the last iteration's)."""
        return self.theory(method_id, params, scene, seed=seed).final.dropped_fraction

    def theory_json(self, theory: CompressionTheory) -> dict[str, Json]:
        run = theory.run
        setup = run.setup
        data = run.data
        structured = theory.variant == "sbp"
        return {
            "unit": "neuron" if structured else "connection",
            # The iterations are checkpoints of a run, not draws of one distribution: the
            # trained network's figures are under "final".
            "expected_dropped_fraction": None,
            "variant": theory.variant,
            "dataset": setup.dataset,
            "classes": data.classes,
            "features": data.features,
            "image_shape": list(data.image_shape) if data.image_shape else None,
            "n_train": int(data.y_train.shape[0]),
            "n_test": int(data.y_test.shape[0]),
            "sizes": list(run.sizes),
            "steps": setup.steps,
            "epochs": setup.epochs,
            "checkpoint_steps": list(checkpoint_steps(setup)),
            "threshold": theory.threshold,
            "snr": theory.snr,
            # where the histogram's line is drawn, on its log α axis
            "line": -2.0 * math.log(theory.snr) if structured else theory.threshold,
            "final": figures(theory.final) | {"baseline_accuracy": run.final.baseline_accuracy},
            "curve": {
                "parameter": "snr" if structured else "threshold",
                "values": [point[0] for point in run.curve],
                "pruned_share": [_rounded(point[1]) for point in run.curve],
                "accuracy": [_rounded(point[2]) for point in run.curve],
            },
            "histogram_edges": histogram_edges(),
            "weight_scale": list(run.weight_scale),
        }

    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: CompressionTheory,
    ) -> Frame:
        del seed  # the run's seed is in the theory
        run = theory.run
        checkpoint = run.checkpoints[iteration]
        pruned = pruning(
            checkpoint, theory.variant, run.data, threshold=theory.threshold, snr=theory.snr
        )
        stats: dict[str, Json] = figures(pruned) | {
            "step": checkpoint.step,
            "epoch": round(checkpoint.epoch, 3),
            "kl_weight": round(checkpoint.kl_weight, DECIMALS),
            "data_term": _rounded(checkpoint.data_term),
            "kl_term": _rounded(checkpoint.kl_term),
            "loss": _rounded(checkpoint.loss),
            "baseline_accuracy": _rounded(checkpoint.baseline_accuracy),
        }
        arrays: dict[str, Array] = {
            "histograms": JsonArray([_histogram(values) for values in log_alphas(checkpoint)]),
            "alive": JsonArray([[int(a) for a in layer.tolist()] for layer in pruned.alive]),
        }
        weights = effective_weights(checkpoint)
        for index, (weight, kept) in enumerate(zip(weights, pruned.kept, strict=True)):
            scale = run.weight_scale[index]
            arrays[f"weights_{index}"] = LevelArray(
                weight.detach().float()[None], -scale, scale, WEIGHT_LEVELS
            )
            arrays[f"kept_{index}"] = BinaryArray(kept.to(torch.float32)[None])
        if checkpoint.snr:
            arrays["neurons"] = JsonArray(
                {
                    "log_alpha": [
                        [round(float(v), 3) for v in neuron_log_alpha(snr).clamp(-99, 99)]
                        for snr in checkpoint.snr
                    ],
                    "kept": [
                        [int(k) for k in (snr > theory.snr).tolist()] for snr in checkpoint.snr
                    ],
                }
            )
        return Frame(iteration, stats, arrays)


VIEW = CompressionView()
