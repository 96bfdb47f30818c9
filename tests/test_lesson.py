"""The lesson's path (app/lesson/) as data: every step's state is one the API accepts, its
question's answer is found where the step says for that state, its formula renders, its ids
are unique and its sources come from the registry; /learn serves every step in order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.grammar import LESSON
from app.lesson.path import SECTIONS, Step, path, steps
from app.main import create_app
from app.mathml import to_mathml
from dropouts.lab.registry import get_method, get_view
from dropouts.lab.views import BUILT

STEPS = steps()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(Settings(upload_dir=tmp_path_factory.mktemp("uploads")))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def state_of(step: Step) -> dict[str, str]:
    return {key: value for key, value in parse_qsl(step.embed) if key not in LESSON}


def test_the_path_follows_the_article_then_the_modern_relatives() -> None:
    assert [section.id for section in path()] == list(SECTIONS)
    assert SECTIONS == ("why", "dense", "cnn", "rnn", "other", "modern")
    assert all(section.steps for section in path())
    ids = [step.id for step in STEPS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9-]*", step_id) for step_id in ids)


@pytest.mark.parametrize("step", STEPS, ids=[s.id for s in STEPS])
def test_every_step_is_a_state_the_lab_shows(client: TestClient, step: Step) -> None:
    state = state_of(step)
    method = get_method(state["method"])
    assert state["view"] in BUILT and state["view"] in method.views
    lesson = dict(parse_qsl(step.embed))
    if "panel" in lesson:
        assert lesson["panel"] == "1"
    shown = {name for name in lesson.get("controls", "").split(",") if name}
    names = {p.name for p in method.params} | {p.name for p in get_view(state["view"]).params}
    assert shown <= names | {"seed", "iteration", "speed"}, shown
    assert step.references(), "every step cites its papers"
    assert "<math" in to_mathml(step.formula)
    for paragraph in step.paragraphs:
        assert paragraph.count("<em>") == paragraph.count("</em>")


def answer_at(body: dict[str, Any], step: Step) -> Any:
    answer = step.question.answer
    value: Any = body["theory"] if answer.source == "theory" else body["frames"][0]
    for key in answer.path.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


def frames_of(client: TestClient, state: dict[str, str]) -> dict[str, Any]:
    params = {**state, "count": "1", "masks": "false", "format": "json"}
    answer = client.get("/api/frames", params=params)
    if answer.status_code == 503:  # a trained view: its stream trains it, then the frames
        with client.stream("GET", answer.json()["training"]["stream"]) as stream:
            for _ in stream.iter_lines():
                pass
        answer = client.get("/api/frames", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize(
    "step",
    [s for s in STEPS if s.question.answer.source != "run"],
    ids=[s.id for s in STEPS if s.question.answer.source != "run"],
)
def test_every_answer_is_found_where_the_step_says(client: TestClient, step: Step) -> None:
    question = step.question
    value = answer_at(frames_of(client, state_of(step)), step)
    if question.answer.pick == "value":
        assert isinstance(value, int | float | str | bool), value
    else:
        assert isinstance(value, list | dict) and len(value) > 0
        keys = {str(k) for k in (range(len(value)) if isinstance(value, list) else value)}
        assert question.kind == "choice"
        assert keys <= {v for v, _ in question.choices}, "every possible answer is a choice"
    if question.kind == "number":
        assert question.low <= float(value) <= question.high, (step.id, value)
    else:
        assert question.choices and len({v for v, _ in question.choices}) == len(question.choices)
    assert "{answer}" in question.why


def test_the_lesson_page_serves_every_step_in_order(client: TestClient) -> None:
    page = client.get("/learn")
    assert page.status_code == 200
    html = page.text
    positions = [html.index(f'id="{step.id}"') for step in STEPS]
    assert positions == sorted(positions)
    assert html.count('class="view-frame"') == len(STEPS)
    assert html.count("<math") >= len(STEPS)
    for step in STEPS:
        assert f"/embed?{step.embed.split('&')[0]}" in html
