"""The uncertainty view (Monte Carlo dropout) in the browser: opened from a link and from the
picker; the band redraws when the T slider moves (and settles: the first passes stay); the
training panel runs to the end; the classification maps; no console error. Screenshots at
1280 x 800 and 1920 x 1080 are left in the test's temporary directory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

MAIN = "#views .uncertainty .unc-main"
TRAINING = "#view-extra section.unc-training"


def probe(page: Page) -> dict[str, Any]:
    shown: dict[str, Any] = page.evaluate("() => structuredClone(window.dropoutLab.uncertainty)")
    return shown


def training(page: Page) -> dict[str, Any]:
    shown: dict[str, Any] = page.evaluate("() => structuredClone(window.dropoutLab.training)")
    return shown


def wait_drawn(page: Page, condition: str = "() => true", timeout: float = 30_000) -> None:
    """Until the view has drawn a frame (Plotly included) for which ``condition`` holds."""
    page.wait_for_function(
        f"""() => {{
            const u = window.dropoutLab?.uncertainty;
            return !!u && u.painted > 0 && u.band !== null && ({condition})(u);
        }}""",
        timeout=timeout,
    )


def main_traces(page: Page) -> list[str]:
    names: list[str] = page.evaluate(
        f"() => (document.querySelector('{MAIN}').data ?? []).map((t) => t.name ?? '')"
    )
    return names


def assert_regression_drawn(page: Page, lab: Lab) -> None:
    wait_drawn(page)
    expect(page.locator(MAIN)).to_be_visible()
    names = main_traces(page)
    for name in ("predictive mean", "mean ± 2 sd", "truth sin(2x)", "passes (T = 50)"):
        assert name in names, names
    assert "training points (40)" in names and "no training points" in names, names
    frame = lab.wait_frame("(f) => f.view === 'uncertainty'")
    assert frame["key"].startswith("mc_dropout|")
    expect(lab.measured("units dropped (50 passes)")).to_have_text(
        re.compile(r"^\d\.\d{3} expected 0\.100$")
    )
    expect(lab.measured("predictive sd, in the gap (x = 0)")).to_have_text(
        re.compile(r"^\d\.\d{3} expected \d\.\d{3}$")
    )
    caption = page.locator("#views .unc-main-figure figcaption")
    expect(caption).to_contain_text("T = 50 passes")
    expect(page.locator("#views .unc-aside")).to_contain_text("τ = (1 − p) l² / (2 N λ)")
    expect(page.locator("#views .unc-mistakes")).to_contain_text("BatchNorm in training mode")
    expect(page.locator("#views .unc-mistakes")).to_contain_text("single answer")
    expect(page.locator("#error")).to_be_hidden()
    assert lab.probe["errors"] == []


def test_opens_from_its_link(page: Page, lab: Lab) -> None:
    lab.open("?method=mc_dropout&view=uncertainty&play=0")
    query = lab.query()
    assert (query["method"], query["view"]) == ("mc_dropout", "uncertainty")
    assert_regression_drawn(page, lab)
    expect(page.locator("#link-notice")).to_be_hidden()


def test_opens_from_the_picker(page: Page, lab: Lab) -> None:
    lab.open("?play=0")
    page.locator('nav#picker button.method[data-method="mc_dropout"]').click()
    expect(page).to_have_url(re.compile(r"[?&]method=mc_dropout(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]view=uncertainty(&|$)"))
    expect(page.locator("nav#view-tabs")).to_be_hidden()  # its only view
    assert_regression_drawn(page, lab)


def first_pass(page: Page) -> list[float]:
    """The first drawn pass of the main chart (the passes trace: curves separated by nulls)."""
    values: list[float] = page.evaluate(
        f"""() => {{
            const trace = document.querySelector('{MAIN}').data[0];
            return trace.y.slice(0, trace.y.indexOf(null));
        }}"""
    )
    return values


def test_the_band_changes_with_the_t_slider_and_the_first_passes_stay(page: Page, lab: Lab) -> None:
    lab.open("?method=mc_dropout&view=uncertainty&play=0&T=5&i=3")
    wait_drawn(page, "(u) => u.T === 5")
    before = probe(page)["band"]
    first = first_pass(page)
    lab.set_slider("T", 200)
    expect(page).to_have_url(re.compile(r"[?&]T=200(&|$)"))
    wait_drawn(page, "(u) => u.T === 200")
    after = probe(page)["band"]
    assert before["std"] != after["std"] and before["mean"] != after["mean"]
    change = max(abs(a - b) for a, b in zip(before["std"], after["std"], strict=True))
    assert change > 0.01, change
    expect(page.locator("#views .unc-main-figure figcaption")).to_contain_text("T = 200 passes")
    # Pass 1 is the same curve (up to each frame's 256 display steps): T = 200 adds passes to
    # the same draw.
    again = first_pass(page)
    assert len(again) == len(first) == 200
    assert max(abs(a - b) for a, b in zip(first, again, strict=True)) < 0.05
    # The running estimate now spans 200 passes.
    points: int = page.evaluate(
        "() => document.querySelector('#views .unc-running').data[0].x.length"
    )
    assert points == 200
    expect(lab.measured("units dropped (200 passes)")).to_be_visible()
    assert lab.probe["errors"] == []


def test_the_animation_draws_a_new_estimate_each_iteration(page: Page, lab: Lab) -> None:
    lab.open("?method=mc_dropout&view=uncertainty&play=1&speed=8&T=10")
    wait_drawn(page)
    first = probe(page)
    wait_drawn(page, f"(u) => u.iteration >= {first['iteration'] + 3}")
    assert probe(page)["band"]["std"] != first["band"]["std"]


def test_training_runs_to_the_end(page: Page, lab: Lab) -> None:
    lab.open("?method=mc_dropout&view=uncertainty&play=0")
    wait_drawn(page)
    assert training(page)["state"] == "idle"  # below the fold
    page.locator(TRAINING).scroll_into_view_if_needed()
    page.wait_for_function("() => window.dropoutLab.training.state === 'done'", timeout=30_000)
    done = training(page)
    assert done["snapshots"] == 51  # step 0, every 20 steps of 1000
    assert done["step"] == 1000 and done["runs"] == 1
    expect(page.locator(f"{TRAINING} .training-status")).to_contain_text("Done")
    expect(page.locator(f"{TRAINING} figcaption .detail").first).to_contain_text("step 1000")
    page.wait_for_function(
        "() => (document.querySelector('.unc-loss').data ?? [])[0]?.x.length === 51"
    )
    # The same run's network is the one the view samples: its final test loss is the theory's.
    theory_loss = page.evaluate(
        """async () => {
            const r = await fetch('/api/frames?view=uncertainty&method=mc_dropout&format=json');
            return (await r.json()).theory.training.test_loss;
        }"""
    )
    shown = page.evaluate("() => document.querySelector('.unc-loss').data[0].y.at(-1)")
    assert shown == pytest.approx(theory_loss, abs=1e-4)
    # A training setting changes: the run follows.
    page.locator(f'{TRAINING} [data-param="steps"]').fill("300")
    page.wait_for_function("() => window.dropoutLab.training.runs === 2")
    page.wait_for_function("() => window.dropoutLab.training.state === 'done'", timeout=30_000)
    assert training(page)["step"] == 300


def test_classification_shows_entropy_and_mutual_information(page: Page, lab: Lab) -> None:
    lab.open("?method=mc_dropout&view=uncertainty&play=0")
    wait_drawn(page)
    page.locator('#params [data-param="task"]').select_option("classification")
    expect(page).to_have_url(re.compile(r"[?&]task=classification(&|$)"))
    wait_drawn(page, "(u) => u.task === 'classification'")
    maps = page.locator("#views .unc-maps .unc-map")
    expect(maps).to_have_count(3)
    for k in range(3):
        kinds: list[str] = maps.nth(k).evaluate("(node) => (node.data ?? []).map((t) => t.type)")
        assert "heatmap" in kinds, kinds
    between = probe(page)["band"]
    assert between["entropy_between"] > 0.2
    expect(lab.measured("predictive entropy, between the classes")).to_have_text(
        re.compile(r"^\d\.\d{3} expected \d\.\d{3}$")
    )
    expect(page.locator("#views .unc-map-legend")).to_contain_text("training points of class 0")
    assert lab.probe["errors"] == []


@pytest.mark.parametrize("task", ["regression", "classification"])
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_screenshots(
    page: Page, lab: Lab, tmp_path: Path, task: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    lab.open(f"?method=mc_dropout&view=uncertainty&play=0&i=4&task={task}")
    wait_drawn(page, f"(u) => u.task === '{task}' && u.iteration === 4")
    expect(page.locator("#chart-series .main-svg").first).to_be_visible()
    shot = tmp_path / f"uncertainty-{task}-{width}x{height}.png"
    page.screenshot(path=str(shot))
    full = tmp_path / f"uncertainty-{task}-{width}x{height}-full.png"
    page.screenshot(path=str(full), full_page=True)
    print(f"\n{shot}\n{full}")
    assert shot.stat().st_size > 10_000
