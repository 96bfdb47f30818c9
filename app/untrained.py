"""A request that must not train (a frame, a match, an export: they run under
:func:`dropouts.lab.flights.no_training`) of a setting whose network is not trained yet: 503 at
once, naming the training stream to open. The page opens it, shows the training's progress,
and asks again when it is done; a script can do the same. Only a training stream trains.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse

from dropouts.lab.flights import NotTrainedError
from dropouts.lab.views import trainings

from .errors import error_body

RETRY_AFTER_S = 2
TRAIN = "/api/train"  # the training stream of every view: ?view=<id>&… (app/routes/training.py)
TRAINED_VIEWS = frozenset(trainings())
STREAM_HEADER = "X-Training-Stream"


@contextmanager
def setting(view: str, method: str, params: Mapping[str, object], seed: int) -> Iterator[None]:
    """Within: a :class:`NotTrainedError` learns the setting it was raised for (the first one
    it meets, the innermost)."""
    try:
        yield
    except NotTrainedError as error:
        if error.setting is None:
            error.setting = (view, method, dict(params), seed)
        raise


def _value(value: object) -> str:
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def stream_url(error: NotTrainedError) -> str | None:
    """The training stream that trains what ``error`` lacks, or None if it cannot tell."""
    if error.setting is None or error.setting[0] not in TRAINED_VIEWS:
        return None
    view, method, params, seed = error.setting
    values = {k: _value(v) for k, v in params.items()}
    query = {"view": view, "method": method, **values, "seed": str(seed)}
    return f"{TRAIN}?{urlencode(query)}"


async def answer(_: Request, exception: Exception) -> JSONResponse:
    """503 with ``Retry-After`` and the stream to open (``X-Training-Stream`` and the body)."""
    assert isinstance(exception, NotTrainedError)
    url = stream_url(exception)
    allowed = f"open {url} and ask again when it is done" if url else "train it first"
    body: dict[str, object] = error_body("training", str(exception), allowed)
    body["training"] = {"stream": url, "progress": exception.progress}
    headers = {"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"}
    if url:
        headers[STREAM_HEADER] = url
    return JSONResponse(body, 503, headers=headers)
