"""Exports over HTTP: the file itself, or the same file over Server-Sent Events with progress.

``GET /api/export?<the page's query>&format=gif|mp4|html&frames=…&size=WxH&fps=…&theme=…&stats=…``
answers the file (``Content-Disposition: attachment``); it is deterministic, so cacheable for
good. ``GET /api/export/events?<the same>`` renders it in a worker thread and streams
``progress`` events ``{"done": k, "total": N}``, then one ``file`` event ``{"name",
"media_type", "size", "data"}`` (``data`` in base64), or an ``error`` event with the error
body; closing the EventSource stops the rendering (there is no job to cancel: the work lives
on that request alone). A bad query is a plain 4xx JSON answer before any stream starts.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from sse_starlette import EventSourceResponse

from dropouts.lab.flights import NotTrainedError, no_training
from dropouts.lab.registry import ParamError
from dropouts.lab.views import View
from dropouts.lab.views.base import Scene

from ..errors import ApiError, error_body
from ..export import (
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    DEFAULT_SIZE,
    MAX_FPS,
    MAX_FRAMES,
    Export,
    ExportCancelledError,
    ExportOptions,
    option_names,
    parse_options,
    prepare,
    render_export,
)
from ..images import ImageStore, StoredImage
from ..render import drawn_views, renderer_of
from ..scenes import SceneCache
from ..schemas import ErrorOut
from ..state import LabState, first_values, parse_state
from .api import IMMUTABLE, scenes_of, store_of

router = APIRouter(prefix="/api", responses={422: {"model": ErrorOut}, 404: {"model": ErrorOut}})
log = logging.getLogger("dropout_lab")

FORMAT_HELP = "gif (looping), mp4 (H.264) or html (a standalone file that plays offline)."


def _query(request: Request) -> dict[str, str]:
    return first_values(request.query_params.multi_items())


def _prepared(request: Request, store: ImageStore) -> tuple[LabState, ExportOptions, StoredImage]:
    """The state, the options and the picture; ``ApiError``/``ParamError`` naming the field."""
    query = _query(request)
    state = parse_state(query, ignore=option_names(query))
    if renderer_of(state.view) is None:  # before any stream: a plain 422
        drawn = ", ".join(drawn_views())
        raise ApiError(422, "view", f"no export for this view yet: {state.view}", drawn)
    options = parse_options(query)
    return state, options, store.get(state.image)


def _scene_getter(scenes: SceneCache, stored: StoredImage) -> Any:
    def get(view: View[object], _picture: Any) -> Scene:
        return scenes.get(view, stored)

    return get


def _headers(export: Export) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{export.name}"',
        "Cache-Control": IMMUTABLE,
    }


# The options, declared for /docs only: parse_options validates them (one message per field).
Format = Annotated[str | None, Query(description=FORMAT_HELP)]
Frames = Annotated[str | None, Query(description=f"1 to {MAX_FRAMES} (default {DEFAULT_FRAMES}).")]
Size = Annotated[
    str | None,
    Query(
        description=f"WIDTHxHEIGHT, 64-1920 x 64-1080 (default {DEFAULT_SIZE[0]}x"
        f"{DEFAULT_SIZE[1]}); an MP4's sides are rounded down to even."
    ),
]
Fps = Annotated[str | None, Query(description=f"1 to {MAX_FPS} (default {DEFAULT_FPS}).")]
Start = Annotated[str | None, Query(description="The first iteration, 0 to 99 (default: i).")]
Theme = Annotated[str | None, Query(description="light (the page) or contrast (white on black).")]
Stats = Annotated[
    str | None, Query(description="html only: the statistics and a chart over the frames.")
]


@router.get(
    "/export",
    summary="The view or comparison as a GIF, an MP4 or a standalone HTML file",
    response_class=Response,
    responses={200: {"content": {"image/gif": {}, "video/mp4": {}, "text/html": {}}}},
)
def get_export(
    request: Request,
    store: Annotated[ImageStore, Depends(store_of)],
    scenes: Annotated[SceneCache, Depends(scenes_of)],
    format: Format = None,
    frames: Frames = None,
    size: Size = None,
    fps: Fps = None,
    start: Start = None,
    theme: Theme = None,
    stats: Stats = None,
) -> Response:
    """Frame ``k`` shows iteration ``(i + k) % 100`` (the player's loop), drawn as the page
    draws the view, over a caption bar (the method, its parameters, the iteration and the
    dropped fraction against expected). Also takes the page's state as its URL holds it:
    ``view``, ``image``, ``seed``, ``i``, ``method`` and its parameters (``p=0.3``…), or a
    comparison's ``a.method``, ``a.p``, ``b.method``… (2 to 4 panels)."""
    state, options, stored = _prepared(request, store)
    export = render_export(state, options, stored.tensor, _scene_getter(scenes, stored))
    return Response(export.data, media_type=export.media_type, headers=_headers(export))


@router.get(
    "/export/events",
    summary="The same export, rendered with progress events (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def get_export_events(
    request: Request,
    store: Annotated[ImageStore, Depends(store_of)],
    scenes: Annotated[SceneCache, Depends(scenes_of)],
    format: Format = None,
    frames: Frames = None,
    size: Size = None,
    fps: Fps = None,
    start: Start = None,
    theme: Theme = None,
    stats: Stats = None,
) -> EventSourceResponse:
    """Takes the query of ``/api/export``. Events: ``progress`` ``{"done", "total"}`` before
    the first frame and after each, then ``file`` ``{"name", "media_type", "size", "data"}``
    (base64), or ``error`` ``{"error": {"field", "message", "allowed"}}``. Close the
    EventSource to cancel: the rendering stops at the next frame."""
    state, options, stored = await asyncio.to_thread(_prepared, request, store)
    getter = _scene_getter(scenes, stored)
    # A trained view's network not trained yet: 503 now, before the stream (app/untrained.py).
    await asyncio.to_thread(prepare, state, stored.tensor, getter)
    return EventSourceResponse(_events(state, options, stored, getter), ping=5)


async def _events(
    state: LabState, options: ExportOptions, stored: StoredImage, getter: Any
) -> AsyncIterator[dict[str, str]]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Mapping[str, Any]]] = asyncio.Queue()
    stop = threading.Event()

    def post(kind: str, data: Mapping[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, (kind, data))

    def work() -> None:
        with no_training():  # the export's thread: it never trains (app/untrained.py)
            _render_and_post(state, options, stored, getter, post, stop)

    worker = loop.run_in_executor(None, work)
    try:
        while True:
            kind, data = await queue.get()
            yield {"event": kind, "data": json.dumps(data, separators=(",", ":"))}
            if kind != "progress":
                break
    finally:
        stop.set()  # the client went away (or the file is sent): stop at the next frame
        # The heavy lane's place is held until the rendering has really stopped (a frame,
        # and the encoder killed): the stream's task may be cancelled, so shield the wait.
        with anyio.CancelScope(shield=True):
            await asyncio.wait({worker})


def _render_and_post(
    state: LabState,
    options: ExportOptions,
    stored: StoredImage,
    getter: Any,
    post: Callable[[str, Mapping[str, Any]], None],
    stop: threading.Event,
) -> None:
    """Render the export, posting its progress, then its file (or its error)."""
    try:
        export = render_export(
            state,
            options,
            stored.tensor,
            getter,
            progress=lambda done, total: post("progress", {"done": done, "total": total}),
            cancelled=stop.is_set,
        )
    except ExportCancelledError:
        return
    except (ApiError, ParamError) as error:
        post("error", error_body(error.field, error.message, error.allowed))
        return
    except NotTrainedError as error:
        post("error", error_body("training", str(error), "open its training stream first"))
        return
    except Exception as error:  # reported to the client; the server keeps serving
        log.exception("export failed", exc_info=error)
        post("error", error_body("server", "the export failed; the server keeps serving"))
        return
    post(
        "file",
        {
            "name": export.name,
            "media_type": export.media_type,
            "size": len(export.data),
            "data": base64.b64encode(export.data).decode("ascii"),
        },
    )
