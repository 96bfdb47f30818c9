"""Errors as a browser sees them (app/errors.py, templates/error.html): an HTML page when it
asks for a page, the JSON ``{"error": {"field", "message", "allowed"}}`` for everything else
(the API, /oembed, /healthz, the files, any client that does not prefer text/html)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Query
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from app.config import Settings
from app.errors import ApiError
from app.main import create_app

# What Chromium sends when it navigates to a page.
BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
}
JSON = {"Accept": "application/json"}


def assert_page(response: Any, status: int, heading: str) -> str:
    """An error page with the lab's look and the pages' headers; its text."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    text: str = response.text
    assert '<html lang="en">' in text
    assert "<title>" in text and heading in text.split("<title>")[1].split("</title>")[0]
    assert f"<h1>{heading}</h1>" in text
    assert text.count("<main") == 1
    assert '<link rel="stylesheet" href="/static/css/lab.css">' in text
    assert '<link rel="stylesheet" href="/static/css/error.css">' in text
    assert '<a class="button primary" href="/">' in text
    assert 'href="/docs"' in text
    # The Content-Security-Policy allows no inline script; the page uses no inline style either.
    assert "<script" not in text and "<style" not in text and "style=" not in text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["x-content-type-options"] == "nosniff"
    return text


def details(text: str) -> dict[str, str]:
    """The page's ``<dl>`` of the error, term to description (HTML as written)."""
    return dict(re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", text))


def assert_json_error(response: Any, status: int, field: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"field", "message", "allowed"}
    assert body["error"]["field"] == field
    error: dict[str, str] = body["error"]
    return error


# ---------------------------------------------------------------- 404


def test_an_unknown_page_is_an_html_404_for_a_browser(client: TestClient) -> None:
    text = assert_page(client.get("/nonexistent", headers=BROWSER), 404, "Page not found")
    assert "You asked for <code>/nonexistent</code>" in text
    assert details(text) == {}  # "Not Found" on field "request" would add nothing


def test_the_asked_path_is_escaped(client: TestClient) -> None:
    response = client.get("/lessons/<script>alert(1)</script>", headers=BROWSER)
    text = assert_page(response, 404, "Page not found")
    assert "<code>/lessons/&lt;script&gt;alert(1)&lt;/script&gt;</code>" in text
    assert "<script>" not in text


def test_the_404_page_has_the_pages_security_headers(client: TestClient) -> None:
    page = client.get("/", headers=BROWSER)
    missing = client.get("/nonexistent", headers=BROWSER)
    for name in ("content-security-policy", "x-frame-options", "referrer-policy"):
        assert missing.headers[name] == page.headers[name]


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "*/*",  # curl, httpx, fetch() without headers
        "",
        "application/json, text/html;q=0.5",
        "text/html;q=0, application/json",
        "text/html, application/json",  # no preference: the API's answer
    ],
)
def test_a_client_not_preferring_html_gets_json(client: TestClient, accept: str) -> None:
    response = client.get("/nonexistent", headers={"Accept": accept})
    assert assert_json_error(response, 404, "request")["message"] == "Not Found"


@pytest.mark.parametrize(
    ("method", "path", "status", "field"),
    [
        ("GET", "/api/nope", 404, "request"),
        ("GET", "/api", 404, "request"),
        ("GET", "/api/frames?method=standard&p=2", 422, "p"),
        ("GET", "/api/images/cat-that-is-not-there", 404, "image"),
        ("GET", "/oembed", 422, "url"),
        ("POST", "/healthz", 405, "request"),
        ("GET", "/static/css/nope.css", 404, "request"),
        ("GET", "/vendor/swagger/nope.js", 404, "name"),
        ("POST", "/openapi.json", 405, "request"),
    ],
)
def test_the_api_answers_json_even_to_a_browser(
    client: TestClient, method: str, path: str, status: int, field: str
) -> None:
    response = client.request(method, path, headers=BROWSER)
    assert_json_error(response, status, field)


# ---------------------------------------------------------------- other errors on pages


def test_a_method_a_page_does_not_take_is_an_html_405(client: TestClient) -> None:
    response = client.post("/", headers=BROWSER)
    text = assert_page(response, 405, "Method not allowed")
    assert response.headers["allow"] == "GET, HEAD"
    assert "could not answer <code>POST /</code>" in text
    assert details(text) == {
        "Status": "405 Method not allowed",
        "Field": "<code>request</code>",
        "Problem": "Method Not Allowed",
        "Allowed": "GET, HEAD",
    }


def test_the_api_405_keeps_its_json_and_says_what_is_allowed(client: TestClient) -> None:
    response = client.post("/", headers=JSON)
    assert assert_json_error(response, 405, "request")["allowed"] == "GET, HEAD"
    assert response.headers["allow"] == "GET, HEAD"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with three more pages: one validating its query, one raising the API's error,
    one with a bug."""
    app = create_app(Settings(upload_dir=Path(tmp_path_factory.mktemp("uploads"))))

    @app.get("/lesson", response_class=HTMLResponse, include_in_schema=False)
    def lesson(step: Annotated[int, Query(ge=1, le=8)]) -> str:
        return f"<p>step {step}</p>"

    @app.get("/chapter/{number}", response_class=HTMLResponse, include_in_schema=False)
    def chapter(number: int) -> str:
        raise ApiError(404, "number", f"no chapter {number}", "1 to 8")

    @app.get("/broken", response_class=HTMLResponse, include_in_schema=False)
    def broken() -> str:
        raise RuntimeError("secret detail of the bug")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_bad_query_to_a_page_is_an_html_422(pages: TestClient) -> None:
    text = assert_page(pages.get("/lesson?step=0", headers=BROWSER), 422, "Invalid request")
    assert "could not answer <code>GET /lesson</code>" in text
    found = details(text)
    assert found["Field"] == "<code>step</code>"
    assert found["Allowed"] == "&gt;= 1"  # the bound it broke, escaped
    assert_json_error(pages.get("/lesson?step=0", headers=JSON), 422, "step")


def test_the_apis_own_error_on_a_page_is_shown_in_words(pages: TestClient) -> None:
    text = assert_page(pages.get("/chapter/9", headers=BROWSER), 404, "Page not found")
    assert details(text) == {
        "Status": "404 Page not found",
        "Field": "<code>number</code>",
        "Problem": "no chapter 9",
        "Allowed": "1 to 8",
    }


def test_a_bug_is_an_html_500_without_its_traceback(pages: TestClient) -> None:
    text = assert_page(pages.get("/broken", headers=BROWSER), 500, "Something went wrong")
    assert details(text)["Field"] == "<code>server</code>"
    assert "Traceback" not in text and "secret detail" not in text
    assert "RuntimeError" not in text
    error = assert_json_error(pages.get("/broken", headers=JSON), 500, "server")
    assert "secret" not in error["message"]
    # The app keeps serving.
    assert pages.get("/healthz").status_code == 200
