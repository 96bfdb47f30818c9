"""HTML pages (the lab, the embed page and its oEmbed), the offline Plotly.js and API docs."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

import fastapi_offline
import plotly
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from dropouts.lab.registry import get_method
from dropouts.lab.views import BUILT, views_of

from ..catalog import catalog
from ..errors import ApiError
from ..framing import EMBEDDABLE
from ..grammar import DEFAULTS, grammar_json
from ..images import ImageStore
from ..modules import closure
from ..state import first_values
from .api import image_out, store_of

router = APIRouter(include_in_schema=False)

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# Swagger UI 5 (reads OpenAPI 3.1, which FastAPI emits) as shipped inside fastapi-offline.
SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def preloaded(request: Request, entry: str, view_id: str) -> list[str]:
    """The modules a page announces in its head: its entry's and its view's static import
    closures (app/modules.py)."""
    root = request.app.state.settings.static_dir / "js"
    return list(closure(root, entry, f"views/{view_id}.js"))


def opening_view(query: Mapping[str, str]) -> str:
    """The view the page will open for this query, as static/js/state.js chooses it."""
    try:
        method = get_method(query.get("method", DEFAULTS.method))
    except KeyError:
        method = get_method(DEFAULTS.method)
    built = views_of(method.id, method.views)
    asked = query.get("view", "")
    return asked if asked in built else (built[0] if built else DEFAULTS.view)


EMBED_SIZES = ((480, 270), (640, 360), (960, 540), (1280, 720))


def boot_json(store: ImageStore) -> str:
    """The registry and the sample list, inlined so the first frame needs no extra round trip."""
    boot = {
        "catalog": catalog().model_dump(),
        "images": [image_out(image).model_dump() for image in store.samples()],
    }
    return json.dumps(boot, separators=(",", ":")).replace("</", "<\\/")


def method_title(query: Mapping[str, str]) -> str:
    try:
        return f"{get_method(query.get('method', DEFAULTS.method)).name} · Dropout Lab"
    except KeyError:
        return "Dropout Lab"


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    store: Annotated[ImageStore, Depends(store_of)],
    templates: Annotated[Jinja2Templates, Depends(templates_of)],
) -> HTMLResponse:
    """The lab. The state itself comes from the URL, read by static/state.js."""
    query = first_values(request.query_params.multi_items())
    comparing = "a.method" in query and "b.method" in query
    entry = "compare_page.js" if comparing else "main.js"
    opening = query.get("view", DEFAULTS.view) if comparing else opening_view(query)
    preload = preloaded(request, entry, opening if opening in BUILT else DEFAULTS.view)
    # Root-relative, like every address in the page; its `url` names this very page.
    oembed = "/oembed?" + urlencode({"url": str(request.url)})
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "boot_json": boot_json(store),
            "grammar_json": grammar_json(),
            "preload": preload,
            "oembed_url": oembed,
            "entry": entry,
            "title": method_title(query),
        },
    )


@router.get("/embed", response_class=HTMLResponse)
def embed(
    request: Request,
    store: Annotated[ImageStore, Depends(store_of)],
    templates: Annotated[Jinja2Templates, Depends(templates_of)],
) -> HTMLResponse:
    """The lab's view without the page around it, for slides: the same query as the page,
    plus the lesson mode (static/js/lesson.js). Framable from any origin."""
    query = first_values(request.query_params.multi_items())
    comparing = "a.method" in query and "b.method" in query
    entry = "embed_compare.js" if comparing else "embed.js"
    opening = query.get("view", DEFAULTS.view) if comparing else opening_view(query)
    preload = preloaded(request, entry, opening if opening in BUILT else DEFAULTS.view)
    return templates.TemplateResponse(
        request,
        "embed.html",
        {
            "boot_json": boot_json(store),
            "grammar_json": grammar_json(),
            "preload": preload,
            "title": method_title(query),
            "entry": entry,
        },
        headers=EMBEDDABLE,
    )


def _embed_size(max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """The largest 16:9 size offered that fits the consumer's maximum (oEmbed: a provider must
    respect it); below the smallest, that size scaled down to fit."""
    fitting = [
        (width, height)
        for width, height in EMBED_SIZES
        if (max_width is None or width <= max_width)
        and (max_height is None or height <= max_height)
    ]
    if fitting:
        return fitting[-1]
    width, height = EMBED_SIZES[0]
    scale = min((max_width or width) / width, (max_height or height) / height)
    return max(1, int(width * scale)), max(1, int(height * scale))


@router.get("/oembed", name="oembed")
def oembed(
    request: Request,
    url: Annotated[str, Query(description="A Dropout Lab page or embed URL.")],
    maxwidth: Annotated[int | None, Query(ge=1)] = None,
    maxheight: Annotated[int | None, Query(ge=1)] = None,
    format: Annotated[str, Query()] = "json",
) -> JSONResponse:
    """oEmbed (https://oembed.com): a pasted lab link becomes its embed, as an iframe."""
    if format != "json":
        raise ApiError(501, "format", f"format {format!r} is not offered", "json")
    asked = urlsplit(url)
    own = urlsplit(str(request.base_url))
    if (asked.scheme, asked.netloc) != (own.scheme, own.netloc) or asked.path not in (
        "/",
        "/embed",
    ):
        raise ApiError(
            404, "url", "not a page of this Dropout Lab", f"{own.scheme}://{own.netloc}/?…"
        )
    query = first_values(parse_qsl(asked.query))
    width, height = _embed_size(maxwidth, maxheight)
    src = str(request.url_for("embed")) + ("?" + urlencode(query) if query else "")
    title = method_title(query)
    frame = (
        f'<iframe src="{escape(src)}" width="{width}" height="{height}" title="{escape(title)}" '
        'style="border:0" allow="fullscreen" loading="lazy"></iframe>'
    )
    return JSONResponse(
        {
            "version": "1.0",
            "type": "rich",
            "provider_name": "Dropout Lab",
            "provider_url": str(request.base_url),
            "title": title,
            "html": frame,
            "width": width,
            "height": height,
        }
    )


@router.get("/vendor/plotly.min.js")
def plotly_js() -> FileResponse:
    """Plotly.js from the installed ``plotly`` package: no CDN, no vendored copy."""
    return FileResponse(
        PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/vendor/swagger/{name}")
def swagger_asset(name: str) -> FileResponse:
    allowed = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}
    path = SWAGGER_DIR / name
    if name not in allowed or not path.is_file():
        raise ApiError(404, "name", f"no asset {name!r}", ", ".join(sorted(allowed)))
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI served from the installed fastapi-offline package (works offline), started by
    ``static/js/docs.js``: the pages' Content-Security-Policy allows no inline script."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "docs.html")


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """Readiness, for a load balancer or Docker's HEALTHCHECK: 200 once this worker has decoded
    the samples and can write uploads, else 503. ``pid`` names the worker process, ``load``
    its computing requests (running, waiting, shed with 503; app/capacity.py)."""
    state = request.app.state
    ready = state.images.ready()
    body = {
        "status": "ok" if ready else "starting",
        "pid": os.getpid(),
        "load": {lane: load.stats for lane, load in state.lanes.items()},
    }
    return JSONResponse(body, 200 if ready else 503, headers={"Cache-Control": "no-store"})
