"""HTML pages, the offline Plotly.js and the offline API docs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import fastapi_offline
import plotly
from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from dropouts.registry import get_method
from dropouts.views import views_of

from ..catalog import catalog
from ..images import ImageStore
from .api import image_out, store_of

router = APIRouter(include_in_schema=False)

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# Swagger UI 5 (reads OpenAPI 3.1, which FastAPI emits) as shipped inside fastapi-offline.
SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


# The page's own modules, announced in its head so the browser fetches them all at once
# instead of discovering them import by import (static/js/main.js imports these).
SHELL_MODULES = (
    "main.js",
    "api.js",
    "colours.js",
    "controls.js",
    "dom.js",
    "frames.js",
    "panel.js",
    "images.js",
    "picker.js",
    "player.js",
    "sharing.js",
    "state.js",
    "stats.js",
    "plotly.js",
)


def view_modules(view_id: str) -> tuple[str, ...]:
    """The view's module and those it imports (the image view's helpers are shared)."""
    return (f"views/{view_id}.js", "views/image.js", "views/reconstruction.js")


def opening_view(query: Mapping[str, str]) -> str:
    """The view the page will open for this query, as static/js/state.js chooses it."""
    try:
        method = get_method(query.get("method", "standard"))
    except KeyError:
        method = get_method("standard")
    built = views_of(method.id, method.views)
    asked = query.get("view", "")
    return asked if asked in built else (built[0] if built else "image")


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    store: Annotated[ImageStore, Depends(store_of)],
    templates: Annotated[Jinja2Templates, Depends(templates_of)],
) -> HTMLResponse:
    """The lab. The registry and the sample list are inlined so the first frame needs no
    extra round trip; the state itself comes from the URL, read by static/state.js."""
    boot = {
        "catalog": catalog().model_dump(),
        "images": [image_out(image).model_dump() for image in store.samples()],
    }
    preload = dict.fromkeys(SHELL_MODULES + view_modules(opening_view(request.query_params)))
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "boot_json": json.dumps(boot, separators=(",", ":")).replace("</", "<\\/"),
            "preload": list(preload),
        },
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
        from ..errors import ApiError

        raise ApiError(404, "name", f"no asset {name!r}", ", ".join(sorted(allowed)))
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    """Swagger UI served from the installed fastapi-offline package (works offline)."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Dropout Lab API",
        swagger_js_url="/vendor/swagger/swagger-ui-bundle.js",
        swagger_css_url="/vendor/swagger/swagger-ui.css",
        swagger_favicon_url="/vendor/swagger/favicon.png",
    )


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
