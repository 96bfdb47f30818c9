"""The FastAPI application: ``uvicorn app.main:app``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dropouts.lab.flights import NotTrainedError

from . import errors, untrained, wire
from .caching import ConditionalGet
from .capacity import CpuGate, CpuLoad, Receiving
from .config import Settings
from .framing import FramingPolicy
from .head import HeadAsGet
from .images import ImageStore
from .routes import api, export, learn, pages, training
from .scenes import SceneCache
from .studies import StudyCache

DESCRIPTION = """
Dropout Lab applies a dropout method, on each request, in a view (an image, the feature maps of
a convolutional stage run on it, a pooling grid) and returns the masks and statistics of the
iterations you ask for. Every method, its paper and its parameters (with
their ranges) are listed by `GET /api/methods`; errors are JSON
`{"error": {"field", "message", "allowed"}}` with a 4xx status.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Before the first request: the samples decoded, the upload directory (possibly a volume
    shared with other workers and containers) made. ``/healthz`` checks both again."""
    await asyncio.to_thread(app.state.images.ready)
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        lifespan=lifespan,
        title="Dropout Lab",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,  # served by pages.docs from local files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.images = ImageStore(settings)
    app.state.scenes = SceneCache(settings.scene_cache_size)
    app.state.studies = StudyCache(settings.study_cache_size)
    app.state.templates = Jinja2Templates(directory=settings.templates_dir)
    errors.install(app)
    app.add_exception_handler(NotTrainedError, untrained.answer)
    # Frames are already deflated, pictures and videos compressed: compress only text (pages,
    # JSON, JS); never the event stream of an export, whose progress must arrive as it happens.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=1024,
        exclude_content_types=(
            "text/event-stream",
            wire.MEDIA_TYPE,
            "image/png",
            "image/gif",
            "video/mp4",
        ),
    )
    # Inside out: gzip, then the CPU gate (a request that computes waits for a place or gets
    # 503 at once), then ETags and 304 (answered before the gate), then the security headers.
    app.state.lanes = {
        "quick": CpuLoad(settings.cpu_workers, settings.cpu_queue),
        "heavy": CpuLoad(settings.heavy_workers, settings.heavy_queue),
        "upload": CpuLoad(settings.upload_workers, settings.upload_queue),
    }
    receiving = Receiving(
        settings.upload_receiving, settings.max_upload_bytes, settings.upload_chunk_timeout_s
    )
    app.add_middleware(CpuGate, lanes=app.state.lanes, receiving=receiving)
    app.add_middleware(ConditionalGet)
    app.add_middleware(FramingPolicy)
    app.add_middleware(HeadAsGet)  # outermost: HEAD is a GET without its body, everywhere
    app.include_router(api.router)
    app.include_router(export.router)
    app.include_router(training.router)
    app.include_router(pages.router)
    app.include_router(learn.router)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    return app


app = create_app()
