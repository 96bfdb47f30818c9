"""WCAG 2 A/AA (axe-core) on the error pages and on the API's docs, in real Chromium.

The error pages (templates/error.html) have no violation at all. /docs is Swagger UI: its
contrast is fixed by static/css/docs.css, and its deep links are off (each was a link inside an
operation's summary button: nested-interactive; see the top of docs.css): as it opens, axe
finds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Route, expect

if TYPE_CHECKING:
    from conftest import ConsoleErrors

pytestmark = [pytest.mark.browser]

WCAG_A_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# Chromium reports a page answered with an error status in the console.
ERROR_STATUS = r"Failed to load resource: the server responded with a status of (404|405)"


def violations(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = Axe().run(page, options=WCAG_A_AA).response["violations"]
    return found


def summary(found: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Rule id to the offending nodes (their HTML), for a readable failure."""
    return {rule["id"]: [node["html"][:160] for node in rule["nodes"]] for rule in found}


def test_the_404_page_has_no_violation(page: Page, console_errors: ConsoleErrors) -> None:
    console_errors.allow(ERROR_STATUS)
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    expect(page.locator("main h1")).to_have_text("Page not found")
    # lab.css and error.css applied (axe checks contrast on the styled page).
    expect(page.locator(".error-links a").first).to_have_css("display", "inline-block")
    assert summary(violations(page)) == {}


def test_the_error_page_has_no_violation(page: Page, console_errors: ConsoleErrors) -> None:
    """A 405: the lab's page posted to (the browser's navigation turned into a POST)."""
    console_errors.allow(ERROR_STATUS)

    def as_post(route: Route) -> None:
        route.continue_(method="POST")

    page.route("**/", as_post)
    response = page.goto("/")
    assert response is not None and response.status == 405
    expect(page.locator("main h1")).to_have_text("Method not allowed")
    expect(page.locator(".error-details")).to_have_css("display", "grid")
    assert summary(violations(page)) == {}


def open_docs(page: Page) -> None:
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    # docs.css applied: the GET badge's colour is ours, not Swagger's #61affe.
    expect(page.locator(".opblock-get .opblock-summary-method").first).to_have_css(
        "background-color", "rgb(31, 105, 192)"
    )


def test_the_docs_have_no_violation_as_they_open(page: Page) -> None:
    open_docs(page)
    assert summary(violations(page)) == {}
    # No link (an anchor with an address) nested in an operation's summary button.
    assert page.locator(".opblock-summary-control a[href]").count() == 0


def test_the_opened_docs_have_enough_contrast(page: Page) -> None:
    """Every operation opened, in "Try it out", the first one executed: no contrast fault."""
    open_docs(page)
    operations = page.locator(".opblock")
    for summary_button in page.locator(".opblock-summary-control").all():
        summary_button.click()
    expect(page.locator(".opblock-body")).to_have_count(operations.count())
    try_out = page.get_by_role("button", name="Try it out", exact=True)  # then "Cancel"
    for left in range(try_out.count(), 0, -1):
        try_out.first.click()
        expect(try_out).to_have_count(left - 1)
    expect(page.locator(".btn.execute")).to_have_count(operations.count())
    page.locator(".opblock-get .btn.execute").first.click()
    expect(page.locator(".live-responses-table .response-col_status").first).to_be_visible()
    contrast = [rule for rule in violations(page) if rule["id"] == "color-contrast"]
    assert contrast == [], summary(contrast)
