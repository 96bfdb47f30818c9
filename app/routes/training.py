"""Training in the server over Server-Sent Events: one route for every view that trains.

``GET /api/train?view=<id>&method=…&<the method's and the view's parameters>&seed=…`` looks up
the view's declared training (:attr:`dropouts.lab.views.base.View.training`,
:mod:`dropouts.lab.trained`), validates everything against the registry first (a bad query is
a plain 4xx JSON answer naming the field; a view that trains nothing names ``view`` and the
views that train), then streams what the training declares: its first events at once (the
setup and the data), then its progress as it trains, then ``done`` (or ``error`` with the
usual error body if training failed).

Older addresses keep working, without a table of them: without ``view`` it is the first view
of the method that trains (``/api/train?method=standard…`` is the dense view, as older links
mean), and ``/api/train/<name>`` is the view of that id or of that training's own name
(:attr:`dropouts.lab.trained.Training.name`): ``/api/train/uncertainty``,
``/api/train/compression``, ``/api/train/memory`` (the lstm view's memory task).

There is no job registry: the run lives on its request alone and is decided by its query, so
any worker can serve it and the same query replays it. It trains in a worker thread that stops
at the next step when the client goes away (a new run from the same page aborts the old
request). At most ``Settings.max_training_runs`` runs train at once per process; past that the
answer is 503 with ``Retry-After``. ``GET /api/train/runs`` says how many are training now.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sse_starlette import EventSourceResponse

from dropouts.lab.registry import METHODS_BY_ID, SEED, get_view, validate_view_params
from dropouts.lab.trained import Training
from dropouts.lab.views import BUILT, trainings

from ..errors import ApiError
from ..schemas import ErrorOut
from ..state import first_values
from ..streaming import runs_of, stream_run
from .api import lookup_method, method_params

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})

# The views that train, by id, and their trainings; the same by the trainings' own names.
TRAINED: dict[str, Training] = trainings()
NAMED: dict[str, str] = {t.name: view_id for view_id, t in TRAINED.items() if t.name is not None}
# The methods a link without ``view`` may name: those of a view that trains.
TRAINING_METHODS = tuple(
    m for m, method in METHODS_BY_ID.items() if set(method.views) & set(TRAINED)
)
NOT_VIEW_PARAMS = frozenset({"seed", "view"})  # of a training that takes no method

Seed = Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)]
Method = Annotated[
    str | None,
    Query(description="A method of the view (the view's default when it has one)."),
]
STREAM_DOC = {
    "response_class": EventSourceResponse,
    "responses": {200: {"content": {"text/event-stream": {}}}},
}


def _training(view_id: str) -> Training:
    training = TRAINED.get(view_id)
    if training is None:
        known = "no view" if view_id not in BUILT else "the view trains nothing:"
        raise ApiError(422, "view", f"{known} {view_id!r}", ", ".join(TRAINED))
    return training


def _view_of_method(method: str | None) -> str:
    """Without ``view`` (older links): the first view of ``method`` that trains."""
    views = METHODS_BY_ID[method].views if method in METHODS_BY_ID else ()
    trained = [view_id for view_id in views if view_id in TRAINED]
    if not trained:
        given = f"no view trains {method!r}" if method else "a method (or a view) is required"
        raise ApiError(422, "method", given, ", ".join(TRAINING_METHODS))
    return trained[0]


def serve(request: Request, view_id: str, method: str | None, seed: int) -> Response:
    """The training stream of view ``view_id``: validated, then streamed."""
    training = _training(view_id)
    view, spec = BUILT[view_id], get_view(view_id)
    method_id: str | None = None
    if training.takes_method:
        method_id = method or training.default_method
        if method_id is None:
            raise ApiError(422, "method", "a method is required", ", ".join(view.methods))
        training.check_method(method_id)
        chosen = lookup_method(method_id, view)
        method_id = chosen.id
        params = method_params(request, chosen, spec)
    else:
        query = first_values(request.query_params.multi_items())
        given = {key: value for key, value in query.items() if key not in NOT_VIEW_PARAMS}
        params = validate_view_params(spec, given)
    stream = training.stream(method_id, params, seed)
    return stream_run(request, stream.first, stream.work, trains=stream.trains)


@router.get(
    "/train",
    summary="Train a view's network in the server and stream its progress (SSE)",
    **STREAM_DOC,  # type: ignore[arg-type]
)
async def get_train(
    request: Request,
    view: Annotated[
        str | None,
        Query(
            description="A view that trains: "
            + ", ".join(TRAINED)
            + " (when absent: the first view of the method that trains)."
        ),
    ] = None,
    method: Method = None,
    seed: Seed = 0,
) -> Response:
    """Also takes the method's parameters (``p=0.3``…) and the view's, as listed by
    ``/api/methods`` (the lstm view's memory task takes no method). Events: the view's first
    events (``info``: the setup and the data), its progress (``snapshot`` or ``progress``, and
    the memory task's ``trained``), then ``done``, or ``error`` ``{"error": {…}}``. Close the
    request to stop the run. 503 with ``Retry-After`` when the server trains its limit of runs
    already."""
    return serve(request, view or _view_of_method(method), method, seed)


@router.get("/train/runs", summary="How many training runs this process trains now")
def get_runs(request: Request) -> dict[str, int]:
    runs = runs_of(request.app)
    return {"training": runs.active, "limit": runs.limit}


NAMES = sorted({*TRAINED, *NAMED})


@router.get(
    "/train/{name}",
    summary="The same stream at its older address: /api/train?view=<name>",
    **STREAM_DOC,  # type: ignore[arg-type]
)
async def get_train_named(
    request: Request,
    name: Annotated[
        str,
        Path(description="A view that trains, or its training's own name: " + ", ".join(NAMES)),
    ],
    method: Method = None,
    seed: Seed = 0,
) -> Response:
    """``/api/train?view=<id>&…`` at its older address: ``/api/train/uncertainty``,
    ``/api/train/compression``, ``/api/train/memory`` (the lstm view's memory task). A ``view``
    in the query changes nothing."""
    view_id = NAMED.get(name, name)
    if view_id not in TRAINED:
        raise ApiError(404, "name", f"no training {name!r}", ", ".join(NAMES))
    return serve(request, view_id, method, seed)
