"""Parameters and the URL: the slider drives the mask, a copied link reproduces the view, a bad
link is clamped rather than refused."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import BrowserContext, Page, expect

if TYPE_CHECKING:
    from conftest import ConsoleErrors, Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

CAT_PIXELS = 451 * 300


def test_p_slider_moves_the_dropped_fraction(page: Page, lab: Lab) -> None:
    lab.open("?method=standard&play=0&i=3")
    assert lab.canvas_size("#canvas-mask") == (451, 300)
    for p in (0.1, 0.8):
        before = len(lab.probe["latencies"])
        lab.set_slider("p", p)
        frame = lab.wait_frame("(f, p) => f.key.includes(`p=${p}&`)", p)
        assert frame["iteration"] == 3  # paused: the slider does not move the iteration
        # Each pixel is dropped independently: binomial, 4 standard errors.
        bound = 4 * math.sqrt(p * (1 - p) / CAT_PIXELS)
        assert abs(frame["dropped"] - p) <= bound, (p, frame)
        shown = f"{frame['dropped']:.3f}"
        expect(lab.measured("pixels dropped")).to_have_text(f"{shown} expected {p:.3f}")
        expect(page).to_have_url(re.compile(rf"[?&]p={p}(&|$)"))
        assert len(lab.probe["latencies"]) > before  # slider input -> paint was timed
    assert all(0 < ms < 10_000 for ms in lab.probe["latencies"])


BAD_LINKS = [
    ("?method=standard&p=7", {"method": "standard", "p": "1"}, {"p": "1"}),
    ("?method=standard&p=-2&i=500&speed=3", {"p": "0", "i": "99", "speed": "4"}, {"p": "0"}),
    ("?method=cutout&size=-5&n_holes=99", {"size": "1", "n_holes": "20"}, {"n_holes": "20"}),
    ("?method=nonsense&seed=abc&play=maybe", {"method": "standard", "seed": "0"}, {}),
    ("?method=gaussian&p=0.5&sigma=", {"method": "gaussian"}, {"p": "0.5"}),
]


@pytest.mark.parametrize(("link", "in_url", "sliders"), BAD_LINKS)
def test_bad_link_is_clamped(
    page: Page, lab: Lab, link: str, in_url: dict[str, str], sliders: dict[str, str]
) -> None:
    lab.open(link)
    query = lab.query()
    for name, value in in_url.items():
        assert query[name] == value, (name, query)
    for name, value in sliders.items():
        expect(lab.slider(name)).to_have_value(value)
    frame = lab.last_frame
    assert frame["key"].startswith(query["method"] + "|")
    if query.get("p") == "1":
        assert frame["dropped"] == 1.0  # clamped to p = 1: every pixel dropped
    expect(page.locator("#error")).to_be_hidden()
    assert lab.probe["errors"] == []


def test_an_adjusted_link_says_what_it_shows_instead(page: Page, lab: Lab) -> None:
    notice = page.locator("#link-notice")
    lab.open("?method=standard&p=7&play=0")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("p=7 is not allowed (0 to 1); showing p = 1")
    expect(notice).to_have_attribute("role", "status")
    lab.set_slider("p", 0.4)  # the visitor takes over: the notice goes
    expect(notice).to_be_hidden()
    lab.open("?method=nonsense&speed=3&play=0")
    expect(notice).to_contain_text("there is no method “nonsense”; showing standard")
    expect(notice).to_contain_text("speed=3 is not offered")
    lab.open("?method=gaussian&p=0.5&sigma=&play=0")  # sigma left on auto: nothing to say
    expect(notice).to_be_hidden()


def test_copied_link_reproduces_the_view(
    page: Page,
    lab: Lab,
    context: BrowserContext,
    new_context: Callable[..., BrowserContext],
    make_lab: Callable[[Page], Lab],
    console_errors: ConsoleErrors,
) -> None:
    lab.open("?method=dropblock&play=0")
    lab.set_slider("p", 0.35)
    lab.set_slider("block_size", 15)
    seed = page.locator('#params [data-param="seed"]')
    seed.fill("1234")
    seed.press("Tab")  # the seed is taken on change
    page.locator("#scrub").fill("7")
    page.locator("#step-forward").click()
    frame = lab.wait_frame(
        "(f) => f.iteration === 8 && f.key === 'dropblock|cat|1234|p=0.35&block_size=15|image'"
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#copy-link").click()
    expect(page.locator("#toast")).to_contain_text("Link copied")
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link == page.url
    query = lab.query()
    assert (query["method"], query["seed"], query["p"]) == ("dropblock", "1234", "0.35")
    assert (query["block_size"], query["i"], query["play"]) == ("15", "8", "0")
    canvases = ("#canvas-mask", "#canvas-train", "#canvas-test")
    digests = {canvas: lab.canvas_digest(canvas) for canvas in canvases}

    # Someone else opens the link: a fresh context, nothing cached, no history.
    other = console_errors.watch(new_context().new_page())
    again = make_lab(other)
    other.goto(link)
    other.wait_for_function("() => window.dropoutLab?.ready === true")
    assert again.last_frame == frame
    assert {canvas: again.canvas_digest(canvas) for canvas in canvases} == digests
    expect(other.locator("#play")).to_have_attribute("aria-pressed", "false")
    expect(again.slider("p")).to_have_value("0.35")
    expect(again.slider("block_size")).to_have_value("15")
    expect(other.locator('#params [data-param="seed"]')).to_have_value("1234")
    expect(other.locator("#iteration-value")).to_have_text("8")
    # A different seed gives a different mask (the digest does measure something).
    other.locator('#params [data-param="seed"]').fill("1235")
    other.locator('#params [data-param="seed"]').press("Tab")
    again.wait_frame("(f) => f.key.startsWith('dropblock|cat|1235|')")
    assert again.canvas_digest("#canvas-mask") != digests["#canvas-mask"]
