"""The lesson (/learn, app/lesson/, static/js/learn*.js) in Chromium: every step's live view
paints when scrolled to and stops asking for frames when scrolled away; every question's
revealed answer is the API's for the settings on screen, also after a slider moved; present
mode's keys and #step links; progress kept in the browser; the printed handout (one page per
step); axe finds nothing in either mode."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Frame, Page, expect

from app.grammar import LESSON
from app.lesson.path import Answer, Step, steps
from dropouts.lab.registry import get_view
from dropouts.lab.views import trainings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

STEPS = {step.id: step for step in steps()}
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def learn(browser: Browser, base_url: str) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(
        base_url=base_url, viewport={"width": 1400, "height": 1000}
    )
    page = context.new_page()
    yield page
    context.close()


def view_of(page: Page, step_id: str) -> Frame:
    frame = page.locator(f"#{step_id} iframe").element_handle().content_frame()  # type: ignore[union-attr]
    assert frame is not None
    return frame


def reported(page: Page, step_id: str, kind: str = "frame", timeout: float = 30_000) -> str:
    """Wait until the step's view has reported (a frame, or a finished run); its query."""
    page.wait_for_function(
        "([id, kind]) => window.dropoutLab?.learn?.reports?.[id]?.type === kind",
        arg=[step_id, kind],
        timeout=timeout,
    )
    query: str = page.evaluate("(id) => window.dropoutLab.learn.reports[id].query", step_id)
    return query.lstrip("?")


def state_of(query: str) -> dict[str, str]:
    """The lab's state in a view's query: the lesson mode's keys and the player's left out."""
    skip = {*LESSON, "i", "play", "speed"}
    return {key: value for key, value in parse_qsl(query) if key not in skip}


def at(value: Any, path: str) -> Any:
    for key in path.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


def picked(value: Any, answer: Answer) -> Any:
    if answer.pick == "value":
        return value
    items = list(enumerate(value)) if isinstance(value, list) else list(value.items())
    best = (max if answer.pick == "highest" else min)(items, key=lambda item: item[1])
    return str(best[0])


def run_of(server: str, state: dict[str, str]) -> dict[str, Any]:
    """What a view's training panel reports when its run ends, from the run's own stream:
    ``final`` is the done event's figures, or for the dense view's two networks their last
    snapshot's test losses (what its panel shows)."""
    events: list[tuple[str, Any]] = []
    if not trainings()[state["view"]].takes_method:  # the view's own settings, as its panel asks
        own = {p.name for p in get_view(state["view"]).params} | {"view", "seed"}
        state = {key: value for key, value in state.items() if key in own}
    url = f"{server}/api/train?{urlencode(state)}"
    with httpx.Client(timeout=300) as http, http.stream("GET", url) as answer:
        name = None
        for line in answer.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and name is not None:
                events.append((name, json.loads(line.split(":", 1)[1])))
    assert events and events[-1][0] == "done", events[-1:]
    snapshots = [data for name, data in events if name == "snapshot"]
    if state["view"] == "dense":
        return {"final": {key: snapshots[-1][key]["test_loss"] for key in ("dropout", "baseline")}}
    return {"final": events[-1][1]}


def api_answer(server: str, step: Step, query: str) -> Any:
    """The answer to ``step``'s question for the state ``query``, asked of the API."""
    state = state_of(query)
    answer = step.question.answer
    if answer.source == "run":
        return picked(at(run_of(server, state), answer.path), answer)
    params = {**state, "count": "1", "masks": "false", "format": "json"}
    body = httpx.get(f"{server}/api/frames", params=params, timeout=120).json()
    source = body["theory"] if answer.source == "theory" else body["frames"][0]
    return picked(at(source, answer.path), answer)


def revealed(page: Page, step_id: str) -> Any:
    page.wait_for_function(
        "(id) => window.dropoutLab.learn.answers[id] !== undefined", arg=step_id, timeout=60_000
    )
    return page.evaluate("(id) => window.dropoutLab.learn.answers[id].answer", step_id)


def same(shown: Any, expected: Any) -> None:
    if isinstance(expected, float):
        assert shown == pytest.approx(expected, rel=1e-9, abs=1e-12)
    else:
        assert shown == expected


# ---------------------------------------------------------------- the answers


@pytest.mark.parametrize("step_id", list(STEPS))
def test_every_answer_is_the_apis_for_the_settings_on_screen(
    learn: Page, base_url: str, step_id: str
) -> None:
    step = STEPS[step_id]
    learn.goto(f"/learn#{step_id}")
    kind = "run" if step.question.answer.source == "run" else "frame"
    query = reported(learn, step_id, kind, timeout=120_000)
    learn.locator(f"#{step_id} .reveal").click()
    same(revealed(learn, step_id), api_answer(base_url, step, query))
    expect(learn.locator(f"#{step_id} .answer-value")).to_contain_text("Answer:")
    why = learn.locator(f"#{step_id} .answer-why").inner_text()
    assert "{answer}" not in why and why


def slider_of(step: Step) -> str | None:
    controls = dict(parse_qsl(step.embed)).get("controls", "")
    return controls.split(",")[0] or None


@pytest.mark.parametrize(
    "step_id",
    [s.id for s in steps() if s.question.answer.source != "run" and slider_of(s) is not None][:4],
)
def test_a_revealed_answer_follows_a_slider(learn: Page, base_url: str, step_id: str) -> None:
    step = STEPS[step_id]
    learn.goto(f"/learn#{step_id}")
    before = reported(learn, step_id)
    learn.locator(f"#{step_id} .reveal").click()
    first = revealed(learn, step_id)
    name = slider_of(step)
    slider = view_of(learn, step_id).locator(f"input[type=range][data-param={name}]")
    slider.focus()
    for _ in range(6):
        slider.press("ArrowRight")
    learn.wait_for_function(
        "([id, before]) => window.dropoutLab.learn.reports[id].query.replace(/^[?]/, '') !== before"
        " && window.dropoutLab.learn.answers[id] !== undefined",
        arg=[step_id, before],
    )
    learn.wait_for_timeout(800)  # the frame of the slider's last value, painted
    after = reported(learn, step_id)
    assert state_of(after) != state_of(before)
    moved = revealed(learn, step_id)
    same(moved, api_answer(base_url, step, after))
    was, now = state_of(before).get(name), state_of(after).get(name)
    print(f"\n{step_id}: {first} at {name}={was}, {moved} at {name}={now}")


# ---------------------------------------------------------------- frames only in sight


def test_a_view_paints_when_scrolled_to_and_stops_when_scrolled_away(learn: Page) -> None:
    asked: list[str] = []
    learn.on("request", lambda r: asked.append(r.url) if "/api/frames" in r.url else None)
    learn.goto("/learn")
    first = next(s.id for s in steps() if "panel=1" not in s.embed)
    learn.locator(f"#{first}").scroll_into_view_if_needed()
    reported(learn, first)
    view = view_of(learn, first)
    view.wait_for_function("() => window.dropoutLab.painted > 2")  # it plays
    learn.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    learn.wait_for_timeout(1500)  # the last frame asked before it left may still arrive
    state = state_of(STEPS[first].embed)

    def its_own() -> list[str]:  # the frames this step's view asked for (others come in sight)
        return [url for url in asked if all(f"{k}={v}" in url for k, v in state.items())]

    count = len(its_own())
    assert count > 0
    painted = view.evaluate("window.dropoutLab.painted")
    learn.wait_for_timeout(2500)
    assert view.evaluate("window.dropoutLab.painted") == painted
    assert len(its_own()) == count, its_own()[count:]


# ---------------------------------------------------------------- present mode, links


def current(page: Page) -> str:
    step_id: str = page.evaluate("document.querySelector('article.step.current')?.id ?? null")
    return step_id


def test_present_mode_moves_with_the_keys_clickers_send(learn: Page) -> None:
    ids = list(STEPS)
    learn.goto(f"/learn?present=1#{ids[1]}")
    learn.wait_for_function("() => window.dropoutLab?.learn?.ready")
    assert current(learn) == ids[1]
    assert learn.locator("article.step:visible").count() == 1
    for key, expected in [
        ("PageDown", ids[2]),
        ("ArrowRight", ids[3]),
        (" ", ids[4]),
        ("PageUp", ids[3]),
        ("ArrowLeft", ids[2]),
    ]:
        learn.locator("body").press(key) if key != " " else learn.keyboard.press("Space")
        assert current(learn) == expected, key
        assert learn.evaluate("location.hash") == f"#{expected}"
    learn.keyboard.press("r")
    learn.wait_for_function("(id) => window.dropoutLab.learn.revealed.includes(id)", arg=ids[2])
    learn.locator("#leave-present").click()
    assert learn.locator("article.step:visible").count() == len(ids)
    assert "present" not in learn.url


def test_a_step_link_opens_at_that_step(learn: Page) -> None:
    target = list(STEPS)[3]
    learn.goto(f"/learn#{target}")
    learn.wait_for_function("() => window.dropoutLab?.learn?.ready")
    top = learn.evaluate(f"document.getElementById('{target}').getBoundingClientRect().top")
    assert -5 <= top <= 40


def test_progress_stays_in_the_browser_and_resets(learn: Page) -> None:
    first = next(s.id for s in steps() if s.question.answer.source != "run")
    learn.goto(f"/learn#{first}")
    reported(learn, first)
    learn.locator(f"#{first} .reveal").click()
    revealed(learn, first)
    expect(learn.locator("#progress")).to_contain_text(f"1 of {len(STEPS)} answered")
    learn.reload()
    learn.wait_for_function("() => window.dropoutLab?.learn?.ready")
    expect(learn.locator("#progress")).to_contain_text(f"1 of {len(STEPS)} answered")
    expect(learn.locator(f"[data-step-link={first}]")).to_have_class(re.compile("answered"))
    learn.locator("#reset-progress").click()
    expect(learn.locator("#progress")).to_contain_text("none answered")
    assert learn.evaluate("localStorage.getItem('dropout-lab.learn')") is None


def test_the_handout_prints_a_page_per_step_with_every_view_and_answer(learn: Page) -> None:
    learn.goto("/learn")
    learn.wait_for_function("() => window.dropoutLab?.learn?.ready")
    # "Print handout" first loads every view and has it paint a still, in sight or not.
    ready = learn.evaluate("window.dropoutLab.learn.prepareHandout()")
    missing = learn.evaluate(
        "[...document.querySelectorAll('article.step')].map((s) => s.id)"
        ".filter((id) => !window.dropoutLab.learn.reports[id])"
    )
    views = {
        step_id: view_of(learn, step_id).evaluate(
            "JSON.stringify({painted: window.dropoutLab?.painted,"
            " errors: window.dropoutLab?.errors, shows: window.dropoutLab?.shows,"
            " visible: window.dropoutLab?.visible})"
        )
        for step_id in missing
    }
    stills = learn.evaluate("window.dropoutLab.learn.stills")
    assert (ready, missing) == (len(STEPS), []), (views, stills)
    # Each answer read from a view's frame is on the page; one from a training run is there
    # once the run has finished (a run starts when its panel is seen).
    shown = set(learn.evaluate("Object.keys(window.dropoutLab.learn.answers)"))
    assert {s.id for s in STEPS.values() if s.question.answer.source != "run"} <= shown
    pdf = learn.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == len(STEPS)


# ---------------------------------------------------------------- every student


@pytest.mark.parametrize("mode", ["path", "present"])
def test_axe_finds_nothing_on_the_lesson(learn: Page, mode: str) -> None:
    first = list(STEPS)[1]
    learn.goto(f"/learn{'?present=1' if mode == 'present' else ''}#{first}")
    reported(learn, first)
    found = Axe().run(learn, options=WCAG_AA).response["violations"]
    assert [f"{rule['id']}: {node['target']}" for rule in found for node in rule["nodes"]] == []
