"""The compression view's training run over Server-Sent Events: the network with sparse
variational dropout (or structured Bayesian pruning) trained in the server, with the dense
reference beside it (:mod:`dropouts.lab.compression`), on the shared machinery of
:mod:`app.streaming`.

``GET /api/train/compression?method=compression&<threshold>&<the compression view's
parameters>&seed=…`` validates everything against the registry first (a bad query is a plain
4xx JSON answer naming the field), then streams:

- ``info`` at once, before any training step: the setup, the data set and the network;
- ``progress`` at each of the run's 100 checkpoints (step 0 first, before the first step): the
  loss split into its data term (the mean cross-entropy of the minibatches since the previous
  checkpoint) and its KL term (KL / N, and the weight the warm-up gives it), the test
  accuracy before and after pruning at the query's threshold, the pruned share, and the dense
  reference's accuracy;
- ``done`` with the trained network's figures at the threshold (or ``error``).

The run is the one the frames show (``trained_compression``: memoised, and followed rather than
trained twice when the frames asked first); the threshold prunes it without changing it, so a
new threshold needs no new run. The stream stops when the client goes away; the run stops with
it unless a frames request waits for it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sse_starlette import EventSourceResponse

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
from dropouts.lab.registry import SEED, ParamValue, get_view
from dropouts.lab.views import BUILT

from ..schemas import ErrorOut
from ..streaming import Admit, Post, Stopped, stream_run
from .api import lookup_method, method_params

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})

DECIMALS = 4


def _rounded(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, DECIMALS)


def info_json(
    setup: CompressionSetup, data: CompressionData, params: dict[str, ParamValue]
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


Seed = Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)]


@router.get(
    "/train/compression",
    summary="Train the compression view's network: sparse VD or structured BP (SSE)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def get_train_compression(
    request: Request,
    method: Annotated[str, Query(description="compression (the only method of the view).")] = (
        "compression"
    ),
    seed: Seed = 0,
) -> Response:
    """Also takes the method's ``threshold`` and the compression view's parameters
    (``dataset``, ``variant``, ``snr``, ``width``, ``depth``, ``epochs``, ``lr``, ``warmup``), as
    listed by ``/api/methods``. Events: ``info`` (the setup and the data set), ``progress`` (a
    checkpoint: the data and KL terms of the loss, accuracies, the pruned share), ``done`` (the
    trained network's figures), or ``error`` ``{"error": {…}}``. Close the request to stop the
    run. 503 with ``Retry-After`` when the server trains its limit of runs already."""
    chosen = lookup_method(method, BUILT["compression"])
    params = method_params(request, chosen, get_view("compression"))
    setup = CompressionSetup.from_params(params, seed)
    check_training_budget(setup)  # a plain 422 naming the field, before any stream
    data = compression_data(setup.dataset)
    threshold = float(params["threshold"])  # type: ignore[arg-type]
    snr = float(params["snr"])  # type: ignore[arg-type]

    def work(post: Post, stopped: Stopped, admit: Admit) -> None:
        def progress(checkpoint: Checkpoint) -> None:
            if not stopped():
                post("progress", progress_json(checkpoint, setup, data, threshold, snr))

        run = COMPRESSION_RUNS.get(setup, progress=progress, cancelled=stopped, admit=admit)
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

    trains = COMPRESSION_RUNS.ready(setup) is None and COMPRESSION_RUNS.progress(setup) is None
    first = [("info", info_json(setup, data, params))]
    return stream_run(request, first, work, trains=trains)
