"""The dense view: opened from a link and from the picker for every dense method, animated,
its crossed-out neurons the API's masks; the training panel under it (a run starts when it
comes into view, streams, finishes with dropout ahead; leaving the page or pressing "Train"
again stops the old run in the server); "Show this network in the diagram"; screenshots."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

DENSE_METHODS = ("standard", "gaussian", "alpha", "dropconnect", "standout")
VERMILION = "#D55E00"  # dense.js: the ✕ over a dropped neuron

TRAIN_SVG = "#views .dense svg.network:not(.test-network)"
TEST_SVG = "#views .dense svg.test-network"
TRAINING = "#view-extra section.training"


def dropped_term(method: str) -> str:
    return "hidden connections dropped" if method == "dropconnect" else "hidden neurons dropped"


def built_views(page: Page, method: str) -> list[str]:
    views: list[str] = page.evaluate(
        """(m) => JSON.parse(document.getElementById("boot").textContent)
            .catalog.methods.find((x) => x.id === m).built_views""",
        method,
    )
    return views


def svg_counts(page: Page, selector: str) -> dict[str, int]:
    counts: dict[str, int] = page.evaluate(
        """([s, red]) => {
            const node = document.querySelector(s);
            const crosses = [...node.querySelectorAll("path")]
                .filter((p) => p.getAttribute("stroke") === red);
            return {
                circles: node.querySelectorAll("circle").length,
                lines: node.querySelectorAll("line").length,
                crosses: crosses.length,
            };
        }""",
        [selector, VERMILION],
    )
    return counts


def assert_dense_drawn(page: Page, lab: Lab, method: str) -> None:
    """Both networks drawn, the frame is the dense view's, the numbers panel filled in."""
    lab.wait_frame("(f, m) => f.view === 'dense' && f.key.startsWith(m + '|')", method)
    expect(page.locator("#views .dense")).to_be_visible()
    expect(page.locator("#views .dense svg.network")).to_have_count(2)
    for selector in (TRAIN_SVG, TEST_SVG):
        counts = svg_counts(page, selector)
        # 2 inputs, 2 hidden layers of 5 and 2 outputs by default; every connection a line.
        assert counts["circles"] == 2 + 5 + 5 + 2, (selector, counts)
        assert counts["lines"] == 2 * 5 + 5 * 5 + 5 * 2, (selector, counts)
    assert svg_counts(page, TEST_SVG)["crosses"] == 0  # nothing is dropped at test time
    frame = lab.wait_frame("(f) => f.view === 'dense'")
    assert frame["key"].startswith(f"{method}|")
    assert frame["key"].endswith("|dense")
    expect(lab.measured(dropped_term(method))).to_have_text(
        re.compile(r"^\d\.\d{3} expected \d\.\d{3}$")
    )
    unit = "connection" if method == "dropconnect" else "neuron"
    caption = page.locator("#views .network-figure figcaption").first
    expect(caption).to_contain_text(re.compile(rf"iteration \d+ \d+ % of the {unit}s dropped"))
    expect(page.locator("#views .strip .strip-item").first).to_be_visible()
    expect(page.locator("#views table.outputs").first).to_contain_text("test-time rule")
    panel = page.locator("#views .method-panel")
    if method == "dropconnect":
        expect(panel.locator("svg.histogram")).to_have_count(1)
        expect(panel.locator("table")).to_have_count(1)
    elif method == "alpha":
        expect(panel.locator("svg.histogram")).to_have_count(3)
    elif method == "standout":
        expect(panel).to_contain_text("Standout: who is kept")
    expect(page.locator("#error")).to_be_hidden()
    assert lab.probe["errors"] == []


# ---------------------------------------------------------------- opening


@pytest.mark.parametrize("method", DENSE_METHODS)
def test_dense_view_opens_from_its_link(page: Page, lab: Lab, method: str) -> None:
    lab.open(f"?method={method}&view=dense&play=0")
    assert "dense" in built_views(page, method)
    frame = lab.last_frame
    assert (frame["view"], frame["iteration"]) == ("dense", 0)
    query = lab.query()
    assert (query["method"], query["view"], query["play"]) == (method, "dense", "0")
    assert_dense_drawn(page, lab, method)
    expect(page.locator("#link-notice")).to_be_hidden()


@pytest.mark.parametrize("method", DENSE_METHODS)
def test_dense_view_opens_from_the_picker(page: Page, lab: Lab, method: str) -> None:
    lab.open("?play=0")
    page.locator(f'nav#picker button.method[data-method="{method}"]').click()
    expect(page).to_have_url(re.compile(rf"[?&]method={method}(&|$)"))
    tabs = page.locator("nav#view-tabs")
    if len(built_views(page, method)) > 1:
        tab = tabs.get_by_role("tab", name="toy dense network")
        expect(tab).to_have_attribute("data-view", "dense")
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
    else:
        expect(tabs).to_be_hidden()
    expect(page).to_have_url(re.compile(r"[?&]view=dense(&|$)"))
    assert_dense_drawn(page, lab, method)


# ---------------------------------------------------------------- the animation


def test_dense_view_animates(page: Page, lab: Lab) -> None:
    lab.open("?method=standard&view=dense&play=1&speed=8")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    first = lab.wait_frame("(f) => f.view === 'dense'")
    before = page.locator(TRAIN_SVG).inner_html()
    frame = lab.wait_frame("(f, i) => f.iteration >= i + 8", first["iteration"])
    assert frame["key"] == first["key"]
    expect(page.locator("#views .strip .strip-item")).to_have_count(8)
    captions = page.locator("#views .strip .strip-item figcaption").all_inner_texts()
    numbers = [int(re.match(r"#(\d+):", text).group(1)) for text in captions]  # type: ignore[union-attr]
    assert numbers == sorted(numbers) and numbers[-1] - numbers[0] == 7, captions
    assert page.locator(TRAIN_SVG).inner_html() != before
    expect(page.locator("#iteration-value")).not_to_have_text(str(first["iteration"]))
    assert lab.probe["errors"] == []


# ---------------------------------------------------------------- the masks are the API's


def api_frame(live_server: str, method: str, iteration: int, **extra: str) -> dict[str, Any]:
    """``GET /api/frames`` of the dense view, one iteration, as JSON (other parameters at
    their defaults but ``extra``)."""
    params: dict[str, str | int] = {"view": "dense", "method": method, "format": "json"}
    params |= {"start": iteration, "count": 1, **extra}
    response = httpx.get(f"{live_server}/api/frames", params=params, timeout=60)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("iteration", [0, 3, 11])
def test_crossed_out_neurons_are_the_apis_mask(
    page: Page, lab: Lab, live_server: str, iteration: int
) -> None:
    lab.open(f"?method=standard&view=dense&play=0&i={iteration}")
    shown = lab.wait_frame("(f, i) => f.iteration === i && f.view === 'dense'", iteration)
    frame = api_frame(live_server, "standard", iteration)["frames"][0]
    assert frame["iteration"] == iteration
    masks = [layer["mask"] for layer in frame["pass"]["value"]["layers"]]
    hidden = [mask for mask in masks if mask is not None]
    assert len(hidden) == 2  # the toy network's two hidden layers
    zeros = sum(value == 0 for mask in hidden for value in mask)
    assert svg_counts(page, TRAIN_SVG)["crosses"] == zeros
    assert shown["dropped"] == pytest.approx(frame["dropped_fraction"])
    assert frame["dropped_fraction"] == pytest.approx(zeros / sum(map(len, hidden)))
    expect(lab.measured("hidden neurons dropped")).to_have_text(
        f"{frame['dropped_fraction']:.3f} expected 0.500"
    )
    percent = f"{100 * frame['dropped_fraction']:.0f} % of the neurons dropped"
    expect(page.locator("#views .network-figure figcaption").first).to_contain_text(percent)
    # The newest sub-network of the strip is this iteration's.
    newest = page.locator("#views .strip .strip-item").last
    expect(newest.locator("figcaption")).to_contain_text(f"#{iteration}:")
    crosses = newest.locator(f'path[stroke="{VERMILION}"]')
    expect(crosses).to_have_count(zeros)


# ---------------------------------------------------------------- training


def training(page: Page) -> dict[str, Any]:
    probe: dict[str, Any] = page.evaluate("() => structuredClone(window.dropoutLab.training)")
    return probe


def chart_points(page: Page) -> list[int]:
    """Points per trace of the Plotly loss chart (none before it is drawn)."""
    points: list[int] = page.evaluate(
        """() => (document.querySelector(".loss-chart").data ?? []).map((t) => t.x.length)"""
    )
    return points


def canvas_report(page: Page, selector: str) -> list[dict[str, int]]:
    """Per canvas: its size, opaque pixels, and (up to 64) colours."""
    report: list[dict[str, int]] = page.evaluate(
        """(s) => [...document.querySelectorAll(s)].map((c) => {
            const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let opaque = 0;
            const colours = new Set();
            for (let k = 0; k < data.length; k += 4) {
                if (data[k + 3] === 255) opaque += 1;
                const rgb = (data[k] << 16) | (data[k + 1] << 8) | data[k + 2];
                if (colours.size < 64) colours.add(rgb);
            }
            return { width: c.width, height: c.height, opaque, colours: colours.size };
        })""",
        selector,
    )
    return report


def runs_now(live_server: str) -> dict[str, int]:
    body: dict[str, int] = httpx.get(f"{live_server}/api/train/runs", timeout=10).json()
    return body


def wait_runs(live_server: str, training_now: int, within_s: float) -> float:
    """Poll ``/api/train/runs`` until it counts ``training_now`` runs; seconds it took."""
    began = time.monotonic()
    while True:
        count = runs_now(live_server)["training"]
        if count == training_now:
            return time.monotonic() - began
        assert time.monotonic() - began < within_s, f"still {count} runs after {within_s} s"
        time.sleep(0.05)


# While a run streams, every 20 ms and whenever the status line changes (once per chunk of
# events): its snapshots so far and the points of each trace of the loss chart (Plotly keeps
# the traces drawn in the div's ``data``).
SAMPLE_TRAINING = """() => {
    window.trainingSamples = [];
    const sample = () => {
        const training = window.dropoutLab.training;
        const chart = document.querySelector(".loss-chart");
        window.trainingSamples.push({
            state: training.state,
            snapshots: training.snapshots,
            points: (chart?.data ?? []).map((trace) => trace.x.length),
        });
        return training.state === "idle" || training.state === "running";
    };
    const tick = () => { if (sample()) setTimeout(tick, 20); };
    tick();
    const status = document.querySelector(".training .training-status");
    const observer = new MutationObserver(() => { if (!sample()) observer.disconnect(); });
    observer.observe(status, { childList: true, characterData: true, subtree: true });
}"""


def test_training_runs_when_the_panel_comes_into_view(page: Page, lab: Lab) -> None:
    # A seed no other test trains: a run the server remembers is replayed at once, not live.
    lab.open("?method=standard&view=dense&play=0&seed=5150")
    expect(page.locator("#chart-series .main-svg").first).to_be_visible()  # Plotly is here
    assert training(page)["state"] == "idle"  # below the fold: not started yet
    page.evaluate(SAMPLE_TRAINING)
    page.locator(TRAINING).scroll_into_view_if_needed()
    page.wait_for_function("() => window.dropoutLab.training.state === 'running'", timeout=5_000)
    began = time.monotonic()
    page.wait_for_function("() => window.dropoutLab.training.state !== 'running'", timeout=10_000)
    took = time.monotonic() - began
    probe = training(page)
    print(f"\ndefault training run: done in {took:.1f} s, {probe['snapshots']} snapshots")
    assert probe["state"] == "done"
    # The snapshots and the curves grew while it ran: four traces of as many points, more of
    # them as snapshots arrived, drawn part-way before the whole run was in.
    samples = page.evaluate("() => window.trainingSamples")
    running = [s for s in samples if s["state"] == "running"]
    snapshots = [s["snapshots"] for s in running]
    assert snapshots == sorted(snapshots), snapshots
    assert any(0 < n < 51 for n in snapshots), snapshots
    drawn = [s["points"] for s in running if s["points"]]
    assert all(len(points) == 4 and len(set(points)) == 1 for points in drawn), drawn
    lengths = [points[0] for points in drawn]
    assert lengths == sorted(lengths), lengths
    assert any(0 < n < 51 for n in lengths), samples
    assert probe["snapshots"] == 51  # step 0, every 10 steps, the last (500 steps)
    assert probe["step"] == 500
    assert probe["runs"] == 1
    final = probe["final"]
    assert final["dropout"] < final["baseline"], final
    expect(page.locator(f"{TRAINING} .training-status")).to_contain_text("Done.")
    page.wait_for_function(
        "(n) => document.querySelector('.loss-chart').data[0].x.length === n",
        arg=probe["snapshots"],
    )
    boards = canvas_report(page, f"{TRAINING} canvas.boundary")
    assert len(boards) == 2
    for board in boards:
        assert board["opaque"] == board["width"] * board["height"], board  # the boundary fills it
        assert board["colours"] > 8, board  # both classes' shades and the points
    expect(page.locator(f"{TRAINING} .boundary-figure figcaption .detail").first).to_contain_text(
        "step 500"
    )


def test_leaving_the_page_stops_the_run_in_the_server(
    page: Page, lab: Lab, live_server: str
) -> None:
    wait_runs(live_server, 0, within_s=10)  # nothing left over from another test
    lab.open("?method=standard&view=dense&play=0&steps=5000")
    page.locator(TRAINING).get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function("() => window.dropoutLab.training.snapshots >= 2")
    assert training(page)["state"] == "running"
    assert runs_now(live_server)["training"] >= 1
    page.goto("about:blank")
    took = wait_runs(live_server, 0, within_s=3)
    print(f"\nthe run stopped {took:.2f} s after the page left")


def test_a_new_run_replaces_the_one_under_way(page: Page, lab: Lab, live_server: str) -> None:
    """While a run is under way, "Train" is disabled and a changed training setting retrains
    at once: run() aborts the request under way first, so the new run replaces the old one; the
    server frees the old run's place as soon as it sees its request closed (polled without a
    pause all along, three replacements in a row)."""
    wait_runs(live_server, 0, within_s=10)
    lab.open("?method=standard&view=dense&play=0&steps=5000")
    train = page.locator(TRAINING).get_by_role("button", name="Train", exact=True)
    train.click()
    page.wait_for_function("() => window.dropoutLab.training.snapshots >= 2")
    assert training(page)["runs"] == 1
    expect(train).to_be_disabled()
    counts: list[int] = []
    polling, answering = threading.Event(), threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=live_server, timeout=10) as client:
            while not polling.is_set():
                counts.append(client.get("/api/train/runs").json()["training"])
                answering.set()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        assert answering.wait(5)
        for runs, steps in enumerate((4950, 4900, 4850), start=2):
            page.locator(f'{TRAINING} [data-param="steps"]').fill(str(steps))
            page.wait_for_function("(n) => window.dropoutLab.training.runs === n", arg=runs)
            page.wait_for_function("() => window.dropoutLab.training.snapshots >= 2")
            assert training(page)["state"] == "running"
            time.sleep(0.3)
    finally:
        polling.set()
        poller.join(5)
    print(f"\nruns training while replacing: {len(counts)} polls, {counts.count(2)} saw 2")
    assert training(page)["runs"] == 4
    # The old run gives its place up as soon as the server sees its request closed, a moment
    # after the new request may have taken another: never more than the two places, and the
    # overlap is momentary (a handful of polls, not a run going on in the background).
    assert max(counts) <= 2
    assert counts.count(2) <= max(3, len(counts) // 50), f"{counts.count(2)} of {len(counts)}"
    assert runs_now(live_server)["training"] == 1
    page.goto("about:blank")
    wait_runs(live_server, 0, within_s=3)


# ---------------------------------------------------------------- show this network


def test_show_the_trained_network_in_the_diagram(page: Page, lab: Lab, live_server: str) -> None:
    lab.open("?method=standard&view=dense&play=0")
    page.locator(TRAINING).scroll_into_view_if_needed()
    page.wait_for_function("() => window.dropoutLab.training.state === 'done'", timeout=20_000)
    toy_input = page.locator(TRAIN_SVG).locator("text.value").first.text_content()
    page.locator(TRAINING).get_by_role("button", name="Show this network in the diagram").click()
    expect(page).to_have_url(re.compile(r"[?&]network=trained(&|$)"))
    expect(page.locator("#params [data-param=network]")).to_have_value("trained")
    frame = lab.wait_frame("(f) => f.key.includes('network=trained')", timeout=30_000)
    assert frame["view"] == "dense"
    caption = page.locator("#views .network-figure figcaption").first
    expect(caption).to_contain_text("the trained network")
    # The input drawn is the trained network's example (the first test point), as the API says.
    theory = api_frame(live_server, "standard", frame["iteration"], network="trained")["theory"]
    assert theory["network"]["source"] == "trained"
    assert theory["network"]["sizes"] == [2, 64, 64, 2]
    inputs = page.locator(TRAIN_SVG).locator("text.value").all_text_contents()[:2]
    assert inputs == [f"{value:.2f}" for value in theory["input"]]
    assert inputs[0] != toy_input
    counts = svg_counts(page, TRAIN_SVG)
    assert counts["circles"] == sum(theory["network"]["shown"])
    assert training(page)["state"] == "done"  # showing it did not start another run
    assert training(page)["runs"] == 1


# ---------------------------------------------------------------- screenshots


@pytest.mark.parametrize("method", ["standard", "dropconnect"])
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_screenshots(
    page: Page, lab: Lab, tmp_path: Path, method: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    lab.open(f"?method={method}&view=dense&play=0&i=4")
    lab.wait_frame("(f) => f.view === 'dense' && f.iteration === 4")
    expect(page.locator("#chart-series .main-svg").first).to_be_visible()
    shot = tmp_path / f"dense-{method}-{width}x{height}.png"
    page.screenshot(path=str(shot))
    full = tmp_path / f"dense-{method}-{width}x{height}-full.png"
    page.screenshot(path=str(full), full_page=True)
    print(f"\n{shot}\n{full}")
    assert shot.stat().st_size > 10_000
