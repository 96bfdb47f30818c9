"""Browser tests: a real uvicorn on loopback, Debian's headless Chromium, pytest-playwright.

The server is ``app.main:app`` run by uvicorn in a child process on a free loopback port
(``app.loopback.serve``); uploads go to a temporary directory.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from app.loopback import CHROMIUM, CHROMIUM_ARGS, serve

expect.set_options(timeout=10_000)


# ---------------------------------------------------------------- the server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn app.main:app`` on 127.0.0.1:<free port>; its base URL. Stopped at the end."""
    uploads = tmp_path_factory.mktemp("uploads")
    log_path = tmp_path_factory.mktemp("server") / "uvicorn.log"
    with serve(uploads, log_path) as url:
        yield url
    errors = [line for line in log_path.read_text().splitlines() if "Traceback" in line]
    assert not errors, log_path.read_text()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """Overrides pytest-playwright's: ``page.goto("/")`` goes to the live server."""
    return live_server


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Debian's chromium, never a downloaded one (no `playwright install` on this machine).
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


class ConsoleErrors:
    """Console errors and uncaught exceptions of every watched page; none may be left over."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        # A 503 is an answer the page handles (a busy server: asked again; a trained view's
        # setting not trained yet: its training stream opened), but Chromium logs the failed
        # load; the page's own errors are checked by the tests (probe.errors, #error).
        self.allowed: list[re.Pattern[str]] = [
            re.compile(r"Failed to load resource: the server responded with a status of 503")
        ]

    def watch(self, page: Page) -> Page:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        return page

    def allow(self, pattern: str) -> None:
        """Expect errors matching ``pattern`` (a regex), e.g. a 4xx the test provokes."""
        self.allowed.append(re.compile(pattern))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(f"console.error: {message.text} ({message.location})")

    def _on_page_error(self, error: Error) -> None:
        self.messages.append(f"pageerror: {error.message}\n{error.stack}")

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


@pytest.fixture(autouse=True)
def console_errors(page: Page) -> Iterator[ConsoleErrors]:
    collected = ConsoleErrors()
    page.set_default_timeout(15_000)
    collected.watch(page)
    yield collected
    assert collected.unexpected() == [], "errors in the browser console"


# ---------------------------------------------------------------- driving the lab


class Lab:
    """A page of Dropout Lab, read through ``window.dropoutLab`` and the URL."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, query: str = "") -> Lab:
        self.page.goto(f"/{query}")
        self.page.wait_for_function("() => window.dropoutLab?.ready === true")
        return self

    @property
    def probe(self) -> dict[str, Any]:
        probe: dict[str, Any] = self.page.evaluate("() => structuredClone(window.dropoutLab)")
        return probe

    @property
    def last_frame(self) -> dict[str, Any]:
        return dict(self.probe["lastFrame"])

    def query(self) -> dict[str, str]:
        """The page's URL query, one value per key."""
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.page.url).query).items()}

    def wait_frame(
        self, condition: str, arg: Any = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Wait until ``condition(lastFrame, arg)`` (a JS arrow function) holds; the frame."""
        self.page.wait_for_function(
            f"""([arg]) => {{
                const frame = window.dropoutLab.lastFrame;
                return !!frame && ({condition})(frame, arg);
            }}""",
            arg=[arg],
            timeout=timeout,
        )
        return self.last_frame

    def wait_painted_more(self, than: int, by: int = 1) -> int:
        self.page.wait_for_function(
            "(n) => window.dropoutLab.painted >= n", arg=than + by, timeout=15_000
        )
        return int(self.probe["painted"])

    def slider(self, name: str) -> Any:
        return self.page.locator(f'#params [data-param="{name}"]')

    def set_slider(self, name: str, value: float) -> None:
        """As a drag ending on ``value``: sets it, fires ``input`` then ``change``."""
        self.slider(name).fill(str(value))

    def canvas_size(self, selector: str) -> tuple[int, int]:
        size = self.page.evaluate(
            "(s) => { const c = document.querySelector(s); return [c.width, c.height]; }", selector
        )
        return int(size[0]), int(size[1])

    def canvas_digest(self, selector: str) -> str:
        """SHA-256 of the canvas pixels (RGBA), computed in the page."""
        digest: str = self.page.evaluate(
            """async (s) => {
                const c = document.querySelector(s);
                const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                const hash = await crypto.subtle.digest("SHA-256", data);
                const hex = (b) => b.toString(16).padStart(2, "0");
                return [...new Uint8Array(hash)].map(hex).join("");
            }""",
            selector,
        )
        return digest

    def measured(self, term: str) -> Any:
        """The ``<dd>`` of the statistics row ``term`` (e.g. "pixels dropped")."""
        row = self.page.locator("#numbers dt", has_text=re.compile(f"^{re.escape(term)}$"))
        return row.locator("xpath=following-sibling::dd[1]")

    def method_names(self) -> dict[str, str]:
        names: dict[str, str] = self.page.evaluate(
            """() => Object.fromEntries(JSON.parse(document.getElementById("boot").textContent)
                .catalog.methods.map((m) => [m.id, m.name]))"""
        )
        return names


@pytest.fixture
def lab(page: Page) -> Lab:
    return Lab(page)


@pytest.fixture
def make_lab() -> Callable[[Page], Lab]:
    return Lab


def drag_file_over(page: Page, selector: str, path: Path, mime: str = "image/png") -> Any:
    """Drag the file at ``path`` onto ``selector`` as a visitor does (``dragenter``, then
    ``dragover``); returns the ``DataTransfer`` to drop with ``drop_dragged``."""
    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            return transfer;
        }""",
        [data, path.name, mime],
    )
    target = page.locator(selector)
    target.dispatch_event("dragenter", {"dataTransfer": transfer})
    target.dispatch_event("dragover", {"dataTransfer": transfer})
    return transfer


def drop_dragged(page: Page, selector: str, transfer: Any) -> None:
    page.locator(selector).dispatch_event("drop", {"dataTransfer": transfer})


# ---------------------------------------------------------------- test images


def gradient(width: int, height: int, *, split: bool = False) -> Image.Image:
    """A colour gradient; with ``split``, left half red and right half blue (for orientation)."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None].repeat(width, 1)
    if split:
        left = x < 127.5
        red, green, blue = np.where(left, 230, 20), y / 4, np.where(left, 20, 230)
    else:
        red, green, blue = x, y, np.full_like(x, 128)
    planes = np.stack([red, green, blue], axis=-1)
    return Image.fromarray(planes.round().astype(np.uint8))


def png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    """An 800 x 600 PNG gradient."""
    path = tmp_path / "gradient.png"
    path.write_bytes(png_bytes(gradient(800, 600)))
    return path


@pytest.fixture
def wide_png(tmp_path: Path) -> Path:
    """A 640 x 200 PNG gradient."""
    path = tmp_path / "dropped.png"
    path.write_bytes(png_bytes(gradient(640, 200)))
    return path


@pytest.fixture
def rotated_jpeg(tmp_path: Path) -> Path:
    """An 800 x 600 JPEG, red on the left and blue on the right, tagged EXIF Orientation = 6.

    Orientation 6 means "rotate 90° clockwise to display": shown right, it is 600 x 800 with
    red on top and blue at the bottom.
    """
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    path = tmp_path / "phone-photo.jpg"
    gradient(800, 600, split=True).save(path, format="JPEG", quality=90, exif=exif)
    return path
