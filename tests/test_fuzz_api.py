"""A property-based fuzz of the whole HTTP API from its OpenAPI schema (schemathesis): for
every operation, requests generated from the schema, valid and invalid, must get no 5xx and no
answer that breaks the schema (status, content type, body).

Bounded in time (about 40 s): the examples are derandomised (the same ones on every run, so a
failure is reproducible), 100 per operation, and 20 for the operations that train a network or
render a whole export (seconds each when the request is valid; their valid requests are tested
one by one in their own test files). The parameters that /api/frames and the others take by
name from the registry (``p=0.3``…) are not in the schema: tests/test_api.py and
tests/test_edge_cases.py send them NaN, infinities and garbage.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from app.config import Settings
from app.main import create_app

APP = create_app(Settings(upload_dir=Path(tempfile.mkdtemp(prefix="fuzz-uploads-"))))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
HEAVY = r"^/api/(export|train/(?!runs$)|train$)"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
BOUNDED = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}

LIGHT_SCHEMA = SCHEMA.exclude(path_regex=HEAVY)
HEAVY_SCHEMA = SCHEMA.include(path_regex=HEAVY)


@LIGHT_SCHEMA.parametrize()
@settings(max_examples=100, **BOUNDED)  # type: ignore[arg-type]
def test_no_request_gets_a_server_error_or_breaks_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@HEAVY_SCHEMA.parametrize()
@settings(max_examples=20, **BOUNDED)  # type: ignore[arg-type]
def test_no_training_or_export_request_gets_a_server_error_or_breaks_the_schema(
    case: schemathesis.Case,
) -> None:
    case.call_and_validate(checks=CHECKS)
