"""Side by side: two to four methods on one view, picture, seed and iteration, in lockstep;
reached from the lab page, grown and shrunk, matched on the same dropped fraction, reproduced
from its URL, left for one method, embedded, and laid out on wide screens."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

if TYPE_CHECKING:
    from conftest import ConsoleErrors, Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

PANEL = "section.compare-panel"
THREE = "?view=image&a.method=standard&b.method=dropblock&c.method=cutout&play=0"


class Board:
    """The comparison page (or its embed), read through ``window.dropoutLab`` and the URL."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, path: str) -> Board:
        self.page.goto(path)
        self.page.wait_for_function("() => window.dropoutLab?.ready === true")
        return self

    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.page.url).query).items()}

    def letters(self) -> list[str]:
        letters: list[str] = self.page.locator(PANEL).evaluate_all(
            "(panels) => panels.map((panel) => panel.dataset.panel)"
        )
        return letters

    def frames(self) -> dict[str, dict[str, Any]]:
        frames: dict[str, dict[str, Any]] = self.page.evaluate(
            "() => structuredClone(window.dropoutLab.lastFrames)"
        )
        return {str(k): v for k, v in frames.items()}

    def wait_all_at(self, iteration: int, keys: list[str] | None = None) -> dict[str, Any]:
        """Wait until every panel (``keys`` of lastFrames, else the page's letters) painted
        ``iteration``; the frames."""
        keys = keys if keys is not None else self.letters()
        self.page.wait_for_function(
            """([keys, iteration]) => keys.every(
                (k) => window.dropoutLab.lastFrames[k]?.iteration === iteration)""",
            arg=[keys, iteration],
        )
        return self.frames()

    def panel(self, letter: str) -> Any:
        return self.page.locator(f'{PANEL}[data-panel="{letter}"]')

    def expected_dropped(self, letter: str) -> float:
        """The theory of the panel's first statistics row ("… dropped … expected x")."""
        theory = self.panel(letter).locator("dl.compare-numbers dd").first.locator(".theory")
        text = theory.inner_text()
        found = re.search(r"expected\s+([0-9.]+)", text)
        assert found is not None, text
        return float(found.group(1))

    def digest(self, letter: str, canvas: str) -> str:
        digest: str = self.page.evaluate(
            """async (s) => {
                const c = document.querySelector(s);
                const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                const hash = await crypto.subtle.digest("SHA-256", data);
                const hex = (b) => b.toString(16).padStart(2, "0");
                return [...new Uint8Array(hash)].map(hex).join("");
            }""",
            f'{PANEL}[data-panel="{letter}"] {canvas}',
        )
        return digest


@pytest.fixture
def board(page: Page) -> Board:
    return Board(page)


def step_forward(page: Page, board: Board, at: int) -> dict[str, Any]:
    page.locator("#step-forward").click()
    return board.wait_all_at((at + 1) % 100)


# ---------------------------------------------------------------- from the lab page


def test_compare_button_opens_a_comparison(page: Page, lab: Lab, board: Board) -> None:
    lab.open("?method=standard&p=0.25&play=0")
    expect(page.locator("#compare")).to_be_visible()
    expect(page.locator("#compare")).to_be_enabled()
    page.locator("#compare").click()
    page.wait_for_url(re.compile(r"a\.method="))
    page.wait_for_function("() => window.dropoutLab?.ready === true")
    expect(page.locator(PANEL)).to_have_count(2)
    assert board.letters() == ["a", "b"]
    frames = board.wait_all_at(0)
    assert frames["a"]["iteration"] == frames["b"]["iteration"] == 0
    query = board.query()
    assert (query["a.method"], query["a.p"], query["view"]) == ("standard", "0.25", "image")
    assert query["b.method"] not in ("", "standard"), query
    assert query["play"] == "0"
    expect(page.locator(".compare-grid")).to_be_visible()
    # Panel a drops about a quarter, as it did on the single page.
    assert abs(frames["a"]["dropped"] - 0.25) < 0.02, frames
    assert page.evaluate("() => window.dropoutLab.errors") == []


def test_panels_move_in_lockstep(page: Page, board: Board) -> None:
    board.open("?view=image&a.method=standard&a.p=0.25&b.method=dropblock&play=0&speed=8")
    board.wait_all_at(0)
    step_forward(page, board, 0)
    page.locator("#step-forward").focus()
    page.keyboard.press("ArrowRight")
    frames = board.wait_all_at(2)
    expect(page.locator("#iteration-value")).to_have_text("2")
    assert frames["a"]["dropped"] != frames["b"]["dropped"], frames

    # Playing at 8 a second: never more than one iteration apart, and both move on. (Space on
    # a button reached by the keyboard presses that button; from the page it plays.)
    page.locator("#lab").focus()
    page.keyboard.press(" ")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    seen = []
    for _ in range(20):
        page.wait_for_timeout(100)
        frames = board.frames()
        a, b = frames["a"]["iteration"], frames["b"]["iteration"]
        seen.append((a, b))
        assert min((a - b) % 100, (b - a) % 100) <= 1, seen
    assert seen[-1][0] >= 6 and seen[-1][1] >= 6, seen
    page.keyboard.press(" ")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    page.wait_for_timeout(300)
    frames = board.frames()
    assert frames["a"]["iteration"] == frames["b"]["iteration"], frames
    assert board.query()["play"] == "0"


def test_add_and_remove_a_method(page: Page, board: Board) -> None:
    board.open("?view=image&a.method=standard&b.method=dropblock&play=0")
    board.wait_all_at(0)
    for letter in ("a", "b"):  # two is the least: no panel can go
        expect(
            board.panel(letter).get_by_role("button", name=f"remove panel {letter}")
        ).to_be_disabled()
    page.get_by_role("button", name="Add a method").click()
    expect(page.locator(PANEL)).to_have_count(3)
    expect(page).to_have_url(re.compile(r"[?&]c\.method=\w+"))
    third = board.query()["c.method"]
    assert third not in ("standard", "dropblock"), third
    board.wait_all_at(0, ["a", "b", "c"])
    expect(board.panel("c").locator("select").first).to_have_value(third)

    board.panel("c").get_by_role("button", name="remove panel c").click()
    expect(page.locator(PANEL)).to_have_count(2)
    expect(page).not_to_have_url(re.compile(r"c\.method="))
    query = board.query()
    assert (query["a.method"], query["b.method"]) == ("standard", "dropblock")
    assert page.evaluate("() => window.dropoutLab.errors") == []


# ---------------------------------------------------------------- same dropped fraction


def test_same_dropped_fraction(page: Page, board: Board) -> None:
    board.open(THREE)
    board.wait_all_at(0)
    before = board.query()
    assert (before["a.p"], before["b.p"], before["c.size"]) == ("0.5", "0.2", "96")
    target = page.locator("#same-fraction-value")
    expect(target).to_have_value("0.25")
    page.locator("#same-fraction").check()
    expect(target).to_be_enabled()
    expect(page).to_have_url(re.compile(r"[?&]match=0\.25(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]c\.size=(?!96&)\d+"))
    query = board.query()
    assert float(query["a.p"]) == pytest.approx(0.25, abs=0.005), query
    assert float(query["b.p"]) == pytest.approx(0.29, abs=0.01), query
    assert int(query["c.size"]) != 96, query
    # The sliders show the matched settings (to their step).
    p_slider = board.panel("b").locator('[data-param="p"]')
    expect(p_slider).to_have_value(re.compile(r"^0\.29"))
    assert float(p_slider.input_value()) == pytest.approx(float(query["b.p"]), abs=0.01)
    expect(board.panel("c").locator('[data-param="size"]')).to_have_value(query["c.size"])
    for letter in ("a", "b", "c"):
        expect(board.panel(letter).locator("dl.compare-numbers .theory").first).to_contain_text(
            "expected 0.2"
        )
        assert board.expected_dropped(letter) == pytest.approx(0.25, abs=0.005), letter

    # Measured over 20 iterations, each panel drops about that much.
    dropped: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    frames = board.wait_all_at(0)
    for at in range(20):
        for letter in dropped:
            dropped[letter].append(frames[letter]["dropped"])
        frames = step_forward(page, board, at)
    for letter, values in dropped.items():
        mean = statistics.fmean(values)
        error = statistics.stdev(values) / math.sqrt(len(values))
        print(
            f"panel {letter} ({query[f'{letter}.method']}): mean dropped {mean:.4f} ± {error:.4f}"
        )
        assert abs(mean - 0.25) <= 4 * error + 0.002, (letter, mean, error, values)
    assert page.evaluate("() => window.dropoutLab.errors") == []


# ---------------------------------------------------------------- the URL


def test_a_copied_comparison_reproduces_its_frames(
    page: Page,
    board: Board,
    context: BrowserContext,
    new_context: Callable[..., BrowserContext],
    console_errors: ConsoleErrors,
) -> None:
    board.open("?view=image&a.method=standard&a.p=0.3&b.method=cutout&seed=5&play=0")
    board.wait_all_at(0)
    board.panel("b").locator('[data-param="size"]').fill("64")
    expect(page).to_have_url(re.compile(r"[?&]b\.size=64(&|$)"))
    step_forward(page, board, 0)
    frames = step_forward(page, board, 1)
    expect(page).to_have_url(re.compile(r"[?&]i=2(&|$)"))
    canvases = ("#canvas-mask", "#canvas-train")
    shown = {(k, c): board.digest(k, c) for k in ("a", "b") for c in canvases}

    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#copy-link").click()
    expect(page.locator("#toast")).to_contain_text("Link copied")
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link == page.url
    query = board.query()
    assert (query["seed"], query["a.p"], query["b.size"], query["i"]) == ("5", "0.3", "64", "2")

    other = console_errors.watch(new_context().new_page())
    again = Board(other).open(link)
    assert again.wait_all_at(2) == frames
    assert {(k, c): again.digest(k, c) for k in ("a", "b") for c in canvases} == shown
    expect(again.panel("b").locator('[data-param="size"]')).to_have_value("64")
    expect(other.locator("#compare-seed")).to_have_value("5")
    # The next iteration, other masks: the digests do measure the masks.
    step_forward(other, again, 2)
    for letter in ("a", "b"):
        assert again.digest(letter, "#canvas-mask") != shown[(letter, "#canvas-mask")], letter


def test_the_shared_seed_redraws_every_panel(page: Page, board: Board) -> None:
    board.open("?view=image&a.method=standard&b.method=cutout&seed=5&play=0")
    board.wait_all_at(0)
    masks = {letter: board.digest(letter, "#canvas-mask") for letter in ("a", "b")}
    seed = page.locator("#compare-seed")
    seed.fill("6")
    seed.press("Tab")  # the seed is taken on change
    expect(page).to_have_url(re.compile(r"[?&]seed=6(&|$)"))
    # Each panel painted with the new seed (a Cutout hole inside the picture drops as many
    # pixels whatever the seed, so the key says it, not the dropped fraction).
    page.wait_for_function(
        """() => ["a", "b"].every(
            (k) => window.dropoutLab.lastFrames[k].key.split("|")[2] === "6")""",
        timeout=5000,
    )
    for letter in ("a", "b"):
        assert board.digest(letter, "#canvas-mask") != masks[letter], letter
    assert page.evaluate("() => window.dropoutLab.errors") == []


def test_one_method_returns_to_panel_as_method(page: Page, board: Board, lab: Lab) -> None:
    board.open(
        "?view=image&a.method=dropblock&a.p=0.3&a.block_size=15&b.method=cutout&seed=3&i=4&play=0"
    )
    board.wait_all_at(4)
    page.get_by_role("button", name="One method").click()
    page.wait_for_url(re.compile(r"[?&]method=dropblock(&|$)"))
    page.wait_for_function("() => window.dropoutLab?.ready === true")
    frame = lab.wait_frame("(f) => f.iteration === 4")
    assert frame["key"] == "dropblock|cat|3|p=0.3&block_size=15|image", frame
    query = lab.query()
    assert (query["p"], query["block_size"], query["seed"], query["i"]) == ("0.3", "15", "3", "4")
    assert not any(key.startswith(("a.", "b.")) for key in query), query
    expect(page.locator(".compare-grid")).to_have_count(0)
    expect(lab.slider("p")).to_have_value("0.3")


# ---------------------------------------------------------------- the embed of a comparison


def test_the_embed_of_a_comparison_plays(page: Page, board: Board) -> None:
    board.open("/embed?view=image&a.method=standard&b.method=cutout&play=1&speed=8")
    expect(page.locator(PANEL)).to_have_count(2)
    assert board.letters() == ["a", "b"]
    page.wait_for_function(
        "() => window.dropoutLab.lastFrames[0] && window.dropoutLab.lastFrames[1]"
    )
    start = board.frames()
    page.wait_for_function(
        """(start) => [0, 1].every((k) =>
            window.dropoutLab.lastFrames[k].iteration >= start + 4)""",
        arg=max(start["0"]["iteration"], start["1"]["iteration"]),
    )
    frames = board.frames()
    a, b = frames["0"]["iteration"], frames["1"]["iteration"]
    assert abs(a - b) <= 1, frames
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    for letter in ("a", "b"):
        canvas = board.panel(letter).locator("canvas").first
        assert canvas.evaluate("(c) => c.width > 0 && c.height > 0")
    assert page.evaluate("() => window.dropoutLab.errors") == []


# ---------------------------------------------------------------- wide screens


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280x800", "1920x1080"])
def test_three_panels_fit_sideways(
    page: Page, board: Board, tmp_path: Path, size: tuple[int, int]
) -> None:
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    board.open(THREE)
    board.wait_all_at(0, ["a", "b", "c"])
    page.wait_for_timeout(200)
    shot = tmp_path / f"compare-3-panels-{width}x{height}.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    extent = page.evaluate(
        "() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth })"
    )
    assert extent["scrollWidth"] <= extent["innerWidth"], extent
    # What reaches past its panel's sides, unless a box inside the panel clips it (an
    # ellipsised caption is as wide as its text, but shows only what fits).
    boxes = page.locator(PANEL).evaluate_all(
        """(panels) => panels.map((p) => {
            const r = p.getBoundingClientRect();
            const clipped = (e) => {
                for (let a = e.parentElement; a && a !== p; a = a.parentElement) {
                    const box = a.getBoundingClientRect();
                    const inside = box.left >= r.left - 1 && box.right <= r.right + 1;
                    if (inside && getComputedStyle(a).overflowX !== "visible") return true;
                }
                return false;
            };
            const wider = [...p.querySelectorAll("*")].filter((e) => {
                const b = e.getBoundingClientRect();
                const out = b.width > 0 && (b.right > r.right + 1 || b.left < r.left - 1);
                return out && !clipped(e);
            }).map((e) => e.tagName + "." + e.className);
            return { panel: p.dataset.panel, left: r.left, right: r.right, width: r.width, wider };
        })"""
    )
    for box in boxes:
        assert box["left"] >= 0 and box["right"] <= width, boxes
        assert box["width"] >= 200, boxes
        assert box["wider"] == [], box  # nothing inside a panel sticks out of it
