"""What a lecturer does in front of a class: the layout on a projector, the keyboard after a
click, history after a drag, projector mode, Gaussian sigma off "auto", dropping a picture
anywhere, and the API docs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import drag_file_over, drop_dragged
from playwright.sync_api import Page, expect

from dropouts.lab.registry import METHODS
from dropouts.lab.views import views_of

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

CANVASES = ("#canvas-input", "#canvas-mask", "#canvas-train", "#canvas-test")


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800), (1440, 900), (1920, 1080)])
def test_the_four_views_and_the_player_fit_on_the_first_screen(
    page: Page, lab: Lab, size: tuple[int, int]
) -> None:
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    lab.open("?play=0")
    boxes = [page.locator(selector).bounding_box() for selector in CANVASES]
    for selector, box in zip(CANVASES, boxes, strict=True):
        assert box is not None, selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)
        assert box["width"] >= 180, (selector, box)  # readable, not a thumbnail
    # All four the same size, and each row aligned.
    assert len({(round(b["width"]), round(b["height"])) for b in boxes}) == 1  # type: ignore[index]
    tops = sorted(round(b["y"]) for b in boxes)  # type: ignore[index]
    assert tops[0] == tops[1] and tops[2] == tops[3]
    for control in ("#play", "#scrub", '#params [data-param="p"]'):
        box = page.locator(control).bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (control, box)
    # Nothing sticks out sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


def test_narrow_screens_pick_the_method_from_a_select(page: Page, lab: Lab) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    lab.open("?play=0")
    expect(page.locator("nav#picker")).to_be_hidden()
    select = page.get_by_label("method", exact=True)
    expect(select).to_have_value("standard")
    select.select_option("cutout")
    expect(page).to_have_url(re.compile(r"[?&]method=cutout(&|$)"))
    lab.wait_frame("(f) => f.key.startsWith('cutout|')")
    page.go_back()
    expect(select).to_have_value("standard")


def test_space_plays_and_pauses_right_after_a_click(page: Page, lab: Lab) -> None:
    lab.open("?play=0&speed=8")
    play = page.locator("#play")
    for target in (
        'nav#picker button.method[data-method="cutout"]',
        "#step-forward",
        "#scrub",
    ):
        page.locator(target).click()
        iteration = lab.last_frame["iteration"]
        page.keyboard.press(" ")
        expect(play).to_have_attribute("aria-pressed", "true")
        lab.wait_frame("(f, i) => f.iteration !== i", iteration)
        page.keyboard.press(" ")
        expect(play).to_have_attribute("aria-pressed", "false")
    # Space in a field still types: the seed box keeps its own keys.
    page.locator('#params [data-param="seed"]').click()
    page.keyboard.press(" ")
    expect(play).to_have_attribute("aria-pressed", "false")


def test_back_after_a_slider_drag_returns_to_the_value_before_it(page: Page, lab: Lab) -> None:
    lab.open("?method=standard&p=0.3&play=0")
    slider = lab.slider("p")
    box = slider.bounding_box()
    assert box is not None
    # A real drag with the mouse: many input events, one change at the end.
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    page.mouse.down()
    for fraction in (0.4, 0.5, 0.6, 0.7):
        page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
    page.mouse.up()
    expect(page).not_to_have_url(re.compile(r"[?&]p=0\.3(&|$)"))
    dragged_to = lab.query()["p"]
    lab.wait_frame("(f, p) => f.key.includes('p=' + p)", dragged_to)
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]p=0\.3(&|$)"))
    expect(slider).to_have_value("0.3")
    page.go_forward()
    expect(page).to_have_url(re.compile(rf"[?&]p={re.escape(dragged_to)}(&|$)"))


def test_projector_mode_redraws_the_charts_in_its_colours(page: Page, lab: Lab) -> None:
    lab.open("?play=0")
    page.locator("#chart-histogram .main-svg").first.wait_for()
    page.get_by_label("Projector mode").check()
    expect(page.locator("html")).to_have_attribute("data-theme", "contrast")
    ink = page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--ink').trim()"
    )
    for chart in ("#chart-histogram", "#chart-series"):
        page.wait_for_function(
            "([chart, ink]) => document.querySelector(chart)._fullLayout?.font?.color === ink",
            arg=[chart, ink],
        )
        size = page.evaluate(f"() => document.querySelector('{chart}')._fullLayout.font.size")
        assert size >= 16  # larger type on the projector
    page.get_by_label("Projector mode").uncheck()


def test_gaussian_sigma_off_auto_starts_from_the_auto_value(page: Page, lab: Lab) -> None:
    lab.open("?method=gaussian&p=0.5&play=0")
    lab.wait_frame("(f) => f.key.startsWith('gaussian|')")
    page.get_by_role("checkbox", name="auto").uncheck()
    # sigma = sqrt(p / (1 - p)) = 1 at p = 0.5, not the slider's minimum.
    expect(page).to_have_url(re.compile(r"[?&]sigma=1(&|$)"))
    expect(lab.slider("sigma")).to_have_value("1")
    expect(lab.slider("sigma")).to_be_enabled()


def test_a_picture_dropped_on_the_controls_is_used(page: Page, lab: Lab, wide_png: Path) -> None:
    lab.open("?play=0&method=cutout")
    transfer = drag_file_over(page, "#params", wide_png)
    expect(page.locator("#views")).to_have_class(re.compile(r"\bdragging\b"))
    drop_dragged(page, "#params", transfer)
    expect(page.locator("#views")).not_to_have_class(re.compile(r"\bdragging\b"))
    lab.wait_frame("(f) => /^cutout\\|u[0-9a-f]{24}\\|/.test(f.key)")
    assert lab.canvas_size("#canvas-input") == (512, 160)


def test_a_method_without_a_view_asks_the_server_for_no_frames(page: Page, lab: Lab) -> None:
    without = [m.id for m in METHODS if not views_of(m.id, m.views)][:2]
    if not without:
        pytest.skip("every method has a view built")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    for method in without:
        page.goto(f"/?method={method}")
        page.wait_for_function("() => window.dropoutLab?.ready === true")
        expect(page.locator("#no-view")).to_be_visible()
        page.wait_for_timeout(400)  # the series is scheduled 150 ms after the start
    assert not [url for url in requests if "/api/frames" in url]


def test_the_api_docs_render_every_endpoint_offline(page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/docs")
    expect(page.locator(".swagger-ui .information-container")).to_contain_text("Dropout Lab")
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    paths = set(operations.all_inner_texts())
    for path in ("/api/methods", "/api/images", "/api/frames", "/api/code"):
        assert any(path in shown for shown in paths), paths
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    base = page.url.split("/docs")[0]
    assert all(url.startswith(base) or url.startswith("data:") for url in requests), requests
