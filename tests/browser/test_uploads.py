"""Uploading a picture: the file picker, drag and drop, EXIF orientation, and refused files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from conftest import drag_file_over, drop_dragged
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from conftest import ConsoleErrors, Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

UPLOAD_ID = re.compile(r"[?&]image=(u[0-9a-f]{24})(&|$)")


def uploaded_id(page: Page) -> str:
    expect(page).to_have_url(UPLOAD_ID)
    found = UPLOAD_ID.search(page.url)
    assert found is not None
    return found.group(1)


def served_size(page: Page, image_id: str) -> tuple[int, int]:
    """The natural size of ``/api/images/<id>``, decoded by the browser."""
    size = page.evaluate(
        """async (id) => {
            const bitmap = await createImageBitmap(await (await fetch(`/api/images/${id}`)).blob());
            return [bitmap.width, bitmap.height];
        }""",
        image_id,
    )
    return int(size[0]), int(size[1])


def pixel(page: Page, selector: str, x: int, y: int) -> list[int]:
    rgba: list[int] = page.evaluate(
        """([s, x, y]) => [...document.querySelector(s).getContext("2d")
            .getImageData(x, y, 1, 1).data]""",
        [selector, x, y],
    )
    return rgba


def expect_painted_on(lab: Lab, image_id: str, size: tuple[int, int]) -> None:
    lab.wait_frame("(f, id) => f.key.split('|')[1] === id", image_id)
    assert lab.canvas_size("#canvas-input") == size
    assert lab.canvas_size("#canvas-mask") == size
    assert served_size(lab.page, image_id) == size
    expect(lab.page.locator("#image-select")).to_have_value(image_id)
    expect(lab.page.locator("#error")).to_be_hidden()


def test_upload_png_then_rotated_jpeg(
    page: Page, lab: Lab, png_file: Path, rotated_jpeg: Path
) -> None:
    lab.open("?play=0")
    page.locator("#upload").set_input_files(png_file)
    png_id = uploaded_id(page)
    expect(page.locator("#toast")).to_contain_text("Using gradient.png")
    # 800 x 600 -> long side 512.
    expect_painted_on(lab, png_id, (512, 384))

    page.locator("#upload").set_input_files(rotated_jpeg)
    expect(page).not_to_have_url(re.compile(rf"image={png_id}"))
    jpeg_id = uploaded_id(page)
    # Stored 800 x 600 with Orientation = 6: shown upright it is 600 x 800, so 384 x 512.
    expect_painted_on(lab, jpeg_id, (384, 512))
    # Upright, the red half is on top and the blue half at the bottom.
    red, _, blue, _ = pixel(page, "#canvas-input", 192, 100)
    assert red > 180 and blue < 80, (red, blue)
    red, _, blue, _ = pixel(page, "#canvas-input", 192, 412)
    assert blue > 180 and red < 80, (red, blue)
    # Both uploads are offered in the image menu, next to the samples.
    options = page.locator("#image-select option")
    expect(options.filter(has_text="gradient.png")).to_have_count(1)
    expect(options.filter(has_text="phone-photo.jpg")).to_have_count(1)
    # And a new method is shown on the upload.
    page.locator('nav#picker button.method[data-method="cutout"]').click()
    lab.wait_frame("(f, id) => f.key.startsWith(`cutout|${id}|`)", jpeg_id)


def test_drop_an_image_on_the_views(page: Page, lab: Lab, wide_png: Path) -> None:
    lab.open("?play=0&method=spatial")
    views = page.locator("#views")
    transfer = drag_file_over(page, "#views", wide_png)
    expect(views).to_have_class(re.compile(r"\bdragging\b"))
    drop_dragged(page, "#views", transfer)
    expect(views).not_to_have_class(re.compile(r"\bdragging\b"))
    image_id = uploaded_id(page)
    expect_painted_on(lab, image_id, (512, 160))
    assert lab.last_frame["key"].startswith(f"spatial|{image_id}|")


def test_refused_upload_names_the_field(
    page: Page, lab: Lab, console_errors: ConsoleErrors, live_server: str
) -> None:
    console_errors.allow(r"Failed to load resource: the server responded with a status of 422")
    lab.open("?play=0")
    before = lab.last_frame
    page.locator("#upload").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture\n" * 10}
    )
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error).to_have_text(re.compile(r"^file: .*not a readable image"))
    expect(error).to_have_attribute("role", "alert")
    assert any(message.startswith("file:") for message in lab.probe["errors"])
    # Nothing else changed, and the server keeps serving.
    assert lab.query()["image"] == "cat"
    assert lab.last_frame == before
    assert httpx.get(f"{live_server}/healthz").json()["status"] == "ok"
    page.locator('nav#picker button.method[data-method="gaussian"]').click()
    lab.wait_frame("(f) => f.key.startsWith('gaussian|cat|')")
    expect(error).to_be_hidden()


def test_link_to_an_unknown_upload_falls_back_to_the_cat(
    page: Page, lab: Lab, console_errors: ConsoleErrors
) -> None:
    console_errors.allow(r"Failed to load resource: the server responded with a status of 404")
    lab.open("?image=u0123456789abcdef01234567&play=0")
    expect(page).to_have_url(re.compile(r"[?&]image=cat(&|$)"))
    lab.wait_frame("(f) => f.key.startsWith('standard|cat|')", timeout=3_000)
    # The explanation stays on screen next to the cat (a paint clears #error otherwise).
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("is not on this server")
    assert lab.canvas_size("#canvas-input") == (451, 300)
