"""HTTP conventions that health checks, link checkers and caches rely on: ``HEAD`` on every
``GET`` route (its status and headers, no body), a 405 that says what is allowed, and one
reading of a repeated parameter everywhere (the first, as the page reads its link)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.main import create_app

# A concrete address for each GET route (path parameters filled in, a valid query).
QUERIES = {
    "/api/frames": "?method=standard&view=image",
    "/api/match": "?view=image&method=dropblock&fraction=0.2",
    "/api/scene": "?view=feature_maps&image=cat",
    "/api/code": "?method=standard",
    "/api/reconstruction": "?image=cat",
    "/oembed": "?url=http://testserver/?method=standard",
    "/api/export": "?method=standard&format=html&frames=2&size=64x64",
}
PATH_VALUES = {"image_id": "cat", "name": "swagger-ui.css"}
STREAMS = ("/api/train", "/api/export/events")


def get_routes() -> list[str]:
    """Every GET operation of the app's OpenAPI schema, as an address to ask."""
    addresses = []
    for template, operations in create_app().openapi()["paths"].items():
        if "get" not in operations or template.startswith(STREAMS):
            continue  # event streams: their HEAD on a real server (test_course_server.py)
        path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], template)
        addresses.append(path + QUERIES.get(template, ""))
    return addresses


def test_every_get_route_is_listed() -> None:
    assert {"/api/frames", "/api/methods", "/api/images/cat"} <= {
        address.split("?")[0] for address in get_routes()
    }


@pytest.mark.parametrize("address", get_routes())
def test_head_is_get_without_the_body(client: TestClient, address: str) -> None:
    got = client.get(address)
    head = client.head(address)
    assert got.status_code < 400, (address, got.text[:200])
    assert head.status_code == got.status_code
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "cache-control"):
        assert head.headers.get(name) == got.headers.get(name), name


def test_head_of_a_page_and_a_file(client: TestClient) -> None:
    pages = ("/", "/embed?method=cutout", "/docs", "/healthz", "/api/train/runs")
    files = ("/static/css/lab.css", "/vendor/plotly.min.js", "/oembed?url=http://testserver/")
    for address in pages + files:
        head = client.head(address)
        assert head.status_code == 200 and head.content == b"", address


def test_a_405_names_what_is_allowed(client: TestClient) -> None:
    response = client.delete("/api/methods")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["allowed"] == "GET, HEAD"


def test_oembed_takes_the_first_of_a_repeated_parameter(client: TestClient) -> None:
    link = "http://testserver/?method=standard&p=0.2&p=0.9&seed=3&seed=4"
    html = client.get("/oembed", params={"url": link}).json()["html"]
    src = re.search(r'src="([^"]+)"', html)
    assert src is not None
    query = parse_qs(urlsplit(src.group(1).replace("&amp;", "&")).query)
    assert query["p"] == ["0.2"] and query["seed"] == ["3"]


def test_frames_take_the_first_of_a_repeated_parameter(client: TestClient) -> None:
    first = client.get("/api/frames?method=standard&p=0.2&format=json").json()
    repeated = client.get("/api/frames?method=standard&p=0.2&p=0.9&format=json").json()
    assert repeated["params"]["p"] == 0.2
    assert repeated["frames"] == first["frames"]
