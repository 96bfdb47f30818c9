"""The uncertainty view's training run over Server-Sent Events: the small network trained with
dropout in the server (:mod:`dropouts.lab.uncertainty`), on :func:`app.streaming.stream_run`.

``GET /api/train/uncertainty?method=mc_dropout&<p, T>&<the uncertainty view's parameters>&seed=…``
validates everything against the registry first (a bad query is a plain 4xx JSON answer naming
the field), then streams:

- ``info`` at once, before any training step: the setup, ``τ``, the snapshot steps and the
  data (the page plots the points while the network trains);
- ``snapshot`` at step 0 and then every few steps: the eval-mode losses (and accuracies), the
  training objective, and the Monte Carlo estimate of 20 passes on the grid;
- ``done`` after the last step (or ``error`` with the usual error body if training failed).

The network trained is the one the frames of ``/api/frames?view=uncertainty`` use: both go
through :func:`dropouts.lab.uncertainty.trained_model` (memoised by setting and seed; a request for
a setting under training waits for that run). A setting trained already is replayed from its
record at once. The run stops at the next step when the client goes away, and counts among the
process's ``Settings.max_training_runs`` (503 with ``Retry-After`` past it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sse_starlette import EventSourceResponse

from dropouts.lab import uncertainty as U
from dropouts.lab.registry import SEED, get_view
from dropouts.lab.views import BUILT

from ..schemas import ErrorOut
from ..streaming import Admit, Post, Stopped, stream_run
from .api import lookup_method, method_params

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})

DECIMALS = 4


def _rounded(values: Any, decimals: int = DECIMALS) -> Any:
    return values.double().round(decimals=decimals).tolist()


def info_json(setup: U.UncertaintySetup, data: U.Data, lengthscale: float) -> dict[str, Any]:
    """The ``info`` event: the setup under the registry's names, ``tau`` and ``tau_inverse``
    (regression; null for classification), the snapshot steps, the training and test points
    (``{"x": [[…], …], "y": […]}``), and the grid: the x values of the curves (regression) or
    ``grid`` (its side) and ``extent`` ``[x_min, x_max, y_min, y_max]`` (classification)."""
    regression = setup.task == "regression"
    tau = U.tau(setup.p, lengthscale, setup.n_train, setup.weight_decay) if regression else None

    def points(x: Any, y: Any) -> dict[str, Any]:
        return {"x": _rounded(x), "y": _rounded(y) if regression else y.tolist()}

    info: dict[str, Any] = {
        "task": setup.task,
        "p": setup.p,
        "training": {
            "n_train": setup.n_train,
            "noise": setup.noise,
            "dataset": setup.dataset,
            "steps": setup.steps,
            "weight_decay": setup.weight_decay,
            "lengthscale": lengthscale,
        },
        "network": {"width": setup.width, "depth": setup.depth, "lr": setup.lr},
        "seed": setup.seed,
        "tau": tau,
        "tau_inverse": None if tau is None else 1.0 / tau,
        "snapshot_passes": U.SNAPSHOT_PASSES,
        "steps": setup.steps,
        "snapshot_steps": list(U.snapshot_steps(setup)),
        "train": points(data.x_train, data.y_train),
        "test": points(data.x_test, data.y_test),
    }
    if regression:
        grid = data.grid[:, 0]
        return info | {
            "grid": _rounded(grid),
            "truth": _rounded(U.sine(grid)),
            "gap": list(U.GAP),
            "domain": list(U.DOMAIN),
        }
    return info | {"grid": U.CLASS_GRID, "extent": list(data.extent)}


def snapshot_json(snapshot: U.Snapshot, task: str) -> dict[str, Any]:
    """The ``snapshot`` event: ``step``, the eval-mode ``train_loss`` and ``test_loss`` (mean
    squared error, or cross-entropy with ``train_accuracy`` and ``test_accuracy``), the
    ``objective`` of the last step (null at step 0), and the Monte Carlo estimate of the
    snapshot's passes: ``mean`` and ``std`` on the grid (regression: the model's spread,
    without τ⁻¹), or ``boundary``, the averaged P(class 1) in whole percents, G rows (y up)
    of G values (x right)."""

    def value(number: float | None) -> float | None:
        return None if number is None else round(number, DECIMALS)

    out: dict[str, Any] = {
        "step": snapshot.step,
        "train_loss": value(snapshot.train_loss),
        "test_loss": value(snapshot.test_loss),
        "train_accuracy": value(snapshot.train_accuracy),
        "test_accuracy": value(snapshot.test_accuracy),
        "objective": value(snapshot.objective),
    }
    if task == "regression":
        return out | {"mean": _rounded(snapshot.mean), "std": _rounded(snapshot.std)}
    return out | {"boundary": snapshot.mean.mul(100).round().int().tolist()}


Seed = Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)]


@router.get(
    "/train/uncertainty",
    summary="Train the uncertainty view's network with dropout (SSE)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def get_train_uncertainty(
    request: Request,
    method: Annotated[str, Query(description="A method with the uncertainty view.")] = "mc_dropout",
    seed: Seed = 0,
) -> Response:
    """Also takes the method's parameters (``p``, ``T``) and the uncertainty view's (``task``,
    ``n_train``, ``noise``, ``dataset``, ``steps``, ``weight_decay``, ``lengthscale``), as
    listed by ``/api/methods``. Events: ``info`` (the setup and the data), ``snapshot`` (the
    network at a step), ``done`` ``{"step"}``, or ``error`` ``{"error": {…}}``.
    Close the request to stop the run. 503 with ``Retry-After`` when the server trains its
    limit of runs already."""
    chosen = lookup_method(method, BUILT["uncertainty"])
    params = method_params(request, chosen, get_view("uncertainty"))
    setup = U.UncertaintySetup.from_params(params, seed)
    lengthscale = float(params["lengthscale"])  # type: ignore[arg-type]
    data = U.make_data(setup)

    def work(post: Post, stopped: Stopped, admit: Admit) -> None:
        def progress(snapshot: U.Snapshot) -> None:
            if not stopped():
                post("snapshot", snapshot_json(snapshot, setup.task))

        runs = U.UNCERTAINTY_RUNS
        model = runs.get(setup, progress=progress, cancelled=stopped, admit=admit)
        if not stopped():
            post("done", {"step": model.history[-1].step})

    runs = U.UNCERTAINTY_RUNS
    trains = runs.ready(setup) is None and runs.progress(setup) is None
    first = [("info", info_json(setup, data, lengthscale))]
    return stream_run(request, first, work, trains=trains)
