"""The standalone HTML export in real Chromium: exported from a real server, the server
stopped, the file opened from disk; it plays, and asks for nothing but itself."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from app.loopback import serve

pytestmark = pytest.mark.browser

QUERY = {
    "view": "image",
    "a.method": "standard",
    "a.p": "0.4",
    "b.method": "dropblock",
    "b.p": "0.3",
    "seed": "3",
    "i": "95",
    "format": "html",
    "frames": "12",
    "size": "320x180",
    "fps": "10",
    "stats": "true",
}


def _export(tmp_path: Path) -> Path:
    """The HTML file, written to disk; the server that made it is stopped on return."""
    with serve(tmp_path / "uploads", tmp_path / "server.log") as url:
        response = httpx.get(f"{url}/api/export", params=QUERY, timeout=120)
        assert response.status_code == 200, response.text
    match = re.search(r'filename="([^"]+)"', response.headers["content-disposition"])
    assert match and match.group(1) == "dropout-lab-compare-image.html"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/healthz", timeout=2)  # the server is gone
    path = tmp_path / match.group(1)
    path.write_bytes(response.content)
    return path


def test_standalone_html_plays_from_disk_and_asks_for_nothing(page: Page, tmp_path: Path) -> None:
    path = _export(tmp_path)
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    page.goto(path.as_uri())
    picture = page.locator("#frame")
    iteration = page.locator("#iteration")
    expect(iteration).to_have_text("95")
    page.wait_for_function("() => document.getElementById('frame').complete")
    assert page.evaluate("() => document.getElementById('frame').naturalWidth") == 320
    first = picture.get_attribute("src")
    assert first and first.startswith("data:image/webp;base64,")

    page.locator("#play").click()
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(
        "(src) => document.getElementById('frame').getAttribute('src') !== src", arg=first
    )
    # The frames run 95..99 then 0..6, looping: the number shown moves on.
    expect(iteration).not_to_have_text("95")
    page.wait_for_function(
        "() => document.getElementById('iteration').textContent === '0'", timeout=10_000
    )
    page.keyboard.press(" ")  # pauses
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    shown = int(iteration.inner_text())
    page.keyboard.press("ArrowRight")
    expect(iteration).to_have_text(str((shown + 1) % 100))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(iteration).to_have_text(str((shown - 1) % 100))
    # The statistics follow the frame, the chart's marker too.
    assert page.locator("#numbers td[data-stat='dropped_fraction']").first.inner_text() != ""
    marker = page.locator("#marker").get_attribute("x1")
    page.keyboard.press("ArrowRight")
    assert page.locator("#marker").get_attribute("x1") != marker
    # The formulas are set by the browser from MathML in the file.
    assert page.locator("math").count() >= 2

    uri = path.as_uri()
    assert requests and requests[0] == uri
    assert all(url == uri or url.startswith("data:") for url in requests), requests
