"""The compression view's training: the network with sparse variational dropout (Molchanov et
al., 2017, "Variational Dropout Sparsifies Deep Neural Networks", ICML) or structured Bayesian
pruning (Neklyudov et al., 2017, "Structured Bayesian Pruning via Log-Normal Multiplicative
Noise", NeurIPS), with the dense reference beside it (:mod:`dropouts.lab.compression`).

Its events:

- ``info`` at once, before any training step: the setup, the data set and the network;
- ``progress`` at each of the run's 100 checkpoints (step 0 first, before the first step): the
  loss split into its data term (the mean cross-entropy of the minibatches since the previous
  checkpoint) and its KL term (KL / N, and the weight the warm-up gives it), the test
  accuracy before and after pruning at the query's threshold, the pruned share, and the dense
  reference's accuracy;
- ``done`` with the trained network's figures at the threshold.

The run is the one the frames show (:data:`dropouts.lab.compression.COMPRESSION_RUNS`); the
threshold prunes it without changing it, so a new threshold needs no new run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from dropouts.lab.compression import (
    BATCH,
    COMPRESSION_RUNS,
    Checkpoint,
    CompressionData,
    CompressionSetup,
    check_training_budget,
    checkpoint_steps,
    compression_data,
    pruning,
)
from dropouts.lab.flights import Admit
from dropouts.lab.registry import ParamValue
from dropouts.lab.trained.base import (
    DECIMALS,
    Post,
    Stopped,
    Stream,
    Training,
    follow,
    needs_training,
)


def _rounded(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, DECIMALS)


def info_json(
    setup: CompressionSetup, data: CompressionData, params: Mapping[str, ParamValue]
) -> dict[str, Any]:
    """The ``info`` event: the setup (the training parameters under the registry's names, the
    seed, the thresholds), the data set, the network's sizes and the checkpoints' steps."""
    return {
        "training": setup.view_params(),
        "seed": setup.seed,
        "threshold": params["threshold"],
        "snr": params["snr"],
        "dataset": setup.dataset,
        "variant": setup.variant,
        "n_train": int(data.y_train.shape[0]),
        "n_test": int(data.y_test.shape[0]),
        "features": data.features,
        "classes": data.classes,
        "sizes": list(setup.sizes(data)),
        "batch": BATCH,
        "steps": setup.steps,
        "epochs": setup.epochs,
        "checkpoint_steps": list(checkpoint_steps(setup)),
    }


def progress_json(
    checkpoint: Checkpoint, setup: CompressionSetup, data: CompressionData, threshold: float,
    snr: float,
) -> dict[str, Any]:  # fmt: skip
    """A ``progress`` event: one checkpoint, pruned at the query's threshold."""
    pruned = pruning(checkpoint, setup.variant, data, threshold=threshold, snr=snr)
    return {
        "checkpoint": checkpoint.index,
        "step": checkpoint.step,
        "epoch": round(checkpoint.epoch, 3),
        "data_term": _rounded(checkpoint.data_term),
        "kl_term": _rounded(checkpoint.kl_term),
        "kl_weight": _rounded(checkpoint.kl_weight),
        "loss": _rounded(checkpoint.loss),
        "baseline_data_term": _rounded(checkpoint.baseline_data_term),
        "accuracy_before": _rounded(pruned.accuracy_before),
        "accuracy_after": _rounded(pruned.accuracy_after),
        "baseline_accuracy": _rounded(checkpoint.baseline_accuracy),
        "pruned_share": _rounded(pruned.pruned_share),
        "dropped_fraction": _rounded(pruned.dropped_fraction),
        "compression": _rounded(pruned.compression),
        "widths_after": list(pruned.widths_after),
    }


class CompressionTraining(Training):
    """The run of :class:`~dropouts.lab.compression.CompressionSetup`, pruned at the query's
    ``threshold`` (and ``snr``) as it goes."""

    default_method: ClassVar[str | None] = "compression"
    summary: ClassVar[str] = "the compression view's network: sparse VD or structured BP"

    def stream(self, method_id: str | None, params: Mapping[str, ParamValue], seed: int) -> Stream:
        setup = CompressionSetup.from_params(params, seed)
        check_training_budget(setup)  # a plain 422 naming the field, before any stream
        data = compression_data(setup.dataset)
        threshold = float(params["threshold"])  # type: ignore[arg-type]
        snr = float(params["snr"])  # type: ignore[arg-type]

        def work(post: Post, stopped: Stopped, admit: Admit) -> None:
            def event(checkpoint: Checkpoint) -> tuple[str, dict[str, Any]]:
                return "progress", progress_json(checkpoint, setup, data, threshold, snr)

            run = follow(COMPRESSION_RUNS, setup, post, stopped, admit, event)
            if stopped():
                return
            final = pruning(run.final, setup.variant, data, threshold=threshold, snr=snr)
            post(
                "done",
                {
                    "step": run.final.step,
                    "pruned_share": _rounded(final.pruned_share),
                    "dropped_fraction": _rounded(final.dropped_fraction),
                    "accuracy_before": _rounded(final.accuracy_before),
                    "accuracy_after": _rounded(final.accuracy_after),
                    "baseline_accuracy": _rounded(run.final.baseline_accuracy),
                    "compression": _rounded(final.compression),
                    "widths_before": list(final.widths_before),
                    "widths_after": list(final.widths_after),
                },
            )

        first = [("info", info_json(setup, data, params))]
        return Stream(first, work, trains=needs_training(COMPRESSION_RUNS, setup))


TRAINING = CompressionTraining()
