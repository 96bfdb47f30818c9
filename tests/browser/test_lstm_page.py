"""The LSTM view in Chromium: opened from the picker and from its link, the cell diagram marking
where each method's masks act, switching methods changes the heatmaps and whether the mask is
constant over time, the time cursor, the memory task streamed to the end (a small setting); no
console error (the autouse fixture); screenshots at 1280 x 800 and 1920 x 1080."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

HEAT = '#views canvas.lstm-heat[data-mask="{}"]'
ACTIVE = "#views svg.lstm-cell circle.mask-place.active"
MEMORY = "#view-extra section.memory-training"
CONSTANT = "mask constant over time"


def active_places(page: Page) -> list[str]:
    places: list[str] = page.eval_on_selector_all(
        ACTIVE, "(nodes) => nodes.map((n) => n.dataset.actsOn).sort()"
    )
    return places


def test_the_view_opens_from_the_picker(page: Page, lab: Lab) -> None:
    lab.open("?play=0")
    page.locator('nav#picker button.method[data-method="rnndrop"]').click()
    expect(page).to_have_url(re.compile(r"[?&]method=rnndrop(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]view=lstm(&|$)"))
    frame = lab.wait_frame("(f) => f.view === 'lstm'")
    assert frame["key"].startswith("rnndrop|")
    expect(page.locator(HEAT.format("mask_cell"))).to_be_visible()
    expect(page.locator(HEAT.format("naive_mask"))).to_be_visible()
    assert active_places(page) == ["c"]
    expect(lab.measured(CONSTANT)).to_contain_text("yes")
    expect(page.locator("#views .lstm-equations tr.current")).to_contain_text("RNNDrop")


@pytest.mark.parametrize(
    ("method", "places", "constant"),
    [
        ("recurrent", ["g"], "no"),
        ("variational_rnn", ["h", "x"], "yes"),
        ("zoneout", ["c", "h"], "no"),
    ],
)
def test_the_view_opens_from_its_link(
    page: Page, lab: Lab, method: str, places: list[str], constant: str
) -> None:
    lab.open(f"?method={method}&view=lstm&play=0&i=4")
    lab.wait_frame("(f) => f.view === 'lstm' && f.iteration === 4")
    assert active_places(page) == places
    expect(lab.measured(CONSTANT)).to_contain_text(constant)
    expect(page.locator("#views .lstm-trajectory")).to_have_count(4)
    expect(page.locator("#link-notice")).to_be_hidden()


def test_switching_methods_changes_the_heatmaps(page: Page, lab: Lab) -> None:
    lab.open("?method=rnndrop&view=lstm&play=0&i=2")
    lab.wait_frame("(f) => f.view === 'lstm' && f.key.startsWith('rnndrop|')")
    rnndrop = lab.canvas_digest(HEAT.format("mask_cell"))
    painted = int(lab.probe["painted"])
    page.locator('nav#picker button.method[data-method="recurrent"]').click()
    lab.wait_frame("(f) => f.key.startsWith('recurrent|')")
    lab.wait_painted_more(painted)
    expect(page.locator(HEAT.format("mask_update"))).to_be_visible()
    expect(page.locator(HEAT.format("mask_cell"))).to_have_count(0)
    assert lab.canvas_digest(HEAT.format("mask_update")) != rnndrop
    expect(lab.measured(CONSTANT)).to_contain_text("no")
    assert active_places(page) == ["g"]
    # A new iteration: a new sequence and new masks.
    before = lab.canvas_digest(HEAT.format("mask_update"))
    page.keyboard.press("ArrowRight")
    lab.wait_frame("(f) => f.iteration === 3")  # the view paints before the probe moves on
    assert lab.canvas_digest(HEAT.format("mask_update")) != before


def test_the_time_cursor_moves_the_statistics(page: Page, lab: Lab) -> None:
    lab.open("?method=zoneout&view=lstm&play=0")
    lab.wait_frame("(f) => f.view === 'lstm'")
    before = lab.canvas_digest(HEAT.format("mask_zoneout_c"))
    page.locator("#lstm-time").fill("9")
    expect(page.locator(".lstm-time output")).to_have_text("10 of 50")
    assert lab.canvas_digest(HEAT.format("mask_zoneout_c")) != before  # the cursor moved
    page.locator(".lstm-time button").click()  # sweep through time
    expect(page.locator(".lstm-time output")).to_have_text("50 of 50", timeout=10_000)


def test_the_memory_task_runs_to_the_end(page: Page, lab: Lab) -> None:
    lab.open("?method=variational_rnn&view=lstm&play=0&memory_k=4&memory_steps=100")
    lab.wait_frame("(f) => f.view === 'lstm'")
    page.locator(MEMORY).scroll_into_view_if_needed()
    page.wait_for_function("() => window.dropoutLab.memory?.state === 'done'", timeout=150_000)
    memory = lab.probe["memory"]
    assert memory["trained"] == ["none", "naive", "rnndrop", "recurrent", "variational", "zoneout"]
    assert memory["final"]["longest"] == [2, 3, 4]
    expect(page.locator(f"{MEMORY} .training-status")).to_contain_text("Done")
    expect(page.locator(f"{MEMORY} .memory-table tbody tr")).to_have_count(6)
    page.wait_for_function("() => window.dropoutLab.memory.drawn === 6")
    legend = page.locator(f"{MEMORY} .memory-chart").inner_text()
    assert "naive dropout" in legend and "zoneout" in legend and "chance" in legend
    # The memory controls are the view's own, in the URL.
    expect(page.locator(f'{MEMORY} [data-param="memory_k"]')).to_have_value("4")


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_screenshots(page: Page, lab: Lab, tmp_path: Path, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    lab.open("?method=rnndrop&view=lstm&play=0&i=3")
    lab.wait_frame("(f) => f.view === 'lstm' && f.iteration === 3")
    expect(page.locator("#chart-series .main-svg").first).to_be_visible()
    shot = tmp_path / f"lstm-{width}x{height}.png"
    page.screenshot(path=str(shot))
    full = tmp_path / f"lstm-{width}x{height}-full.png"
    page.screenshot(path=str(full), full_page=True)
    print(f"\n{shot}\n{full}")
    assert shot.stat().st_size > 10_000
