"""The residual view (DropPath on a residual stack) in Chromium: opened from the picker and from
its link, the drawing's dropped branches the API's gates, the gate mode switched between row
and batch redraws the stack (per sample against one gate per block for the whole batch), the
rule redraws the survival chart; no console error (the autouse fixture); screenshots of the
page at 1280 x 800 and 1920 x 1080 and of the embed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

STACK = "#views svg.stack"


def frames(live_server: str, query: str) -> dict[str, Any]:
    response = httpx.get(
        f"{live_server}/api/frames?view=residual&method=droppath&format=json&{query}", timeout=60
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def drawn_states(page: Page) -> list[list[str]]:
    """Per sample (row of the drawing), per block: "kept" or "dropped", as drawn."""
    states: list[list[str]] = page.evaluate(
        """(selector) => {
            const rows = {};
            for (const g of document.querySelectorAll(`${selector} g.branch:not(.test)`)) {
                const b = Number(g.dataset.sample), l = Number(g.dataset.block);
                (rows[b] ??= [])[l - 1] = g.classList.contains("dropped") ? "dropped" : "kept";
            }
            return Object.keys(rows).sort((a, b) => a - b).map((b) => rows[b]);
        }""",
        STACK,
    )
    return states


def gates_as_states(gates: list[list[float]]) -> list[list[str]]:
    return [["dropped" if g == 0 else "kept" for g in row] for row in gates]


def test_the_view_opens_from_the_picker(page: Page, lab: Lab) -> None:
    lab.open("?play=0")
    page.locator('nav#picker button.method[data-method="droppath"]').click()
    expect(page).to_have_url(re.compile(r"[?&]method=droppath(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]view=residual(&|$)"))
    frame = lab.wait_frame("(f) => f.view === 'residual'", timeout=30_000)
    assert frame["key"].startswith("droppath|")
    expect(page.locator(STACK)).to_be_visible()
    # 8 samples x 8 blocks while training, and the test-time row's 8 branches
    expect(page.locator(f"{STACK} g.branch:not(.test)")).to_have_count(64)
    expect(page.locator(f"{STACK} g.branch.test")).to_have_count(8)
    expect(page.locator("#views .expected-depth")).to_contain_text("E[depth]")
    expect(page.locator("#views .test-rule")).to_contain_text("identity")
    expect(lab.measured("branches dropped")).to_have_text(re.compile(r"\d"))


def test_the_view_opens_from_its_link_with_the_apis_gates(
    page: Page, lab: Lab, live_server: str
) -> None:
    lab.open("?method=droppath&view=residual&play=0&i=7&p=0.5&blocks=6&batch=5")
    lab.wait_frame("(f) => f.view === 'residual' && f.iteration === 7")
    api = frames(live_server, "p=0.5&blocks=6&batch=5&start=7&count=1")
    expect(page.locator(f"{STACK} g.branch:not(.test)")).to_have_count(30)
    assert drawn_states(page) == gates_as_states(api["frames"][0]["gates"]["value"])
    theory = api["theory"]
    expect(page.locator("#views .expected-depth")).to_contain_text(
        f"= {theory['expected_depth']:.2f}"
    )
    dropped = sum(g == 0 for row in api["frames"][0]["gates"]["value"] for g in row)
    expect(page.locator("#views .stack-figure figcaption")).to_contain_text(
        f"{dropped} of 30 branches dropped"
    )
    expect(page.locator("#link-notice")).to_be_hidden()


def test_switching_row_and_batch_mode_redraws_the_stack(
    page: Page, lab: Lab, live_server: str
) -> None:
    lab.open("?method=droppath&view=residual&play=0&i=3&p=0.6&rule=constant")
    lab.wait_frame("(f) => f.view === 'residual' && f.iteration === 3")
    row_mode = drawn_states(page)
    # Row mode: a gate per sample; at s = 0.4 on 8 blocks some block differs across samples.
    assert any(len({row[k] for row in row_mode}) > 1 for k in range(8)), row_mode
    before = page.locator(STACK).inner_html()
    page.locator('#params [data-param="mode"]').select_option("batch")
    expect(page).to_have_url(re.compile(r"[?&]mode=batch(&|$)"))
    lab.wait_frame("(f) => f.key.includes('mode=batch')")
    page.wait_for_function(
        "(s) => document.querySelector(s).getAttribute('aria-label').includes('iteration 3')",
        arg=STACK,
    )
    expect(page.locator("#views .stack-figure figcaption")).to_contain_text("batch mode")
    assert page.locator(STACK).inner_html() != before
    batch_mode = drawn_states(page)
    assert all(row == batch_mode[0] for row in batch_mode), batch_mode  # one gate per block
    api = frames(live_server, "p=0.6&rule=constant&mode=batch&start=3&count=1")
    assert batch_mode == gates_as_states(api["frames"][0]["gates"]["value"])
    # And back: the row-mode drawing again, the same as before (same seed, same iteration).
    page.locator('#params [data-param="mode"]').select_option("row")
    lab.wait_frame("(f) => f.key.includes('mode=row')")
    expect(page.locator("#views .stack-figure figcaption")).to_contain_text("row mode")
    assert drawn_states(page) == row_mode
    # Stepping on in batch mode keeps every row alike and changes the gates over iterations.
    page.locator('#params [data-param="mode"]').select_option("batch")
    lab.wait_frame("(f) => f.key.includes('mode=batch')")
    seen = set()
    for iteration in range(4, 9):
        page.keyboard.press("ArrowRight")
        lab.wait_frame("(f, i) => f.iteration === i", iteration)
        page.wait_for_function(
            "([s, i]) => document.querySelector(s).getAttribute('aria-label')"
            ".startsWith(`iteration ${i}:`)",
            arg=[STACK, iteration],
        )
        states = drawn_states(page)
        assert all(row == states[0] for row in states)
        seen.add(tuple(states[0]))
    assert len(seen) > 1


def test_the_rule_redraws_the_survival_chart(page: Page, lab: Lab) -> None:
    lab.open("?method=droppath&view=residual&play=0&p=0.5&blocks=4")
    lab.wait_frame("(f) => f.view === 'residual'")
    chart = page.locator("#views svg.survival-chart")
    expect(chart).to_have_attribute("aria-label", re.compile(r"0\.88, 0\.75, 0\.63, 0\.50$"))
    expect(page.locator("#views .expected-depth")).to_contain_text("= 2.75")
    page.locator('#params [data-param="rule"]').select_option("constant")
    expect(page).to_have_url(re.compile(r"[?&]rule=constant(&|$)"))
    expect(chart).to_have_attribute("aria-label", re.compile(r"0\.50, 0\.50, 0\.50, 0\.50$"))
    expect(page.locator("#views .expected-depth")).to_contain_text("= 2.00")


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_screenshots(page: Page, lab: Lab, tmp_path: Path, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    lab.open("?method=droppath&view=residual&play=0&i=3")
    lab.wait_frame("(f) => f.view === 'residual' && f.iteration === 3")
    expect(page.locator("#chart-series .main-svg").first).to_be_visible()
    shot = tmp_path / f"residual-{width}x{height}.png"
    page.screenshot(path=str(shot))
    full = tmp_path / f"residual-{width}x{height}-full.png"
    page.screenshot(path=str(full), full_page=True)
    # The embed: the stack, its test-time row and its legend inside the frame.
    page.goto("/embed?method=droppath&view=residual&play=0&i=3")
    page.wait_for_function("() => window.dropoutLab?.lastFrame?.iteration === 3")
    legend = page.locator("#views .stack-figure .residual-legend")
    expect(legend).to_be_visible()
    box, bar = legend.bounding_box(), page.locator(".embed-bar").bounding_box()
    assert box is not None and bar is not None
    assert box["y"] + box["height"] <= min(bar["y"], height), (box, bar)
    embed = tmp_path / f"residual-embed-{width}x{height}.png"
    page.screenshot(path=str(embed))
    print(f"\n{shot}\n{full}\n{embed}")
    assert shot.stat().st_size > 10_000
