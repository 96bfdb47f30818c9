"""Every error leaves as JSON ``{"error": {"field", "message", "allowed"}}`` with its 4xx (or
5xx) status, except for a browser asking for a page: it gets the same error in words, as an
HTML page (templates/error.html) with the pages' security headers.

The API (``/api/``), ``/oembed``, ``/healthz``, ``/openapi.json`` and the files under
``/static/`` and ``/vendor/`` always answer JSON; so does any request whose ``Accept`` header
does not prefer ``text/html`` to ``application/json`` (curl, ``fetch``, scripts).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from dropouts.lab.registry import ParamError
from dropouts.lab.stopping import StoppedError

from .framing import EVERY_RESPONSE, NOT_EMBEDDABLE

log = logging.getLogger("dropout_lab")

# Paths whose errors are JSON whatever the Accept header says: they answer programs, not people.
JSON_PATHS = frozenset({"/api", "/oembed", "/healthz", "/openapi.json"})
JSON_PREFIXES = ("/api/", "/vendor/", "/static/")
# The error page's headers, set here because a 500 leaves from outside the middleware stack
# (Starlette's ServerErrorMiddleware), where app/framing.py would not add them.
PAGE_HEADERS = {**EVERY_RESPONSE, **NOT_EMBEDDABLE}
HEADINGS = {
    404: "Page not found",
    405: "Method not allowed",
    422: "Invalid request",
    500: "Something went wrong",
}


class ApiError(Exception):
    """A client error: ``status`` with the offending ``field`` and what would be allowed."""

    def __init__(self, status: int, field: str, message: str, allowed: str = "") -> None:
        super().__init__(message)
        self.status, self.field, self.message, self.allowed = status, field, message, allowed


def error_body(field: str, message: str, allowed: str = "") -> dict[str, dict[str, str]]:
    return {"error": {"field": field, "message": message, "allowed": allowed}}


def _quality(accept: str, media_type: str) -> float:
    """The q-value ``accept`` gives ``media_type`` by name (0 if unnamed; wildcards ignored)."""
    best = 0.0
    for item in accept.split(","):
        name, *parameters = (part.strip() for part in item.split(";"))
        if name.lower() != media_type:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        best = max(best, quality)
    return best


def wants_page(request: Request) -> bool:
    """Whether the error should be an HTML page: a browser asking for a page, i.e. a path not
    of the API (:data:`JSON_PATHS`, :data:`JSON_PREFIXES`) and an ``Accept`` header that
    prefers ``text/html`` to ``application/json``."""
    path = request.url.path
    if path in JSON_PATHS or path.startswith(JSON_PREFIXES):
        return False
    accept = request.headers.get("accept", "")
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def _heading(status: int) -> str:
    """The page's ``<h1>``: :data:`HEADINGS`, else the status's reason in sentence case."""
    if status in HEADINGS:
        return HEADINGS[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "Error"
    return phrase[:1] + phrase[1:].lower()


def _error_page(
    request: Request,
    status: int,
    body: dict[str, str],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error ``body`` (field, message, allowed) in words, as templates/error.html."""
    templates: Jinja2Templates = request.app.state.templates
    # An unknown address needs no details: "Not Found" on field "request" adds nothing.
    details = not (status == 404 and body["field"] == "request")
    context = {
        "status": status,
        "heading": _heading(status),
        "method": request.method,
        "path": request.url.path,
        "details": details,
        **body,
    }
    return templates.TemplateResponse(
        request, "error.html", context, status, headers={**PAGE_HEADERS, **(headers or {})}
    )


def error_response(
    request: Request,
    status: int,
    field: str,
    message: str,
    allowed: str = "",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error as the asker wants it (:func:`wants_page`): an HTML page or the JSON body."""
    body = error_body(field, message, allowed)
    if wants_page(request):
        return _error_page(request, status, body["error"], headers)
    return JSONResponse(body, status, headers=headers)


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(request, error.status, error.field, error.message, error.allowed)


async def _param_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ParamError)
    return error_response(request, 422, error.field, error.message, error.allowed)


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("query", "body", "path")]
    field = ".".join(location) or "request"
    allowed = _allowed(first)
    if allowed == "see /docs":
        allowed = _allowed_by_spec(request, field) or allowed
    return error_response(request, 422, field, str(first.get("msg", "invalid request")), allowed)


def _allowed_by_spec(request: Request, name: str) -> str:
    """What the OpenAPI schema of this route says parameter ``name`` accepts, in words."""
    paths = request.app.openapi().get("paths", {})
    for template, operations in paths.items():
        pattern = "^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"
        if not re.match(pattern, request.url.path):
            continue
        operation = operations.get(request.method.lower(), {})
        for parameter in operation.get("parameters", []):
            if parameter.get("name") == name:
                return _describe_schema(parameter.get("schema", {}))
    return ""


def _describe_schema(schema: dict[str, object]) -> str:
    kind = schema.get("type")
    if "enum" in schema and isinstance(schema["enum"], list):
        return "one of " + ", ".join(str(choice) for choice in schema["enum"])
    if kind == "boolean":
        return "true or false"
    if kind in ("integer", "number"):
        noun = "a whole number" if kind == "integer" else "a number"
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"{noun} from {low} to {high}"
        if low is not None:
            return f"{noun} >= {low}"
        if high is not None:
            return f"{noun} <= {high}"
        return noun
    return ""


def _allowed(error: dict[str, object]) -> str:
    """The constraint behind a pydantic error, in words (``from 0 to 64``, ``one of ...``)."""
    if error.get("type") == "missing":
        return "a value is required"
    context = error.get("ctx")
    if not isinstance(context, dict):
        return "see /docs"
    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    bounds = [f"{words[key]} {context[key]}" for key in ("ge", "gt", "le", "lt") if key in context]
    if bounds:
        return " and ".join(bounds)
    if "expected" in context:
        return str(context["expected"])
    return "see /docs"


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own errors (an unknown path, a method the route does not take), with their
    headers (a 405's ``Allow``, which also says what is allowed)."""
    assert isinstance(error, StarletteHTTPException)
    headers = dict(error.headers or {})
    if "Allow" in headers:  # every GET route also answers HEAD (app/head.py)
        methods = [m.strip() for m in headers["Allow"].split(",")]
        if "GET" in methods and "HEAD" not in methods:
            headers["Allow"] = ", ".join([*methods, "HEAD"])
    allowed = headers.get("Allow", "") if error.status_code == 405 else ""
    return error_response(
        request, error.status_code, "request", str(error.detail), allowed, headers
    )


async def _client_left(_: Request, __: Exception) -> Response:
    """The client left and its work stopped at a checkpoint (dropouts.lab.stopping): no one reads
    this answer; 499 is the status nginx logs for a request its client closed."""
    return Response(status_code=499)


async def _unexpected(request: Request, error: Exception) -> Response:
    """A bug: logged with its traceback, answered without it (never in the page or body)."""
    log.exception("unexpected error", exc_info=error)
    return error_response(request, 500, "server", "internal error; the server keeps serving")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ParamError, _param_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StoppedError, _client_left)
    app.add_exception_handler(Exception, _unexpected)
