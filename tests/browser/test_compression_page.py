"""The compression view in Chromium: opened from the picker and from its link, its figures the
API's, the training run under it streamed to the end, the threshold slider redrawing the
network (the pruned connections vanish) without a new run; no console error (the autouse
fixture); screenshots at 1280 x 800 and 1920 x 1080."""

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

CANVAS = "#views canvas.net-canvas"
TRAINING = "#view-extra section.compression-training"


def frames(live_server: str, query: str) -> dict[str, Any]:
    response = httpx.get(
        f"{live_server}/api/frames?view=compression&method=compression&format=json&{query}",
        timeout=60,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def kept_in_caption(page: Page) -> int:
    caption = page.locator("#views .network-figure figcaption").inner_text()
    match = re.search(r"([\d ]+) of ([\d ]+) connections kept", caption)
    assert match, caption
    return int(match.group(1).replace(" ", ""))


def test_the_view_opens_from_the_picker(page: Page, lab: Lab) -> None:
    lab.open("?play=0")
    page.locator('nav#picker button.method[data-method="compression"]').click()
    expect(page).to_have_url(re.compile(r"[?&]method=compression(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]view=compression(&|$)"))
    frame = lab.wait_frame("(f) => f.view === 'compression'", timeout=60_000)
    assert frame["key"].startswith("compression|")
    expect(page.locator("#views .compression-summary")).to_contain_text("weights pruned")
    expect(page.locator(CANVAS)).to_be_visible()
    expect(lab.measured("weights pruned (log α ≥ 3.0)")).to_have_text(re.compile(r"%"))


def test_the_view_opens_from_its_link_with_the_apis_figures(
    page: Page, lab: Lab, live_server: str
) -> None:
    lab.open("?method=compression&view=compression&play=0&i=99")
    frame = lab.wait_frame("(f) => f.view === 'compression' && f.iteration === 99")
    assert frame["dropped"] > 0.9  # the trained network: most weights pruned
    api = frames(live_server, "start=99&count=1")
    final = api["theory"]["final"]
    summary = page.locator("#views .compression-summary")
    expect(summary).to_contain_text(f"{100 * final['pruned_share']:.1f} %")
    expect(summary).to_contain_text(
        f"{100 * final['accuracy_before']:.1f} % → {100 * final['accuracy_after']:.1f} %"
    )
    expect(summary).to_contain_text("-".join(str(w) for w in final["widths_after"]))
    assert kept_in_caption(page) == api["frames"][0]["weights_kept"]
    expect(page.locator("#views .heatmap canvas")).to_have_count(3)
    expect(page.locator("#link-notice")).to_be_hidden()


def test_the_training_run_streams_to_the_end(page: Page, lab: Lab) -> None:
    lab.open("?method=compression&view=compression&play=0&i=50")
    lab.wait_frame("(f) => f.view === 'compression'")
    page.locator(TRAINING).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => window.dropoutLab.compressionTraining?.state === 'done'", timeout=60_000
    )
    training = lab.probe["compressionTraining"]
    assert training["events"] == 100 and training["step"] == 1100
    assert training["final"]["pruned_share"] > 0.9
    expect(page.locator(f"{TRAINING} .training-status")).to_contain_text("Done")
    page.wait_for_function("() => window.dropoutLab.compressionTraining.drawn === 100")
    expect(page.locator(f"{TRAINING} .loss-chart .main-svg").first).to_be_visible()
    legend = page.locator(f"{TRAINING} .loss-chart").first.inner_text()
    assert "data term" in legend and "KL term" in legend


def test_the_threshold_slider_redraws_the_network(page: Page, lab: Lab, live_server: str) -> None:
    lab.open("?method=compression&view=compression&play=0&i=99")
    lab.wait_frame("(f) => f.view === 'compression' && f.iteration === 99")
    before = lab.canvas_digest(CANVAS)
    kept_before = kept_in_caption(page)
    lab.set_slider("threshold", 0)
    lab.wait_frame("(f) => f.key.includes('threshold=0&')")
    expect(page).to_have_url(re.compile(r"[?&]threshold=0(&|$)"))
    page.wait_for_function(
        "(n) => !document.querySelector('#views .network-figure figcaption')"
        ".textContent.includes(`${n} of`)",
        arg=f"{kept_before:,}".replace(",", " "),
    )
    assert lab.canvas_digest(CANVAS) != before  # connections vanished from the diagram
    kept_after = kept_in_caption(page)
    assert kept_after < kept_before
    assert (
        kept_after
        == frames(live_server, "start=99&count=1&threshold=0")["frames"][0]["weights_kept"]
    )
    # The same run, pruned again: the threshold trains nothing (the stream replays it).
    expect(page.locator("#views .compression-status")).to_be_hidden()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_screenshots(page: Page, lab: Lab, tmp_path: Path, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    lab.open("?method=compression&view=compression&play=0&i=60")
    lab.wait_frame("(f) => f.view === 'compression' && f.iteration === 60")
    expect(page.locator("#chart-series .main-svg").first).to_be_visible()
    shot = tmp_path / f"compression-{width}x{height}.png"
    page.screenshot(path=str(shot))
    full = tmp_path / f"compression-{width}x{height}-full.png"
    page.screenshot(path=str(full), full_page=True)
    print(f"\n{shot}\n{full}")
    assert shot.stat().st_size > 10_000
