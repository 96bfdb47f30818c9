"""The pages under their Content-Security-Policy (app/framing.py), in real Chromium: every
view, the embed page, a comparison and the API's docs run without a single violation (no inline
script, no other origin), Plotly's charts included."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""


def one_method_per_view(live_server: str) -> list[tuple[str, str]]:
    catalog: dict[str, Any] = httpx.get(f"{live_server}/api/methods").json()
    chosen: dict[str, str] = {}
    for method in catalog["methods"]:
        for view in method["built_views"]:
            chosen.setdefault(view, method["id"])
    return sorted(chosen.items())


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("() => window.__violations")
    return found


@pytest.fixture
def watched(page: Page) -> Page:
    page.add_init_script(WATCH)
    return page


def test_every_view_runs_under_the_policy_without_a_violation(
    watched: Page, live_server: str
) -> None:
    pairs = one_method_per_view(live_server)
    assert len(pairs) >= 6
    for view, method in pairs:
        watched.goto(f"/?method={method}&view={view}&play=0")
        watched.wait_for_function("() => window.dropoutLab?.ready === true")
        watched.wait_for_function("() => !!window.dropoutLab.lastFrame", timeout=60_000)
        # Plotly comes after the first frame, in the views that chart: give it time to load
        # and draw (a view drawn on canvases alone never asks for it).
        with contextlib.suppress(PlaywrightTimeout):
            watched.wait_for_function("() => typeof window.Plotly === 'object'", timeout=8_000)
        watched.wait_for_timeout(400)
        assert violations(watched) == [], (view, method)


def test_the_embed_page_a_comparison_and_the_docs_run_under_the_policy(
    watched: Page, live_server: str
) -> None:
    watched.goto("/embed?method=standard&play=1&theme=contrast")
    watched.wait_for_function("() => !!window.dropoutLab?.lastFrame", timeout=30_000)
    watched.goto("/?view=image&a.method=standard&b.method=dropblock&play=0")
    watched.locator("section.compare-panel").nth(1).wait_for()
    watched.wait_for_timeout(1_500)
    assert violations(watched) == []
    watched.goto("/docs")
    watched.wait_for_selector(".opblock-tag", timeout=30_000)  # Swagger UI drew the API
    assert "frames" in watched.locator("#swagger-ui").inner_text()
    assert violations(watched) == []


def test_an_inline_script_is_refused(watched: Page, console_errors: Any) -> None:
    """The policy is enforced, not only sent: an inline script put into the page is blocked
    (and reported), so the tests above would have seen one."""
    console_errors.allow("Content Security Policy")
    watched.goto("/docs")
    watched.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.append(script);
    }"""
    )
    watched.wait_for_function("() => window.__violations.length > 0")
    assert watched.evaluate("() => window.__ran === undefined")
    assert any(v.startswith("script-src") for v in violations(watched))
