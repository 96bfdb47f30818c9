"""Every student: WCAG 2.1 A and AA checked by axe-core (axe-playwright-python bundles it, no
download), reduced motion, a live region that speaks each frame without flooding, text for
every chart, picture and diagram, and the lab driven by the keyboard alone.

The axe command, on any page: ``.venv/bin/pytest tests/browser/test_accessibility.py -k axe``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dropouts.lab.views import BUILT

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

# One page per view (its first method), a comparison, and the embeds.
PAGES = {
    f"view {view_id}": f"/?method={view.methods[0]}&view={view_id}"
    for view_id, view in BUILT.items()
}
PAGES |= {
    "view dense, Standout": "/?method=standout&view=dense",
    "comparison": "/?view=image&a.method=standard&b.method=dropblock&c.method=cutout",
    "embed": "/embed?method=cutout&view=image",
    "embed, dense": "/embed?method=dropconnect&view=dense",
    "embed, comparison": "/embed?view=image&a.method=standard&b.method=dropblock",
}


def violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.0/2.1 A and AA violations, one line per rule and node."""
    result = Axe().run(page, options=WCAG_AA)
    found: list[dict[str, Any]] = result.response["violations"]
    return [
        f"{rule['id']} ({rule['impact']}): {node['target']} {node['failureSummary']}"
        for rule in found
        for node in rule["nodes"]
    ]


def settle(page: Page) -> None:
    """The first frame painted, the charts drawn, the panels below the view (loaded when
    scrolled to) on screen."""
    page.wait_for_function(
        "() => window.dropoutLab?.ready === true && window.dropoutLab.painted > 0"
    )
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(2500)
    page.evaluate("window.scrollTo(0, 0)")


@pytest.fixture
def themed(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in the theme the test is parametrised with (projector: the lab page's stored
    choice; an embed takes ``theme=contrast`` from its link)."""
    theme: str = request.param
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    if theme == "contrast":
        context.add_init_script("window.localStorage.setItem('theme', 'contrast')")
    page = context.new_page()
    page.theme = theme  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.mark.parametrize("themed", ["light", "contrast"], indirect=True)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_axe_finds_nothing(themed: Page, name: str) -> None:
    url = PAGES[name] + "&play=0"
    if themed.theme == "contrast" and url.startswith("/embed"):  # type: ignore[attr-defined]
        url += "&theme=contrast"
    themed.goto(url)
    settle(themed)
    if themed.theme == "contrast":  # type: ignore[attr-defined]
        assert themed.evaluate("document.documentElement.dataset.theme") == "contrast"
    assert violations(themed) == []


# ---------------------------------------------------------------- reduced motion


@pytest.fixture
def reduced(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=base_url, reduced_motion="reduce")
    yield context
    context.close()


@pytest.mark.parametrize(
    "url",
    [
        "/?method=standard&play=1&speed=15",
        "/embed?method=standard&play=1&speed=15",
        "/?view=image&a.method=standard&b.method=cutout&play=1&speed=15",
        "/embed?view=image&a.method=standard&b.method=cutout&play=1&speed=15",
    ],
)
def test_reduced_motion_opens_paused_and_play_still_plays(
    reduced: BrowserContext, url: str
) -> None:
    page = reduced.new_page()
    page.goto(url)
    page.wait_for_function("() => window.dropoutLab?.painted > 0")
    play = page.locator("#play")
    expect(play).to_be_visible()
    expect(play).to_have_text("Play")
    expect(play).to_have_attribute("aria-pressed", "false")
    page.wait_for_timeout(1200)  # at 15 a second, 18 iterations would have gone by
    expect(page.locator("#iteration-value")).to_have_text("0")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(
        "() => Number(document.querySelector('#iteration-value').textContent) >= 3"
    )


def test_without_reduced_motion_a_playing_link_plays(page: Page, lab: Lab) -> None:
    lab.open("?method=standard&play=1&speed=15")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("() => window.dropoutLab.lastFrame.iteration >= 3")


# ---------------------------------------------------------------- text alternatives


def test_the_live_region_speaks_each_settled_frame(page: Page, lab: Lab) -> None:
    lab.open("?method=cutout&play=0")
    region = page.locator("#announcer")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_contain_text("Iteration 0")
    page.locator("#step-forward").click()
    expect(region).to_contain_text("Iteration 1")
    # The view's key figure against its expectation, from the numbers the page shows.
    text = region.text_content() or ""
    assert "%" in text and "expected" in text, text


def test_playing_does_not_flood_the_live_region(page: Page, lab: Lab) -> None:
    """At 15 frames a second for 11 s: 160 frames, at most one sentence every 5 s."""
    from_start = lab.open("?method=standard&play=0&speed=15").probe["announced"]
    page.locator("#play").click()
    start = int(lab.probe["painted"])
    page.wait_for_timeout(11_000)
    probe = lab.probe
    painted = int(probe["painted"]) - start
    spoken = len(probe["announced"]) - len(from_start)
    assert painted >= 40, painted
    assert 1 <= spoken <= 3, (spoken, painted)


@pytest.mark.parametrize("view_id", sorted(BUILT))
def test_every_chart_picture_and_diagram_has_words(page: Page, lab: Lab, view_id: str) -> None:
    lab.open(f"?method={BUILT[view_id].methods[0]}&view={view_id}&play=0")
    settle(page)
    page.wait_for_function("() => document.querySelectorAll('.stats .js-plotly-plot').length === 2")
    missing = page.evaluate(
        """() => {
            const missing = [];
            const shown = (node) => node.getClientRects().length > 0;
            for (const chart of document.querySelectorAll(".js-plotly-plot")) {
                if (!shown(chart)) continue;
                const note = chart.getAttribute("aria-describedby") ?? "";
                const described = document.getElementById(note)?.textContent.trim();
                const role = chart.getAttribute("role");
                const named = role === "img" && chart.getAttribute("aria-label");
                if (!named || !described) missing.push(`chart ${chart.id || chart.className}`);
            }
            for (const diagram of document.querySelectorAll("svg[role=img]")) {
                const title = diagram.firstElementChild;
                const titled = title?.tagName === "title" && title.textContent.trim();
                if (!titled) missing.push(`svg ${diagram.getAttribute("class")}`);
            }
            for (const picture of document.querySelectorAll("canvas, img")) {
                const skipped = picture.closest("[aria-hidden=true], .js-plotly-plot");
                if (!shown(picture) || skipped) continue;
                const named = picture.getAttribute("aria-label") || picture.getAttribute("alt")
                    || picture.closest("[role=img][aria-label]");
                if (!named) missing.push(`${picture.tagName} ${picture.id || picture.className}`);
            }
            return missing;
        }"""
    )
    assert missing == []
    # The statistics charts describe the current values, not only what they are.
    series = page.locator("#chart-series")
    described = page.locator(f"#{series.get_attribute('aria-describedby')}")
    expect(described).to_contain_text("Over 100 iterations")
    expect(described).to_contain_text("measured")


# ---------------------------------------------------------------- the keyboard alone


def focused(page: Page) -> dict[str, Any]:
    """The focused element: what it is, and whether a focus ring shows on it."""
    info: dict[str, Any] = page.evaluate(
        """() => {
            const node = document.activeElement;
            const style = getComputedStyle(node);
            const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
            return {
                id: node.id, tag: node.tagName.toLowerCase(), param: node.dataset?.param ?? null,
                method: node.dataset?.method ?? null, ring,
            };
        }"""
    )
    return info


def tab_to(page: Page, wanted: str, key: str = "Tab", limit: int = 80) -> list[dict[str, Any]]:
    """Press Tab (or ``key``) until the focus is on ``wanted`` (a CSS selector); every stop on
    the way."""
    stops = []
    for _ in range(limit):
        page.keyboard.press(key)
        stops.append(focused(page))
        if page.evaluate("(s) => document.activeElement.matches(s)", wanted):
            return stops
    raise AssertionError(f"Tab never reached {wanted}: {stops}")


@pytest.mark.parametrize("theme", ["light", "contrast"])
def test_the_keyboard_alone_drives_the_lab(
    browser: Browser, base_url: str, make_lab: Any, theme: str
) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    if theme == "contrast":
        context.add_init_script("window.localStorage.setItem('theme', 'contrast')")
    page = context.new_page()
    try:
        lab = make_lab(page).open("?method=standard&p=0.5&play=0&speed=8")
        stops = tab_to(page, "nav#picker button.method")
        # The header's actions first, then the list of methods: one stop, the current method.
        assert [s["id"] for s in stops[1:6]] == [
            "copy-link",
            "copy-code",
            "compare",
            "open-embed",
            "open-export",
        ], stops
        assert stops[-1]["method"] == "standard"
        # Pick a method: the up and down arrows move through the list, Space picks.
        page.keyboard.press("ArrowDown")
        assert focused(page)["method"] == "gaussian"
        page.keyboard.press(" ")
        page.wait_for_url("**method=gaussian*")
        # Move a slider.
        stops += tab_to(page, '#params input[data-param="p"]')
        before = lab.query()["p"]
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "(b) => new URLSearchParams(location.search).get('p') !== b", arg=before
        )
        # Play and pause: the player is just before the parameters.
        stops += tab_to(page, "#play", key="Shift+Tab")
        play = page.locator("#play")
        page.keyboard.press(" ")
        expect(play).to_have_attribute("aria-pressed", "true")
        page.keyboard.press(" ")
        expect(play).to_have_attribute("aria-pressed", "false")
        # Embed and Export open with Space and close with Escape, the focus back on the button.
        for button, dialog in (("#open-embed", "#embed-dialog"), ("#open-export", "#embed-dialog")):
            page.locator(button).focus()
            page.keyboard.press(" ")
            expect(page.locator(dialog)).to_be_visible()
            page.keyboard.press("Escape")
            expect(page.locator(dialog)).to_be_hidden()
            assert focused(page)["id"] == button[1:]
        # Every stop on the way showed a focus ring.
        assert [s for s in stops if not s["ring"]] == []
    finally:
        context.close()


def test_the_formula_scrolls_from_the_keyboard(page: Page, lab: Lab) -> None:
    lab.open("?method=dropconnect&view=dense&play=0")
    formula = page.locator("#method-formula")
    expect(formula).to_have_attribute("role", "group")
    expect(formula).to_have_attribute("tabindex", "0")
