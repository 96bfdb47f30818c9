"""A busy server (app/capacity.py answers 503 with Retry-After): the page waits as told and asks
again, quietly, and paints the frame without showing an error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, Route, expect

if TYPE_CHECKING:
    from conftest import ConsoleErrors, Lab

pytestmark = pytest.mark.browser

HEADERS = {"Retry-After": "1", "Content-Type": "application/json"}
BUSY = json.dumps(
    {"error": {"field": "server", "message": "the server is busy", "allowed": "retry after 1 s"}}
)


def test_the_page_waits_out_a_busy_server_quietly(
    page: Page, lab: Lab, console_errors: ConsoleErrors
) -> None:
    console_errors.allow(r"status of 503")  # Chromium logs every failed fetch; the page does not
    answered: list[int] = []

    def busy_twice(route: Route) -> Any:
        if len(answered) < 2:
            answered.append(503)
            return route.fulfill(
                status=503,
                body=BUSY,
                headers={"Retry-After": "1", "Content-Type": "application/json"},
            )
        answered.append(200)
        return route.continue_()

    page.route("**/api/frames?**", busy_twice)
    lab.open("?method=standard&play=0&seed=11")
    frame = lab.wait_frame("(f) => f.key.startsWith('standard|')", timeout=30_000)
    assert frame["iteration"] == 0
    assert answered[:2] == [503, 503] and 200 in answered
    expect(page.locator("#error")).to_be_hidden()
    assert lab.probe["errors"] == []
