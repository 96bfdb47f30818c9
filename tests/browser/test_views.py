"""The feature-map and pooling views: opened from a link and from the picker, animated, switched
to from the image view and back, reproduced by a copied link, and their own details (tiles,
modes, Max-Drop's rings, the odds table of max-pooling dropout)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

if TYPE_CHECKING:
    from conftest import ConsoleErrors, Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

FEATURE_MAP_METHODS = (
    "standard",
    "gaussian",
    "spatial",
    "cutout",
    "dropblock",
    "maxdrop",
    "stochastic",
)
POOLING_METHODS = ("maxpool",)
PAIRS = [
    *((method, "feature_maps") for method in FEATURE_MAP_METHODS),
    *((method, "pooling") for method in POOLING_METHODS),
]
PAIR_IDS = [f"{method}-{view}" for method, view in PAIRS]
NEW_VIEWS = ("feature_maps", "pooling")

CONTAINER = {"feature_maps": "#views .feature-maps", "pooling": "#views .pooling"}
MAP_CANVASES = "#views .map-grid figure.map-tile canvas.map"
POOLING_CANVASES = (
    "#views canvas.zoom",
    *(f"#views .pooled-{g} canvas.pooled" for g in ("train", "mc", "weighted", "scaled")),
)


# ---------------------------------------------------------------- reading canvases


def canvases_of(page: Page, selector: str) -> list[dict[str, Any]]:
    """Every canvas matching ``selector``: its size, its size on screen, and how many of its
    pixels are not transparent black (a canvas never drawn on has none) and how many colours."""
    report: list[dict[str, Any]] = page.evaluate(
        """(s) => [...document.querySelectorAll(s)].map((c) => {
            const box = c.getBoundingClientRect();
            const data = c.width && c.height
                ? c.getContext("2d").getImageData(0, 0, c.width, c.height).data : [];
            let painted = 0;
            const colours = new Set();
            for (let k = 0; k < data.length; k += 4) {
                if (data[k] || data[k + 1] || data[k + 2] || data[k + 3]) painted += 1;
                const rgb = (data[k] << 16) | (data[k + 1] << 8) | data[k + 2];
                if (colours.size < 64) colours.add(rgb);
            }
            return { width: c.width, height: c.height, boxWidth: box.width, boxHeight: box.height,
                     painted, colours: colours.size };
        })""",
        selector,
    )
    return report


def blank_digest(page: Page, width: int, height: int) -> str:
    """SHA-256 of the pixels of a canvas of that size never drawn on (as ``canvas_digest``)."""
    digest: str = page.evaluate(
        """async ([w, h]) => {
            const c = Object.assign(document.createElement("canvas"), { width: w, height: h });
            const data = c.getContext("2d").getImageData(0, 0, w, h).data;
            const hash = await crypto.subtle.digest("SHA-256", data);
            return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
        }""",
        [width, height],
    )
    return digest


def map_ids(page: Page) -> list[str]:
    ids: list[str] = page.locator("#views figure.map-tile").evaluate_all(
        "(tiles) => tiles.map((t) => t.dataset.map)"
    )
    return ids


def map_canvas(map_id: str) -> str:
    return f'#views figure.map-tile[data-map="{map_id}"] canvas.map'


def view_canvases(page: Page, view: str) -> tuple[str, ...]:
    """A selector for each canvas the view draws its frames on."""
    if view == "feature_maps":
        return tuple(map_canvas(map_id) for map_id in map_ids(page))
    return POOLING_CANVASES


def digests(lab: Lab, selectors: tuple[str, ...]) -> dict[str, str]:
    return {selector: lab.canvas_digest(selector) for selector in selectors}


def assert_view_drawn(page: Page, lab: Lab, view: str) -> None:
    """The view's container shows, and its canvases have a size and were drawn on."""
    expect(page.locator(CONTAINER[view])).to_be_visible()
    expect(page.locator("#no-view")).to_be_hidden()
    if view == "feature_maps":
        expect(page.locator(MAP_CANVASES)).to_have_count(8)
        selectors = view_canvases(page, view)
        assert len(selectors) == 8
        report = canvases_of(page, MAP_CANVASES)
    else:
        expect(page.locator("#views canvas.zoom")).to_have_count(1)
        expect(page.locator("#views canvas.pooled")).to_have_count(4)
        selectors = POOLING_CANVASES  # the zoomed square, then the four pooled grids
        report = [canvas for selector in selectors for canvas in canvases_of(page, selector)]
        assert (report[0]["width"], report[0]["height"]) == (24 * 24, 24 * 24)
    for selector, canvas in zip(selectors, report, strict=True):
        assert canvas["width"] > 0 and canvas["height"] > 0, (selector, canvas)
        assert canvas["boxWidth"] > 0 and canvas["boxHeight"] > 0, (selector, canvas)
        assert canvas["painted"] > 0, (selector, canvas)
        blank = blank_digest(page, canvas["width"], canvas["height"])
        assert lab.canvas_digest(selector) != blank, selector
    # Not one flat colour everywhere: a map (or the zoomed square) shows activations.
    assert max(canvas["colours"] for canvas in report) > 2, report


# ---------------------------------------------------------------- the views a method has


def test_pairs_are_the_catalogs(live_server: str) -> None:
    """The hard-coded pairs are exactly the catalog's methods with a feature-map or pooling view."""
    catalog = httpx.get(f"{live_server}/api/methods", timeout=10).json()
    built = {
        (method["id"], view)
        for method in catalog["methods"]
        for view in method["built_views"]
        if view in NEW_VIEWS
    }
    assert built == set(PAIRS)
    # ... and the page's boot catalog says the same.
    html = httpx.get(f"{live_server}/", timeout=10).text
    boot = re.search(r'<script id="boot" type="application/json">(.*?)</script>', html, re.S)
    assert boot is not None
    booted = {
        (method["id"], view)
        for method in json.loads(boot.group(1))["catalog"]["methods"]
        for view in method["built_views"]
        if view in NEW_VIEWS
    }
    assert booted == set(PAIRS)


@pytest.mark.parametrize(("method", "view"), PAIRS, ids=PAIR_IDS)
def test_view_opens_from_its_link(page: Page, lab: Lab, method: str, view: str) -> None:
    lab.open(f"?method={method}&view={view}&play=0")
    boot_views = page.evaluate(
        """(m) => JSON.parse(document.getElementById("boot").textContent)
            .catalog.methods.find((x) => x.id === m).built_views""",
        method,
    )
    assert view in boot_views
    frame = lab.last_frame
    assert frame["view"] == view
    assert frame["key"].startswith(f"{method}|cat|0|"), frame
    assert frame["key"].endswith(f"|{view}"), frame
    assert frame["iteration"] == 0
    query = lab.query()
    assert (query["method"], query["view"], query["play"]) == (method, view, "0")
    assert_view_drawn(page, lab, view)
    expect(page.locator("#link-notice")).to_be_hidden()
    expect(page.locator("#error")).to_be_hidden()
    assert lab.probe["errors"] == []


@pytest.mark.parametrize(("method", "view"), PAIRS, ids=PAIR_IDS)
def test_view_opens_from_the_picker(page: Page, lab: Lab, method: str, view: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 1000})
    lab.open("?play=0")
    names = lab.method_names()
    built = page.evaluate(
        """(m) => JSON.parse(document.getElementById("boot").textContent)
            .catalog.methods.find((x) => x.id === m).built_views""",
        method,
    )
    button = page.locator(f'nav#picker button.method[data-method="{method}"]')
    expect(button).to_be_visible()
    button.click()
    expect(page).to_have_url(re.compile(rf"[?&]method={method}(&|$)"))
    expect(page.locator("#method-name")).to_have_text(names[method])
    tabs = page.locator("nav#view-tabs")
    tab = tabs.locator(f'button[role="tab"][data-view="{view}"]')
    if len(built) > 1:
        expect(tabs).to_be_visible()
        expect(tab).to_be_enabled()
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
        expect(tabs.locator('button[role="tab"][aria-selected="true"]')).to_have_count(1)
    else:
        expect(tabs).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"[?&]view={view}(&|$)"))
    frame = lab.wait_frame("(f, v) => f.view === v", view)
    assert frame["key"].startswith(f"{method}|cat|0|"), frame
    assert frame["key"].endswith(f"|{view}"), frame
    assert_view_drawn(page, lab, view)
    assert lab.probe["errors"] == []


ANIMATED = [("standard", "feature_maps"), ("maxpool", "pooling")]


@pytest.mark.parametrize(("method", "view"), ANIMATED, ids=[v for _, v in ANIMATED])
def test_view_animates(page: Page, lab: Lab, method: str, view: str) -> None:
    lab.open(f"?method={method}&view={view}&play=1&speed=8")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    first = lab.last_frame
    selectors = view_canvases(page, view)
    before = digests(lab, selectors)
    painted = lab.wait_painted_more(lab.probe["painted"], by=3)
    frame = lab.wait_frame("(f, i) => f.iteration >= i + 2", first["iteration"])
    assert lab.probe["painted"] >= painted
    assert frame["view"] == view
    assert frame["key"] == first["key"]  # the same setting, later iterations
    expect(page.locator("#iteration-value")).not_to_have_text(str(first["iteration"]))
    # Another mask is on screen.
    assert digests(lab, selectors) != before
    # The statistics and both charts follow the view.
    term = "activations dropped" if view == "feature_maps" else "units dropped"
    expect(lab.measured(term)).to_have_text(re.compile(r"^0\.\d{3} expected 0\.500$"))
    expect(page.locator("#chart-series .main-svg").first).to_be_visible()
    expect(page.locator("#chart-histogram .main-svg").first).to_be_visible()
    assert lab.probe["errors"] == []


# ---------------------------------------------------------------- switching views


def test_switching_views_keeps_parameters_seed_and_iteration(page: Page, lab: Lab) -> None:
    lab.open("?method=standard&view=image&p=0.3&seed=42&i=7&play=0")
    key = "standard|cat|42|p=0.3&scaling=inverted"
    lab.wait_frame("(f, k) => f.key === k && f.iteration === 7", f"{key}|image")
    image_tab = page.get_by_role("tab", name="image pixels")
    maps_tab = page.get_by_role("tab", name="CNN feature maps")
    expect(image_tab).to_have_attribute("aria-selected", "true")
    expect(maps_tab).to_have_attribute("aria-selected", "false")

    maps_tab.click()
    expect(page).to_have_url(re.compile(r"[?&]view=feature_maps(&|$)"))
    frame = lab.wait_frame("(f) => f.view === 'feature_maps'")
    assert (frame["key"], frame["iteration"]) == (f"{key}|feature_maps", 7)
    query = lab.query()
    assert (query["p"], query["seed"], query["i"]) == ("0.3", "42", "7")
    expect(lab.slider("p")).to_have_value("0.3")
    expect(page.locator('#params [data-param="seed"]')).to_have_value("42")
    expect(page.locator("#iteration-value")).to_have_text("7")
    expect(maps_tab).to_have_attribute("aria-selected", "true")
    expect(image_tab).to_have_attribute("aria-selected", "false")
    expect(page.locator("#canvas-mask")).to_have_count(0)
    assert_view_drawn(page, lab, "feature_maps")

    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]view=image(&|$)"))
    frame = lab.wait_frame("(f) => f.view === 'image'")
    assert (frame["key"], frame["iteration"]) == (f"{key}|image", 7)
    expect(lab.slider("p")).to_have_value("0.3")
    expect(page.locator('#params [data-param="seed"]')).to_have_value("42")
    expect(page.locator("#iteration-value")).to_have_text("7")
    expect(image_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#canvas-mask")).to_be_visible()
    expect(page.locator(CONTAINER["feature_maps"])).to_have_count(0)

    page.go_forward()
    expect(page).to_have_url(re.compile(r"[?&]view=feature_maps(&|$)"))
    frame = lab.wait_frame("(f) => f.view === 'feature_maps'")
    assert (frame["key"], frame["iteration"]) == (f"{key}|feature_maps", 7)
    expect(maps_tab).to_have_attribute("aria-selected", "true")
    expect(lab.slider("p")).to_have_value("0.3")
    assert lab.probe["errors"] == []


# Steps in a row (their statistics less than 150 ms apart, so the charts of the last one
# wait), then another method, shown on another view, at once.
STEP_STEP_PICK = """async (method) => {
    const lab = window.dropoutLab;
    const settle = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    for (let k = 0; k < 3; k += 1) {
        const before = lab.painted;
        document.querySelector("#step-forward").click();
        while (lab.painted === before) await settle();
        await settle();
    }
    document.querySelector(`nav#picker button.method[data-method="${method}"]`).click();
}"""


@pytest.mark.parametrize(
    ("start", "method", "view"),
    [
        ("?method=standard&view=image", "maxpool", "pooling"),
        ("?method=maxpool", "standard", "image"),
    ],
    ids=["image-to-pooling", "pooling-to-image"],
)
def test_picking_a_method_on_another_view_right_after_a_frame(
    page: Page, context: BrowserContext, lab: Lab, start: str, method: str, view: str
) -> None:
    """The charts of the last frame of one view are never drawn by the next view.

    On a slow network (300 ms a request) the next view paints its first frame well after the
    charts of the last frame were due."""
    # Both views' modules (imported once per page) and the frames of the first iterations
    # are here before the network slows down.
    lab.open(f"{start}&play=0")
    page.locator(f'nav#picker button.method[data-method="{method}"]').click()
    lab.wait_frame("(f, v) => f.view === v", view)
    page.go_back()
    lab.wait_frame("(f, v) => f.view !== v", view)
    for iteration in (1, 2, 3, 4, 5, 0):
        page.locator("#scrub").fill(str(iteration))
        lab.wait_frame("(f, i) => f.iteration === i", iteration)
    page.wait_for_timeout(200)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 300, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.evaluate(STEP_STEP_PICK, method)
    frame = lab.wait_frame("(f, v) => f.view === v", view)
    assert frame["key"].startswith(f"{method}|")
    page.wait_for_timeout(300)  # the charts of the new view
    expect(page.locator("#chart-histogram .main-svg").first).to_be_visible()
    assert lab.probe["errors"] == []


# ---------------------------------------------------------------- copied links


def copy_and_reopen(
    page: Page,
    lab: Lab,
    context: BrowserContext,
    new_context: Callable[..., BrowserContext],
    make_lab: Callable[[Page], Lab],
    console_errors: ConsoleErrors,
) -> tuple[Page, Lab]:
    """Copy the link, check it is the page's address, open it in a fresh context."""
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#copy-link").click()
    expect(page.locator("#toast")).to_contain_text("Link copied")
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link == page.url
    other = console_errors.watch(new_context().new_page())
    other.goto(link)
    other.wait_for_function("() => window.dropoutLab?.ready === true")
    return other, make_lab(other)


def set_seed(page: Page, seed: int) -> None:
    field = page.locator('#params [data-param="seed"]')
    field.fill(str(seed))
    field.press("Tab")  # the seed is taken on change


def test_copied_link_reproduces_the_feature_maps(
    page: Page,
    lab: Lab,
    context: BrowserContext,
    new_context: Callable[..., BrowserContext],
    make_lab: Callable[[Page], Lab],
    console_errors: ConsoleErrors,
) -> None:
    lab.open("?method=dropblock&view=feature_maps&play=0")
    lab.set_slider("p", 0.35)
    lab.set_slider("block_size", 15)
    set_seed(page, 1234)
    page.locator("#scrub").fill("7")
    page.locator("#step-forward").click()
    frame = lab.wait_frame(
        "(f, k) => f.iteration === 8 && f.key === k",
        "dropblock|cat|1234|p=0.35&block_size=15|feature_maps",
    )
    query = lab.query()
    assert (query["view"], query["seed"], query["p"], query["block_size"]) == (
        "feature_maps",
        "1234",
        "0.35",
        "15",
    )
    expect(page).to_have_url(re.compile(r"[?&]i=8&play=0(&|$)"))
    selectors = view_canvases(page, "feature_maps")
    assert len(selectors) == 8
    shown = digests(lab, selectors)

    other, again = copy_and_reopen(page, lab, context, new_context, make_lab, console_errors)
    assert again.last_frame == frame
    assert digests(again, selectors) == shown
    expect(again.slider("p")).to_have_value("0.35")
    expect(again.slider("block_size")).to_have_value("15")
    expect(other.locator('#params [data-param="seed"]')).to_have_value("1234")
    expect(other.locator("#iteration-value")).to_have_text("8")
    expect(other.locator('nav#view-tabs [data-view="feature_maps"]')).to_have_attribute(
        "aria-selected", "true"
    )
    # Another seed, other masks: the digests do measure the masks.
    set_seed(other, 1235)
    again.wait_frame("(f) => f.key.startsWith('dropblock|cat|1235|')")
    assert digests(again, selectors) != shown


def test_copied_link_reproduces_the_pooling_view(
    page: Page,
    lab: Lab,
    context: BrowserContext,
    new_context: Callable[..., BrowserContext],
    make_lab: Callable[[Page], Lab],
    console_errors: ConsoleErrors,
) -> None:
    lab.open("?method=maxpool&view=pooling&play=0")
    lab.set_slider("kernel_size", 3)
    page.locator('#params [data-param="map"]').select_option("centre_on")
    set_seed(page, 77)
    page.locator("#scrub").fill("5")
    frame = lab.wait_frame(
        "(f, k) => f.iteration === 5 && f.key === k",
        "maxpool|cat|77|p=0.5&kernel_size=3&map=centre_on|pooling",
    )
    query = lab.query()
    assert (query["view"], query["seed"], query["kernel_size"], query["map"]) == (
        "pooling",
        "77",
        "3",
        "centre_on",
    )
    # During playback and scrubbing the address is written at most 4 times a second.
    expect(page).to_have_url(re.compile(r"[?&]i=5&play=0(&|$)"))
    shown = digests(lab, POOLING_CANVASES)
    table = page.locator("#views table.odds").inner_text()

    other, again = copy_and_reopen(page, lab, context, new_context, make_lab, console_errors)
    assert again.last_frame == frame
    assert digests(again, POOLING_CANVASES) == shown
    assert other.locator("#views table.odds").inner_text() == table
    expect(again.slider("kernel_size")).to_have_value("3")
    expect(other.locator('#params [data-param="map"]')).to_have_value("centre_on")
    expect(other.locator('#params [data-param="seed"]')).to_have_value("77")
    expect(other.locator("#iteration-value")).to_have_text("5")
    set_seed(other, 78)
    again.wait_frame("(f) => f.key.startsWith('maxpool|cat|78|')")
    assert again.canvas_digest("#views canvas.zoom") != shown["#views canvas.zoom"]


# ---------------------------------------------------------------- the feature-map view


def shown_fraction(lab: Lab, term: str) -> float:
    text = lab.measured(term).inner_text()
    match = re.match(r"^(\d\.\d{3}) expected \d\.\d{3}$", text.strip())
    assert match, text
    return float(match.group(1))


def test_spatial_dropout_marks_dropped_maps(page: Page, lab: Lab) -> None:
    lab.open("?method=spatial&view=feature_maps&p=0.5&play=0")
    tiles = page.locator("#views figure.map-tile")
    expect(tiles).to_have_count(8)
    counts = []
    for iteration in range(4):
        if iteration:
            page.locator("#step-forward").click()
        lab.wait_frame("(f, i) => f.iteration === i", iteration)
        expect(page.locator("#iteration-value")).to_have_text(str(iteration))
        # The statistics follow the frame a task after it is painted.
        expect(lab.measured("maps dropped")).to_have_text(
            re.compile(rf"^{lab.last_frame['dropped']:.3f} expected 0\.500$")
        )
        dropped = page.locator("#views figure.map-tile.dropped").count()
        assert dropped == round(8 * shown_fraction(lab, "maps dropped")), iteration
        assert dropped == round(8 * lab.last_frame["dropped"])
        # A dropped map says so and is one flat colour (every unit zero).
        for tile in page.locator("#views figure.map-tile.dropped").all():
            expect(tile.locator(".map-status")).to_have_text("dropped")
            map_id = tile.get_attribute("data-map")
            assert canvases_of(page, map_canvas(str(map_id)))[0]["colours"] == 1, map_id
        counts.append(dropped)
    assert any(0 < n < 8 for n in counts), counts
    # At test time no map is dropped.
    page.locator('#views .segmented [data-mode="test"]').click()
    expect(page.locator("#views figure.map-tile.dropped")).to_have_count(0)


def test_modes_switch_the_rendering(page: Page, lab: Lab) -> None:
    lab.open("?method=standard&view=feature_maps&p=0.5&play=0&i=2")
    modes = page.locator('#views .segmented[role="radiogroup"] button[role="radio"]')
    expect(modes).to_have_count(3)
    first = map_canvas(map_ids(page)[0])
    seen = {}
    for mode in ("train", "mask", "test"):
        page.locator(f'#views .segmented [data-mode="{mode}"]').click()
        for other in ("train", "mask", "test"):
            expect(page.locator(f'#views .segmented [data-mode="{other}"]')).to_have_attribute(
                "aria-checked", str(other == mode).lower()
            )
        seen[mode] = lab.canvas_digest(first)
    assert len(set(seen.values())) == 3, seen
    expect(page.locator("#views .map-legend")).to_contain_text("Test time")
    # Back to training: the same picture as before.
    page.locator('#views .segmented [data-mode="train"]').click()
    assert lab.canvas_digest(first) == seen["train"]
    expect(page.locator("#views .map-legend")).to_contain_text("dark blue: dropped")


def test_maxdrop_rings_every_dropped_maximum(page: Page, lab: Lab) -> None:
    lab.open("?method=maxdrop&view=feature_maps&p=1&mode=feature&play=0")
    lab.wait_frame("(f) => f.key.startsWith('maxdrop|cat|0|p=1&mode=feature')")
    expect(page.locator("#views figure.map-tile .peak")).to_have_count(8)
    for tile in page.locator("#views figure.map-tile").all():
        expect(tile.locator(".map-canvas .peak")).to_have_count(1)
    expect(page.locator("#views .map-legend")).to_contain_text("Orange ring")
    page.locator('#views .segmented [data-mode="test"]').click()
    expect(page.locator("#views figure.map-tile .peak")).to_have_count(0)


# ---------------------------------------------------------------- the pooling view


def odds_rows(page: Page) -> list[list[str]]:
    rows: list[list[str]] = page.locator("#views table.odds tbody tr").evaluate_all(
        "(rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))"
    )
    return rows


def assert_odds(page: Page, lab: Lab, kernel: int) -> None:
    rows = odds_rows(page)
    assert len(rows) == kernel * kernel + 1, rows
    p = float(lab.slider("p").input_value())
    for rank, row in enumerate(rows[:-1], start=1):
        assert float(row[2]) == pytest.approx((1 - p) * p ** (rank - 1), abs=5e-5), (rank, row)
    assert rows[-1][0] == "none kept"
    assert float(rows[-1][2]) == pytest.approx(p ** (kernel * kernel), abs=5e-5)
    total = sum(float(row[2]) for row in rows)
    assert total == pytest.approx(1, abs=5e-4)
    expect(page.locator("#views table.odds tbody tr.won")).to_have_count(1)


def test_pooling_odds_table(page: Page, lab: Lab) -> None:
    lab.open("?method=maxpool&view=pooling&p=0.3&i=3&play=0")
    lab.wait_frame("(f) => f.key === 'maxpool|cat|0|p=0.3&kernel_size=2&map=edge_0|pooling'")
    expect(lab.slider("p")).to_have_value("0.3")
    assert_odds(page, lab, 2)

    lab.set_slider("kernel_size", 3)
    lab.wait_frame("(f) => f.key.includes('kernel_size=3&')")
    expect(page.locator("#views table.odds tbody tr")).to_have_count(10)
    assert_odds(page, lab, 3)
    expect(page.locator("#views canvas.zoom")).to_have_attribute(
        "aria-label", re.compile(r"iteration 3\b")
    )

    # Pointing at a window shows its odds: with 3 x 3 windows the 24 x 24 square has 8 x 8.
    caption = page.locator("#views table.odds caption")
    zoom = page.locator("#views canvas.zoom")
    zoom.scroll_into_view_if_needed()
    box = zoom.bounding_box()
    assert box is not None
    default = caption.inner_text()
    for row, column in ((5, 2), (0, 7)):
        if default == f"Window {row + 1}, {column + 1}: who wins":
            continue
        page.mouse.move(
            box["x"] + (column + 0.5) * box["width"] / 8, box["y"] + (row + 0.5) * box["height"] / 8
        )
        expect(caption).to_have_text(f"Window {row + 1}, {column + 1}: who wins")
        assert caption.inner_text() != default
        assert_odds(page, lab, 3)
        break
    else:
        pytest.fail("no window to point at")


def test_pooling_kernel_change_after_pointing_at_a_window(page: Page, lab: Lab) -> None:
    """Pointing at a window of a small pool, then choosing a larger pool (fewer windows)."""
    lab.open("?method=maxpool&view=pooling&play=0")
    zoom = page.locator("#views canvas.zoom")
    zoom.scroll_into_view_if_needed()
    box = zoom.bounding_box()
    assert box is not None
    # 2 x 2 windows: 12 x 12 of them; the last one, bottom right.
    page.mouse.move(box["x"] + box["width"] * 23.5 / 24, box["y"] + box["height"] * 23.5 / 24)
    caption = page.locator("#views table.odds caption")
    expect(caption).to_have_text("Window 12, 12: who wins")
    # 4 x 4 windows: 6 x 6 of them. The pointer has not moved: the table shows a window that
    # exists, and the frame is painted.
    lab.set_slider("kernel_size", 4)
    lab.wait_frame("(f) => f.key.includes('kernel_size=4&')", timeout=5_000)
    expect(page.locator("#views table.odds tbody tr")).to_have_count(17)
    expect(caption).to_have_text(re.compile(r"^Window [1-6], [1-6]: who wins$"))
    expect(page.locator("#error")).to_be_hidden()
    assert lab.probe["errors"] == []


# ---------------------------------------------------------------- screenshots


SCREENSHOT_VIEWS = [("standard", "feature_maps"), ("maxpool", "pooling")]


@pytest.mark.parametrize(("method", "view"), SCREENSHOT_VIEWS, ids=[v for _, v in SCREENSHOT_VIEWS])
def test_view_fits_the_screen(page: Page, lab: Lab, tmp_path: Path, method: str, view: str) -> None:
    sideways = {}
    for width, height in ((1280, 800), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        lab.open(f"?method={method}&view={view}&play=0")
        assert_view_drawn(page, lab, view)
        shot = tmp_path / f"{view}-{width}x{height}.png"
        page.screenshot(path=shot)
        assert shot.stat().st_size > 10_000
        print(f"\nscreenshot of the {view} view at {width} x {height}: {shot}")
        if view == "feature_maps":
            boxes = page.locator("#views figure.map-tile").evaluate_all(
                "(tiles) => tiles.map((t) => t.getBoundingClientRect().toJSON())"
            )
            top = boxes[0]["top"]
            first_row = [b for b in boxes if abs(b["top"] - top) < 1]
            assert first_row, boxes
            for b in first_row:
                assert b["top"] >= 0 and b["bottom"] <= height, (width, height, b)
        else:
            b = page.locator("#views canvas.zoom").evaluate(
                "(c) => c.getBoundingClientRect().toJSON()"
            )
            assert b["top"] >= 0 and b["bottom"] <= height, (width, height, b)
        # Nothing of the view sticks out on the right (the page would scroll sideways).
        sideways[f"{width}x{height}"] = page.evaluate(
            """(w) => ({
                scrollWidth: document.documentElement.scrollWidth,
                outside: [...document.querySelectorAll("#views canvas")]
                    .filter((c) => c.getBoundingClientRect().right > w)
                    .map((c) => `${c.className}: ${c.getAttribute("aria-label")}`),
            })""",
            width,
        )
    for size, found in sideways.items():
        width = int(size.split("x")[0])
        assert found["scrollWidth"] <= width and found["outside"] == [], (size, found)
