"""The LSTM view's memory task over Server-Sent Events: a small LSTM trained with each recurrent
dropout mode on delayed recall (:mod:`dropouts.lab.memory`), its test accuracy against the distance
k streamed as it trains, on the shared machinery of :mod:`app.streaming`.

``GET /api/train/memory?<the lstm view's memory parameters>&seed=…`` validates everything
against the registry first (a bad query is a plain 4xx JSON answer naming the field), then
streams, for one run of every mode in turn (``none`` first, the reference):

- ``info`` at once, before any training step: the setup, the modes, the distances, chance;
- ``progress`` at each checkpoint of each mode (step 0 first, before its first step): the mode,
  the step, the mean training loss since the last checkpoint, the test accuracy per distance;
- ``trained`` when a mode is done: its final accuracy per distance;
- ``done`` with every mode's final accuracy, and its mean over the three longest distances
  (``longest``, ``long_accuracy``) (or ``error``).

Runs are memoised per setup and mode (``trained_mode``): a run already trained streams its
checkpoints at once. The stream stops when the client goes away, and the mode under training
with it (nothing of it is cached).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sse_starlette import EventSourceResponse

from dropouts.lab.memory import (
    BATCH,
    HIDDEN,
    LONG,
    MEMORY_MODES,
    MEMORY_PARAMS,
    MODE_NAMES,
    N_TEST,
    ZONEOUT_H,
    MemoryCheckpoint,
    MemorySetup,
    TrainingCancelledError,
    checkpoint_steps,
    long_distance_accuracy,
    trained_mode,
)
from dropouts.lab.registry import SEED, get_view, validate_view_params

from ..schemas import ErrorOut
from ..state import first_values
from ..streaming import Admit, Post, Stopped, place_to_train, stream_run

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})

DECIMALS = 4
RESERVED = frozenset({"seed"})


def _rounded(values: tuple[float, ...]) -> list[float]:
    return [round(value, DECIMALS) for value in values]


def info_json(setup: MemorySetup) -> dict[str, Any]:
    """The ``info`` event: the setup under the registry's names, the seed, the modes in the
    order they train, the distances 1..k, the sequence length, chance, the checkpoints' steps
    and the fixed sizes (units, minibatch, test sequences, zoneout's z_h)."""
    return {
        "training": setup.view_params(),
        "seed": setup.seed,
        "modes": list(MEMORY_MODES),
        "names": {mode: MODE_NAMES[mode] for mode in MEMORY_MODES},
        "distances": list(range(1, setup.k + 1)),
        "length": setup.length,
        "symbols": setup.symbols,
        "chance": 1.0 / setup.symbols,
        "p": setup.p,
        "steps": setup.steps,
        "checkpoint_steps": list(checkpoint_steps(setup)),
        "hidden": HIDDEN,
        "batch": BATCH,
        "n_test": N_TEST,
        "zoneout_h": ZONEOUT_H,
    }


def progress_json(checkpoint: MemoryCheckpoint) -> dict[str, Any]:
    """A ``progress`` event: one checkpoint of one mode."""
    return {
        "mode": checkpoint.mode,
        "checkpoint": checkpoint.index,
        "step": checkpoint.step,
        "loss": None if checkpoint.loss is None else round(checkpoint.loss, DECIMALS),
        "accuracy": _rounded(checkpoint.accuracy),
    }


Seed = Annotated[int, Query(ge=0, le=int(SEED.max or 0), description=SEED.help)]


@router.get(
    "/train/memory",
    summary="The LSTM memory task: accuracy against the distance k for every mode (SSE)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def get_train_memory(request: Request, seed: Seed = 0) -> Response:
    """Also takes the lstm view's memory parameters (``memory_p``, ``memory_k``,
    ``memory_symbols``, ``memory_steps``; its ``length`` and ``units`` are accepted and
    ignored), as listed by ``/api/methods``. Events: ``info`` (the setup), ``progress`` (a
    checkpoint of a mode: its accuracy per distance), ``trained`` (a mode's final accuracy),
    ``done`` (every mode's), or ``error`` ``{"error": {…}}``. Close the request to stop the
    run. 503 with ``Retry-After`` when the server trains its limit of runs already."""
    query = first_values(request.query_params.multi_items())
    given = {key: value for key, value in query.items() if key not in RESERVED}
    values = validate_view_params(get_view("lstm"), given)
    setup = MemorySetup.from_params({k: values[k] for k in MEMORY_PARAMS}, seed)

    def work(post: Post, stopped: Stopped, admit: Admit) -> None:
        with place_to_train(admit):
            train_modes(post, stopped)

    def train_modes(post: Post, stopped: Stopped) -> None:
        final: dict[str, list[float]] = {}
        for mode in MEMORY_MODES:

            def progress(checkpoint: MemoryCheckpoint) -> None:
                if not stopped():
                    post("progress", progress_json(checkpoint))

            try:
                run = trained_mode(setup, mode, progress=progress, cancelled=stopped)
            except TrainingCancelledError:
                return
            if stopped():
                return
            final[mode] = _rounded(run.accuracy)
            post("trained", {"mode": mode, "accuracy": final[mode]})
        longest = list(range(max(1, setup.k - LONG + 1), setup.k + 1))
        long_accuracy = {
            mode: round(long_distance_accuracy(a), DECIMALS) for mode, a in final.items()
        }
        post("done", {"accuracy": final, "longest": longest, "long_accuracy": long_accuracy})

    return stream_run(request, [("info", info_json(setup))], work)
