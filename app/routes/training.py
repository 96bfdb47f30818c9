"""The dense view's training run over Server-Sent Events: the network with a dropout method and
without, trained side by side in the server (:mod:`dropouts.lab.training`).

``GET /api/train?method=…&<the method's parameters>&<the dense view's parameters>&seed=…``
validates everything against the registry first (a bad query is a plain 4xx JSON answer naming
the field), then streams:

- ``info`` at once, before any training step: the setup and the data (the page plots the
  points while the networks train);
- ``snapshot`` at step 0 and then every few steps (:func:`dropouts.lab.training.snapshot_steps`):
  both networks' losses, accuracies and decision boundaries;
- ``done`` after the last step (or ``error`` with the usual error body if training failed).

There is no job registry: the run lives on its request alone and is decided by its query, so
any worker can serve it and the same query replays it. It trains in a worker thread that stops
at the next step when the client goes away (a new run from the same page aborts the old
request). At most ``Settings.max_training_runs`` runs train at once per process; past that the
answer is 503 with ``Retry-After``. ``GET /api/train/runs`` says how many are training now.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import torch
from fastapi import APIRouter, Query, Request, Response
from sse_starlette import EventSourceResponse

from dropouts.lab.registry import SEED, get_method, get_view
from dropouts.lab.training import (
    DENSE_RUNS,
    GRID,
    Snapshot,
    TrainingData,
    TrainingSetup,
    activation_of,
    dense_methods,
    snapshot_steps,
    training_data,
)
from dropouts.lab.training.run import check_training_budget

from ..errors import ApiError
from ..schemas import ErrorOut
from ..streaming import Admit, Post, Stopped, runs_of, stream_run
from .api import method_params

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})
log = logging.getLogger("dropout_lab")

DECIMALS = 4  # coordinates and losses in the events


# ---------------------------------------------------------------- the events' payloads


def _rounded(values: list[float], decimals: int = DECIMALS) -> list[float]:
    return [round(value, decimals) for value in values]


def info_json(setup: TrainingSetup, data: TrainingData) -> dict[str, Any]:
    """The ``info`` event: the setup (the method's parameters, the training parameters under
    the registry's names, the seed), the snapshot steps, the grid and its extent
    ``[x_min, x_max, y_min, y_max]``, and the points ``{"x": [[x, y], …], "y": [label, …]}``
    of the training and the test set."""

    def points(x: Any, y: Any) -> dict[str, Any]:
        return {
            "x": [_rounded(row) for row in x.double().tolist()],
            "y": [int(label) for label in y.tolist()],
        }

    return {
        "method": setup.method,
        "params": setup.method_params,
        "training": setup.view_params(),
        "seed": setup.seed,
        "n_test": setup.n_test,
        "activation": activation_of(setup.method),
        "steps": setup.steps,
        "snapshot_steps": list(snapshot_steps(setup)),
        "grid": GRID,
        "extent": list(data.extent),
        "train": points(data.x_train, data.y_train),
        "test": points(data.x_test, data.y_test),
    }


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The ``snapshot`` event: ``step`` and, for ``dropout`` and ``baseline``, the eval-mode
    ``train_loss``, ``test_loss``, ``train_accuracy``, ``test_accuracy``, the training-mode
    ``objective`` of the last step (null at step 0) and ``boundary``: G rows (y from y_min up)
    of G values (x from x_min right) of P(class 1), in whole percents (0-100)."""

    def network(name: str) -> dict[str, Any]:
        shot = getattr(snapshot, name)
        percent = shot.boundary.mul(100).round_().to(torch.int32)
        return {
            "train_loss": round(shot.train_loss, DECIMALS),
            "test_loss": round(shot.test_loss, DECIMALS),
            "train_accuracy": round(shot.train_accuracy, DECIMALS),
            "test_accuracy": round(shot.test_accuracy, DECIMALS),
            "objective": None if shot.objective is None else round(shot.objective, DECIMALS),
            "boundary": percent.tolist(),
        }

    return {"step": snapshot.step, "dropout": network("dropout"), "baseline": network("baseline")}


# ---------------------------------------------------------------- the endpoints


Seed = Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)]


@router.get(
    "/train",
    summary="Train the dense network with the method and without, side by side (SSE)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def get_train(
    request: Request,
    method: Annotated[str, Query(description="A method with the dense view.")],
    seed: Seed = 0,
) -> Response:
    """Also takes the method's parameters (``p=0.3``…) and the dense view's (``dataset``,
    ``noise``, ``n_train``, ``train_width``, ``train_depth``, ``steps``, ``lr``; the
    diagram's ``network``, ``width`` and ``depth`` are accepted and ignored), as listed by
    ``/api/methods``. Events: ``info`` (the setup and the data), ``snapshot`` (both networks
    at a step), ``done`` ``{"step"}``, or ``error`` ``{"error": {…}}``. Close the request to
    stop the run. 503 with ``Retry-After`` when the server trains its limit of runs already."""
    allowed = ", ".join(dense_methods())
    try:
        chosen = get_method(method)
    except KeyError:
        raise ApiError(422, "method", f"unknown method {method!r}", allowed) from None
    if "dense" not in chosen.views:
        raise ApiError(422, "method", f"{chosen.id} does not train in the dense view", allowed)
    params = method_params(request, chosen, get_view("dense"))
    setup = TrainingSetup.from_params(chosen.id, params, seed)
    check_training_budget(setup)  # a plain 422 naming the field, before any stream
    data = training_data(setup)

    def work(post: Post, stopped: Stopped, admit: Admit) -> None:
        def progress(snapshot: Snapshot) -> None:
            if not stopped():
                post("snapshot", snapshot_json(snapshot))

        run = DENSE_RUNS.get(setup, progress=progress, cancelled=stopped, admit=admit)
        if not stopped():
            post("done", {"step": run.snapshots[-1].step})

    trains = DENSE_RUNS.ready(setup) is None and DENSE_RUNS.progress(setup) is None
    return stream_run(request, [("info", info_json(setup, data))], work, trains=trains)


@router.get("/train/runs", summary="How many training runs this process trains now")
def get_runs(request: Request) -> dict[str, int]:
    runs = runs_of(request.app)
    return {"training": runs.active, "limit": runs.limit}
