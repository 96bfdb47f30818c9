"""The lab as a visitor meets it: the cat playing, the picker, the player, history, code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from dropouts.lab.registry import METHODS
from dropouts.lab.views import views_of

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

IMAGE_METHODS = ("standard", "gaussian", "spatial", "cutout", "dropblock", "stochastic")
# Every method with a view built, in the registry's order (standard dropout first).
VIEWED_METHODS = tuple(m.id for m in METHODS if views_of(m.id, m.views))


def test_home_shows_the_cat_playing(page: Page, lab: Lab, tmp_path: Path) -> None:
    lab.open()
    query = lab.query()
    assert query["method"] == "standard"
    assert query["image"] == "cat"
    assert query["play"] == "1"
    # The cat, 451 x 300, on the input canvas and the three others.
    for canvas in ("#canvas-input", "#canvas-mask", "#canvas-train", "#canvas-test"):
        assert lab.canvas_size(canvas) == (451, 300)
    expect(page.locator("#method-name")).to_have_text("Standard dropout")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#play")).to_have_text("Pause")
    first = lab.last_frame
    assert first["key"].startswith("standard|cat|")
    # Playing: frames keep being painted and the iteration moves on.
    painted = lab.wait_painted_more(lab.probe["painted"], by=2)
    lab.wait_frame("(f, first) => f.iteration !== first", first["iteration"])
    assert lab.probe["painted"] >= painted
    expect(page.locator("#iteration-value")).not_to_have_text(str(first["iteration"]))
    # The statistics and the charts are drawn too.
    expect(lab.measured("pixels dropped")).to_have_text(re.compile(r"^0\.\d{3} expected 0\.500$"))
    expect(page.locator("#chart-series .main-svg").first).to_be_visible()
    expect(page.locator("#chart-histogram .main-svg").first).to_be_visible()
    assert lab.probe["errors"] == []

    shot = tmp_path / "main-view.png"
    page.locator("#lab").screenshot(path=shot)
    assert shot.stat().st_size > 10_000
    print(f"\nscreenshot of the main view: {shot}")


def test_picker_shows_each_method_with_a_view(page: Page, lab: Lab) -> None:
    lab.open("?play=0")
    names = lab.method_names()
    with_view = page.locator("nav#picker button.method:not(.no-view)")
    expect(with_view).to_have_count(len(VIEWED_METHODS))
    assert sorted(with_view.evaluate_all("(all) => all.map((b) => b.dataset.method)")) == sorted(
        VIEWED_METHODS
    )
    # Leave standard first so that clicking it is a change too.
    for method in (*VIEWED_METHODS[1:], VIEWED_METHODS[0]):
        button = page.locator(f'nav#picker button.method[data-method="{method}"]')
        button.click()
        expect(page).to_have_url(re.compile(rf"[?&]method={method}(&|$)"))
        frame = lab.wait_frame("(f, m) => f.key.startsWith(m + '|')", method)
        assert frame["key"].startswith(f"{method}|cat|0|")
        expect(page.locator("#method-name")).to_have_text(names[method])
        expect(button).to_have_attribute("aria-current", "true")
        expect(page.locator('nav#picker button.method[aria-current="true"]')).to_have_count(1)
        expect(page).to_have_title(f"{names[method]} · Dropout Lab")
        # Its own controls: the URL carries exactly the parameters the page has a control for
        # (beside the player, or in the view's own panel: the dense view's training run).
        for name in lab.query().keys() - {"method", "view", "image", "seed", "i", "play", "speed"}:
            expect(page.locator(f'#lab [data-param="{name}"]')).to_have_count(1)
    assert lab.probe["errors"] == []


def test_method_without_image_view(page: Page, lab: Lab) -> None:
    without = [m.id for m in METHODS if not views_of(m.id, m.views)]
    if not without:
        pytest.skip("every method has a view built")
    lab.open("?method=standard")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.locator(f'nav#picker button.method[data-method="{without[0]}"]').click()
    expect(page).to_have_url(re.compile(rf"[?&]method={without[0]}(&|$)"))
    expect(page.locator("#no-view")).to_be_visible()
    expect(page.locator("#no-view")).to_contain_text("Copy as code")
    expect(page.locator("#views")).to_be_hidden()
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    page.locator("#copy-code").click()
    expect(page.locator("#code-dialog")).to_contain_text("dropouts")
    page.keyboard.press("Escape")
    # Back on an image method, the views return and show it.
    page.locator('nav#picker button.method[data-method="cutout"]').click()
    expect(page.locator("#views")).to_be_visible()
    expect(page.locator("#no-view")).to_be_hidden()
    lab.wait_frame("(f) => f.key.startsWith('cutout|')")


def test_play_pause_and_keyboard(page: Page, lab: Lab) -> None:
    lab.open("?speed=8")
    play = page.locator("#play")
    expect(play).to_have_attribute("aria-pressed", "true")
    lab.wait_painted_more(lab.probe["painted"], by=2)

    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    expect(play).to_have_text("Play")
    expect(page).to_have_url(re.compile(r"[?&]play=0(&|$)"))
    # Paused: at 8 frames a second, 0.8 s would have shown about 6 frames.
    page.wait_for_timeout(200)  # a frame already requested may still land
    paused_at = lab.last_frame["iteration"]
    painted = lab.probe["painted"]
    page.wait_for_timeout(800)
    assert lab.last_frame["iteration"] == paused_at
    assert lab.probe["painted"] == painted

    # Keys act on the page once nothing is focused (a click on the title leaves focus).
    page.locator("h1").click()
    assert page.evaluate("() => document.activeElement === document.body")
    iteration = paused_at
    for key, step in (("ArrowRight", 1), ("ArrowRight", 1), ("ArrowLeft", -1)):
        page.keyboard.press(key)
        iteration = (iteration + step) % 100
        expect(page.locator("#iteration-value")).to_have_text(str(iteration))
        expect(page).to_have_url(re.compile(rf"[?&]i={iteration}(&|$)"))
        assert lab.wait_frame("(f, i) => f.iteration === i", iteration)["iteration"] == iteration
    expect(page.locator(".iteration-number")).to_have_text(str(iteration))

    # The step buttons do the same.
    page.locator("#step-forward").click()
    expect(page.locator("#iteration-value")).to_have_text(str((iteration + 1) % 100))
    page.locator("#step-back").click()
    expect(page.locator("#iteration-value")).to_have_text(str(iteration))

    # Space toggles playback (when no button has the focus).
    page.locator("h1").click()
    page.keyboard.press(" ")
    expect(play).to_have_attribute("aria-pressed", "true")
    lab.wait_frame("(f, i) => f.iteration !== i", iteration)
    page.keyboard.press(" ")
    expect(play).to_have_attribute("aria-pressed", "false")
    # Once paused, the URL catches up with the iteration shown.
    expect(page).to_have_url(re.compile(r"[?&]play=0(&|$)"))
    page.wait_for_function(
        """() => new URLSearchParams(location.search).get("i")
            === document.querySelector("#iteration-value").textContent"""
    )


def test_url_follows_playback(page: Page, lab: Lab) -> None:
    lab.open("?speed=8&i=0")
    lab.wait_frame("(f) => f.iteration >= 2")
    # Sample the address bar for 2.5 s of playback (about 20 frames): written at most 4 times
    # a second, it should show several iterations, not stay where playback started.
    seen = page.evaluate(
        """async () => {
            const seen = new Set();
            for (let t = 0; t < 2500; t += 50) {
                seen.add(new URLSearchParams(location.search).get("i"));
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
            return [...seen];
        }"""
    )
    assert lab.last_frame["iteration"] >= 10
    assert len(seen) >= 5, seen


def test_back_and_forward_restore_the_method(page: Page, lab: Lab) -> None:
    lab.open("?play=0")
    names = lab.method_names()
    for method in ("gaussian", "cutout"):
        page.locator(f'nav#picker button.method[data-method="{method}"]').click()
        lab.wait_frame("(f, m) => f.key.startsWith(m + '|')", method)

    for move, method in ((page.go_back, "gaussian"), (page.go_back, "standard")):
        move()
        expect(page).to_have_url(re.compile(rf"[?&]method={method}(&|$)"))
        picked = page.locator(f'nav#picker button.method[data-method="{method}"]')
        expect(picked).to_have_attribute("aria-current", "true")
        expect(page.locator("#method-name")).to_have_text(names[method])
        lab.wait_frame("(f, m) => f.key.startsWith(m + '|')", method)

    page.go_forward()
    expect(page).to_have_url(re.compile(r"[?&]method=gaussian(&|$)"))
    expect(page.locator('button.method[data-method="gaussian"]')).to_have_attribute(
        "aria-current", "true"
    )
    lab.wait_frame("(f) => f.key.startsWith('gaussian|')")
    # The sliders follow: Gaussian dropout has sigma, which standard dropout has not.
    expect(lab.slider("sigma")).to_have_count(1)


def test_copy_as_code(page: Page, lab: Lab) -> None:
    lab.open("?method=standard&p=0.3&play=0")
    page.locator("#copy-code").click()
    dialog = page.locator("#code-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("torch.nn.Dropout(p=0.3)")
    expect(dialog).to_contain_text("keras.layers.Dropout(rate=0.3)")
    expect(dialog.locator("pre", has_text="torch.nn.Dropout(p=")).to_have_count(1)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # After a slider move, the code follows the slider.
    lab.set_slider("p", 0.65)
    lab.wait_frame("(f) => f.key.includes('p=0.65')")
    page.locator("#copy-code").click()
    expect(dialog).to_contain_text("torch.nn.Dropout(p=0.65)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
