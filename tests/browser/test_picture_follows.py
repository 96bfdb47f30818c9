"""Every panel that depends on the picture follows the picture in the URL, at once: after
picking another sample and after an upload, what the page shows (every canvas, picture and
chart of the view and the panels under it) equals what a new tab on the same URL shows, and
the reconstruction study and the input picture equal what the API gives for the new image.
Data are compared, not screenshots. Out-of-order answers: a slow study of the old picture
must not land after the new one."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route

from dropouts.lab.views import BUILT

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# A method of each view that works on the picture (the image view's method is one the
# reconstruction study is shown under).
PICTURE_VIEWS = {"image": "cutout", "feature_maps": "dropblock", "pooling": "maxpool"}
PICTURE_VIEWS |= {"residual": "droppath"}

# What the page shows of the view and the panels under it, as data: a digest of every canvas,
# the address of every picture, the data of every chart, and which study the reconstruction
# panel holds.
SNAPSHOT = """async () => {
    const digest = async (bytes) => {
        const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
    };
    const roots = [...document.querySelectorAll("#views, #view-extra, .stats")];
    const canvases = [];
    for (const root of roots) {
        for (const canvas of root.querySelectorAll("canvas")) {
            if (canvas.closest(".js-plotly-plot") || !canvas.width || !canvas.height) continue;
            const { width, height } = canvas;
            const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
            const name = canvas.id || canvas.className;
            canvases.push(`${name}:${width}x${height}:${await digest(data)}`);
        }
    }
    const pictures = roots.flatMap((root) => [...root.querySelectorAll("img")])
        .map((img) => img.src);
    const charts = roots.flatMap((root) => [...root.querySelectorAll(".js-plotly-plot")]
        .map((chart) => JSON.stringify((chart.data ?? []).map((trace) => [trace.x, trace.y]))));
    const study = document.querySelector(".reconstruction");
    return {
        canvases, pictures, charts,
        study: study && !study.hidden ? [study.dataset.image, study.dataset.seed] : null,
        statsCharts: document.querySelectorAll(".stats .js-plotly-plot").length,
        frame: window.dropoutLab.lastFrame?.key ?? null,
    };
}"""


def picture_views() -> list[str]:
    return [view_id for view_id, view in BUILT.items() if view.needs_image]


def test_every_view_on_the_picture_is_covered() -> None:
    assert set(picture_views()) == set(PICTURE_VIEWS)


def settled(page: Page, image: str, timeout_s: float = 40) -> dict[str, Any]:
    """The snapshot once the page shows ``image`` and nothing changes for a second."""
    deadline = time.monotonic() + timeout_s
    previous: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        snapshot: dict[str, Any] = page.evaluate(SNAPSHOT)
        ready = snapshot["frame"] is not None and f"|{image}|" in f"{snapshot['frame']}|"
        study = snapshot["study"]
        ready = ready and (study is None or study[0] == image) and snapshot["statsCharts"] == 2
        if ready and snapshot == previous:
            return snapshot
        previous = snapshot if ready else None
        page.wait_for_timeout(500)
    raise AssertionError(f"the page did not settle on {image}: {previous}")


def open_at_bottom(lab: Lab, query: str) -> None:
    lab.open(query)
    lab.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")


def fresh_tab(browser: Browser, base_url: str, url: str, image: str) -> dict[str, Any]:
    """What a new tab on ``url`` shows, once settled."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.dropoutLab?.ready === true")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        return settled(page, image)
    finally:
        context.close()


def api_study(base_url: str, image: str, seed: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/api/reconstruction", params={"image": image, "seed": seed})
    response.raise_for_status()
    study: dict[str, Any] = response.json()
    return study


def assert_study_is_the_apis(page: Page, base_url: str, image: str) -> None:
    shown = page.evaluate(
        """() => ({
            curves: document.querySelector(".psnr-chart").data.map((trace) => trace.y),
            examples: [...document.querySelectorAll(".psnr-example img")].map((img) => img.src),
            seed: document.querySelector(".reconstruction").dataset.seed,
        })"""
    )
    study = api_study(base_url, image, shown["seed"])
    assert shown["curves"] == [curve["psnr"] for curve in study["curves"]]
    assert shown["examples"] == [example["reconstruction"] for example in study["examples"]]


def assert_input_is_the_apis(page: Page, image: str) -> None:
    """The image view's input canvas holds exactly the served picture's pixels."""
    same = page.evaluate(
        """async (id) => {
            const bitmap = await createImageBitmap(await (await fetch(`/api/images/${id}`)).blob());
            const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
            const context = canvas.getContext("2d");
            context.drawImage(bitmap, 0, 0);
            const served = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
            const input = document.querySelector("#canvas-input");
            const shown = input.getContext("2d").getImageData(0, 0, input.width, input.height).data;
            return served.length === shown.length && served.every((v, k) => v === shown[k]);
        }""",
        image,
    )
    assert same


@pytest.mark.parametrize("view_id", sorted(PICTURE_VIEWS))
def test_every_picture_panel_follows_a_sample_and_an_upload(
    view_id: str, lab: Lab, browser: Browser, base_url: str, png_file: Path
) -> None:
    page = lab.page
    method = PICTURE_VIEWS[view_id]
    open_at_bottom(lab, f"?method={method}&view={view_id}&play=0&i=3&seed=4")
    before = settled(page, "cat")

    page.select_option("#image-select", "astronaut")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    after_sample = settled(page, "astronaut")
    assert after_sample != before
    assert after_sample == fresh_tab(browser, base_url, page.url, "astronaut")

    page.set_input_files("#upload", str(png_file))
    page.wait_for_url("**image=u*")
    upload = lab.query()["image"]
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    after_upload = settled(page, upload)
    assert after_upload != after_sample
    assert after_upload == fresh_tab(browser, base_url, page.url, upload)

    if view_id == "image":
        assert_input_is_the_apis(page, upload)
        assert_study_is_the_apis(page, base_url, upload)


def test_a_slow_study_of_the_old_picture_never_lands_after_the_new_one(
    lab: Lab, base_url: str
) -> None:
    """The cat's study is held back until the astronaut's is on screen; then it arrives."""
    page = lab.page
    held: list[Route] = []

    def hold_the_cat(route: Route) -> None:
        if "image=cat" in route.request.url:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/reconstruction?*", hold_the_cat)
    open_at_bottom(lab, "?method=standard&view=image&play=0&seed=2")
    page.wait_for_function("() => document.querySelector('.reconstruction .help').textContent")
    for _ in range(50):  # the route's handler runs as the request arrives
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the cat's study was asked for"
    page.select_option("#image-select", "coffee")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    settled(page, "coffee")
    for route in held:  # the old answer arrives late
        with contextlib.suppress(Exception):  # the page aborted it: nothing can land
            route.continue_()
    page.wait_for_timeout(1500)
    assert page.evaluate("document.querySelector('.reconstruction').dataset.image") == "coffee"
    assert_study_is_the_apis(page, base_url, "coffee")


def test_no_study_of_another_picture_stays_on_screen_while_measuring(
    lab: Lab, base_url: str
) -> None:
    """While the new picture's study is measured, the old one's curves and examples are gone."""
    page = lab.page
    open_at_bottom(lab, "?method=dropblock&view=image&play=0&seed=6")
    settled(page, "cat")
    held: list[Route] = []
    page.route("**/api/reconstruction?*", lambda route: held.append(route))
    page.select_option("#image-select", "astronaut")
    page.wait_for_function("() => document.querySelector('.reconstruction .help').textContent")
    shown = page.evaluate(
        """() => ({
            examples: document.querySelectorAll(".psnr-example").length,
            traces: (document.querySelector(".psnr-chart").data ?? []).length,
            image: document.querySelector(".reconstruction").dataset.image ?? null,
        })"""
    )
    assert shown == {"examples": 0, "traces": 0, "image": None}
    for route in held:
        route.continue_()
    page.unroute("**/api/reconstruction?*")
    settled(page, "astronaut")
    assert_study_is_the_apis(page, base_url, "astronaut")
