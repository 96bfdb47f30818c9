"""Every error leaves as 4xx JSON ``{"error": {"field", "message", "allowed"}}``."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dropouts.registry import ParamError

log = logging.getLogger("dropout_lab")


class ApiError(Exception):
    """A client error: ``status`` with the offending ``field`` and what would be allowed."""

    def __init__(self, status: int, field: str, message: str, allowed: str = "") -> None:
        super().__init__(message)
        self.status, self.field, self.message, self.allowed = status, field, message, allowed


def error_body(field: str, message: str, allowed: str = "") -> dict[str, dict[str, str]]:
    return {"error": {"field": field, "message": message, "allowed": allowed}}


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse(error_body(error.field, error.message, error.allowed), error.status)


async def _param_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ParamError)
    return JSONResponse(error_body(error.field, error.message, error.allowed), 422)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("query", "body", "path")]
    field = ".".join(location) or "request"
    allowed = _allowed(first)
    if allowed == "see /docs":
        allowed = _allowed_by_spec(request, field) or allowed
    return JSONResponse(error_body(field, str(first.get("msg", "invalid request")), allowed), 422)


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


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return JSONResponse(error_body("request", str(error.detail)), error.status_code)


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=error)
    return JSONResponse(error_body("server", "internal error; the server keeps serving"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ParamError, _param_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
