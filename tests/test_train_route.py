"""One training route for every view that trains (app/routes/training.py, dropouts/lab/trained/):
``GET /api/train?view=<id>&…`` serves the training each view declares on its class
(:attr:`dropouts.lab.views.base.View.training`), and the older addresses stay its aliases
(``/api/train?method=…`` the first view of the method that trains, ``/api/train/uncertainty``,
``/api/train/compression``, ``/api/train/memory``) with the same events, without a table of
them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import untrained
from app.config import Settings
from app.main import create_app
from dropouts.lab.flights import NotTrainedError
from dropouts.lab.trained import Training
from dropouts.lab.views import BUILT, trainings

# Each trained view: a small setting nothing else in the suite trains (its own seed), and the
# address its stream had before the one route.
CASES = {
    "dense": ("method=standard&steps=60&train_width=8&n_train=20&seed=9101", "/api/train"),
    "uncertainty": ("method=mc_dropout&steps=100&n_train=10&seed=9102", "/api/train/uncertainty"),
    "compression": ("dataset=moons&width=16&epochs=10&seed=9103", "/api/train/compression"),
    "lstm": (
        "memory_k=4&memory_steps=100&memory_p=0.25&memory_symbols=4&seed=9104",
        "/api/train/memory",
    ),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(Settings(upload_dir=tmp_path_factory.mktemp("uploads")))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def events(client: TestClient, url: str) -> list[tuple[str, Any]]:
    """The stream's events to its end: (name, data)."""
    out: list[tuple[str, Any]] = []
    with client.stream("GET", url) as answer:
        assert answer.status_code == 200, answer.read()
        assert answer.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in answer.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and name is not None:
                out.append((name, json.loads(line.split(":", 1)[1])))
                name = None
    return out


def test_the_views_that_train_declare_it_on_their_class() -> None:
    assert set(trainings()) == set(CASES)
    for view_id, view in BUILT.items():
        declared = type(view).training
        assert (declared is not None) == (view_id in CASES), view_id
        assert declared is None or isinstance(declared, Training)


@pytest.mark.parametrize("view_id", list(CASES))
def test_every_trained_view_is_served_by_the_one_route_as_by_its_old_address(
    client: TestClient, view_id: str
) -> None:
    query, alias = CASES[view_id]
    served = events(client, f"/api/train?view={view_id}&{query}")  # trains it
    assert served[0][0] == "info"
    assert served[-1][0] == "done"
    assert [name for name, _ in served].count("error") == 0
    assert events(client, f"{alias}?{query}") == served  # the alias: the same events
    # The view in the query of an alias (as a page may add it) changes nothing either.
    assert events(client, f"{alias}?view={view_id}&{query}") == served


def test_without_view_it_is_the_first_view_of_the_method_that_trains(client: TestClient) -> None:
    query, _ = CASES["dense"]
    assert events(client, f"/api/train?{query}") == events(client, f"/api/train?view=dense&{query}")
    query, _ = CASES["uncertainty"]
    alone = events(client, f"/api/train?{query}")
    assert alone == events(client, f"/api/train?view=uncertainty&{query}")


@pytest.mark.parametrize("query", ["seed=1", "method=dropblock", "method=nope"])
def test_without_view_a_method_that_trains_nothing_is_a_4xx_naming_method(
    client: TestClient, query: str
) -> None:
    answer = client.get(f"/api/train?{query}")
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "method"
    allowed = set(error["allowed"].split(", "))
    assert {"standard", "mc_dropout", "compression", "zoneout"} <= allowed
    assert "dropblock" not in allowed


def test_an_unknown_older_address_is_a_404_naming_the_trainings(client: TestClient) -> None:
    answer = client.get("/api/train/nope")
    assert answer.status_code == 404, answer.text
    error = answer.json()["error"]
    assert error["field"] == "name"
    assert set(error["allowed"].split(", ")) == {*CASES, "memory"}


@pytest.mark.parametrize(
    "path", ["/api/train/uncertainty", "/api/train/compression", "/api/train/memory"]
)
def test_every_old_address_still_answers(client: TestClient, path: str) -> None:
    answer = client.get(f"{path}?seed=-1")  # checked before any stream: nothing trains
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "seed"
    schema = client.get("/openapi.json").json()
    assert "get" in schema["paths"]["/api/train/{name}"]
    (name,) = (
        p for p in schema["paths"]["/api/train/{name}"]["get"]["parameters"] if p["name"] == "name"
    )
    assert path.rsplit("/", 1)[1] in name["description"]


@pytest.mark.parametrize("view_id", ["image", "residual", "nope"])
def test_a_view_that_trains_nothing_is_a_4xx_naming_view_and_the_views_that_train(
    client: TestClient, view_id: str
) -> None:
    answer = client.get(f"/api/train?view={view_id}&method=standard")
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["field"] == "view"
    assert view_id in error["message"]
    assert error["allowed"] == ", ".join(trainings())
    assert set(error["allowed"].split(", ")) == set(CASES)
    assert client.get("/api/train/runs").json()["training"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("view=dense", "method"),  # the dense view has no default method
        ("view=dense&method=dropblock", "method"),
        ("view=uncertainty&method=standard", "method"),
        ("view=lstm&method=zoneout", "method"),  # the memory task takes no method
        ("view=lstm&memory_k=99", "memory_k"),
        ("view=compression&epochs=100000", "epochs"),
    ],
)
def test_a_bad_query_is_a_4xx_naming_the_field(client: TestClient, query: str, field: str) -> None:
    answer = client.get(f"/api/train?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


def test_the_stream_named_by_a_503_is_the_one_route_naming_the_view() -> None:
    def url(view: str) -> str | None:
        error = NotTrainedError(view, None)
        error.setting = (view, "mc_dropout", {"p": 0.1, "steps": 100}, 3)
        return untrained.stream_url(error)

    assert url("uncertainty") == (
        "/api/train?view=uncertainty&method=mc_dropout&p=0.1&steps=100&seed=3"
    )
    assert url("image") is None  # trains nothing
