"""Phones and tablets: the view's picture first and above the fold with the player at hand,
the parameters under it, the header's actions in one menu, no horizontal scrolling down to
320 px, sliders that a finger drags, and an embed legible at 390 px. Every view is
photographed at 390 x 844 and 768 x 1024 (the files are named in the test output: look at
them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dropouts.lab.views import BUILT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
SMALLEST = {"width": 320, "height": 640}

PAGES = {
    view_id: f"/?method={view.methods[0]}&view={view_id}&play=0" for view_id, view in BUILT.items()
}
PAGES |= {
    "comparison": "/?view=image&a.method=standard&b.method=dropblock&play=0",
    "embed": "/embed?method=cutout&view=image&play=0",
}


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screens")


def device(browser: Browser, base_url: str, viewport: dict[str, int]) -> BrowserContext:
    """A touch screen of that size, as a phone's browser lays pages out (meta viewport)."""
    return browser.new_context(
        base_url=base_url, viewport=viewport, is_mobile=True, has_touch=True, device_scale_factor=2
    )


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Page]:
    context = device(browser, base_url, PHONE)
    yield context.new_page()
    context.close()


def opened(page: Page, url: str) -> Page:
    page.goto(url)
    page.wait_for_function("() => window.dropoutLab?.painted > 0")
    page.wait_for_timeout(800)
    return page


def overflow(page: Page, width: int) -> list[str]:
    """Elements that stick out of a ``width``-wide screen (none may: no sideways scrolling);
    not those inside a box that clips or scrolls them and itself fits."""
    found: list[str] = page.evaluate(
        """(width) => {
            const out = [];
            const fits = (node) => node.getBoundingClientRect().right <= width + 1;
            const clips = (node) => getComputedStyle(node).overflowX !== "visible";
            const held = (node) => {
                for (let up = node.parentElement; up; up = up.parentElement) {
                    if (clips(up) && fits(up)) return true;
                }
                return false;
            };
            const page = document.documentElement.scrollWidth;
            if (page > width) out.push(`page ${page}`);
            for (const node of document.querySelectorAll("body *")) {
                const box = node.getBoundingClientRect();
                const parent = node.parentElement.getBoundingClientRect();
                const sticksOut = box.width && box.right > width + 1 && parent.right <= width + 1;
                if (sticksOut && !held(node)) {
                    const name = `${node.tagName.toLowerCase()}.${node.getAttribute("class")}`;
                    out.push(`${name} ${Math.round(box.right)}`);
                }
            }
            return out;
        }""",
        width,
    )
    return found


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("size", [PHONE, TABLET, SMALLEST], ids=["phone", "tablet", "320"])
def test_no_sideways_scrolling_and_a_photograph(
    browser: Browser, base_url: str, screens: Path, name: str, size: dict[str, int]
) -> None:
    context = device(browser, base_url, size)
    try:
        page = opened(context.new_page(), PAGES[name])
        assert overflow(page, size["width"]) == []
        if size is not SMALLEST:
            path = screens / f"{name}-{size['width']}x{size['height']}.png"
            page.screenshot(path=path)
            print(f"look at {path}")
    finally:
        context.close()


@pytest.mark.parametrize("view_id", sorted(BUILT))
def test_the_picture_first_above_the_fold_with_the_player(phone: Page, view_id: str) -> None:
    page = opened(phone, PAGES[view_id])
    height = PHONE["height"]
    view = box(page, "#views")
    player = box(page, ".player")
    assert view["y"] < height / 2, view  # the view's top in the first half of the screen
    assert player["y"] >= 0 and player["y"] + player["height"] <= height + 1, player
    # The parameters come after the picture; the method's summary and formula after them.
    assert box(page, "#params")["y"] > view["y"]
    assert box(page, ".method-head")["y"] > box(page, "#params")["y"]
    picture = page.locator("#views canvas, #views svg[role=img], #views .js-plotly-plot").first
    top = picture.bounding_box()
    assert top is not None and top["y"] < height - player["height"], top


def test_the_header_actions_are_one_menu(phone: Page) -> None:
    page = opened(phone, "/?method=standard&play=0")
    toggle = page.locator("#menu-toggle")
    actions = page.locator("#top-actions")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(actions).to_be_hidden()
    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for name in ("Copy link", "Copy as code", "Compare", "Embed", "Export"):
        button = actions.get_by_role("button", name=name)
        expect(button).to_be_visible()
        shown = button.bounding_box()
        assert shown is not None and shown["x"] >= 0 and shown["x"] + shown["width"] <= 390
    page.keyboard.press("Escape")
    expect(actions).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.tap()
    actions.get_by_role("button", name="Embed").tap()  # an action closes the menu
    expect(page.locator("#embed-dialog")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")


def drag_by_touch(page: Page, selector: str, to_fraction: float) -> None:
    """A finger on the slider's thumb, moved along the track to ``to_fraction`` of it."""
    slider = box(page, selector)
    value = page.eval_on_selector(selector, "(s) => (s.value - s.min) / (s.max - s.min)")
    y = slider["y"] + slider["height"] / 2
    start = slider["x"] + slider["width"] * float(value)
    end = slider["x"] + slider["width"] * to_fraction
    session = page.context.new_cdp_session(page)

    def touch(kind: str, x: float) -> None:
        points: list[dict[str, Any]] = [] if kind == "touchEnd" else [{"x": x, "y": y}]
        session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", start)
    for k in range(1, 11):
        touch("touchMove", start + (end - start) * k / 10)
    touch("touchEnd", end)


def test_a_finger_drags_a_slider(phone: Page) -> None:
    page = opened(phone, "/?method=standard&p=0.5&play=0")
    slider = '#params input[data-param="p"]'
    page.locator(slider).scroll_into_view_if_needed()
    drag_by_touch(page, slider, 0.85)
    page.wait_for_function("() => new URLSearchParams(location.search).get('p') > '0.7'")
    expect(page.locator(slider)).not_to_have_value("0.5")
    page.wait_for_function("() => window.dropoutLab.lastFrame.key.includes('0.8')")


def test_the_embed_is_legible_at_390(phone: Page) -> None:
    page = opened(phone, "/embed?method=cutout&view=image&play=0")
    assert overflow(page, PHONE["width"]) == []
    # Its pictures are large enough to see and its words large enough to read.
    canvases = page.locator("#views canvas:visible")
    assert canvases.count() >= 2
    for k in range(canvases.count()):
        shown = canvases.nth(k).bounding_box()
        assert shown is not None and shown["width"] >= 140, shown
    sizes: list[float] = page.evaluate(
        """() => [...document.querySelectorAll("#views figcaption, .embed-bar label, dt")]
            .filter((node) => node.getClientRects().length)
            .map((node) => parseFloat(getComputedStyle(node).fontSize))"""
    )
    assert sizes and min(sizes) >= 12, sizes
