"""The embed page in someone else's slides: a reveal.js-shaped deck on another origin (a second
real loopback server) showing one slide at a time; who may frame which page; the lesson mode
from the URL; the first frame of a cold load; oEmbed; and the lab page's embed dialog."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Frame, Page, Request, expect

from app.framing import content_security_policy

if TYPE_CHECKING:
    from conftest import ConsoleErrors, Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

FIRST_EMBED = "/embed?method=standard&play=1&speed=8"
SECOND_EMBED = "/embed?method=dropblock&view=feature_maps&play=1&speed=8"
LESSON = "/embed?method=standard&controls=p&large=1&hide=title,formula,stats,link&caption=Hello"
QUIET_S = 1.5  # at 8 iterations a second, a playing embed asks for a chunk every 2 s at most


# ---------------------------------------------------------------- another origin


@dataclass
class OtherOrigin:
    """A second web server on loopback: what it serves at each path, and its base URL."""

    url: str
    pages: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def other_origin() -> Iterator[OtherOrigin]:
    """``http://localhost:<port>``: a ``ThreadingHTTPServer`` bound to 127.0.0.1, addressed by
    another host name than the app's ``127.0.0.1``, so its pages are of another origin (and
    another site) than the lab's."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(urlsplit(self.path).path)
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield OtherOrigin(f"http://localhost:{server.server_address[1]}", pages)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def deck_html(app: str) -> str:
    """Three slides as reveal.js lays them out: the one shown is ``present``; the others are
    ``past``/``future``, ``hidden`` and ``display: none``. ``window.go(n)`` shows slide n."""
    first = html.escape(app + FIRST_EMBED)
    second = html.escape(app + SECOND_EMBED)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A deck</title>
<link rel="icon" href="data:,">
<style>
  html, body {{ margin: 0; height: 100%; background: #222; color: #eee; }}
  .reveal, .reveal .slides {{ width: 100%; height: 100%; }}
  .reveal .slides > section {{ box-sizing: border-box; height: 100%; padding: 20px; }}
  .reveal .slides > section[hidden] {{ display: none; }}
  iframe {{ width: 960px; height: 540px; border: 0; background: white; }}
</style></head>
<body>
<div class="reveal"><div class="slides">
  <section class="present"><h2>Pixels</h2>
    <iframe name="first" src="{first}" title="standard dropout" allow="fullscreen"></iframe>
  </section>
  <section class="future"><h2>Blocks</h2>
    <iframe name="second" src="{second}" title="DropBlock" allow="fullscreen"></iframe>
  </section>
  <section class="future"><h2>Questions?</h2></section>
</div></div>
<script>
  const slides = [...document.querySelectorAll(".reveal .slides > section")];
  window.go = (n) => {{
    slides.forEach((slide, k) => {{
      slide.className = k < n ? "past" : k === n ? "present" : "future";
      slide.hidden = k !== n;
      slide.style.display = k === n ? "block" : "none";
      slide.setAttribute("aria-hidden", String(k !== n));
    }});
    window.current = n;
  }};
  window.go(0);
</script>
</body></html>"""


# ---------------------------------------------------------------- embeds in frames


def frame_named(page: Page, name: str) -> Frame:
    frame = page.frame(name=name)
    assert frame is not None, [f.name for f in page.frames]
    return frame


def wait_in(frame: Frame, condition: str, arg: Any = None, timeout: float | None = None) -> None:
    """``frame.wait_for_function`` polling on a timer: a frame out of sight gets no animation
    frames, so the default polling (``requestAnimationFrame``) would never look."""
    frame.wait_for_function(condition, arg=arg, polling=100, timeout=timeout)


def frame_probe(frame: Frame) -> dict[str, Any]:
    probe: dict[str, Any] = frame.evaluate("() => structuredClone(window.dropoutLab)")
    return probe


def iteration_of(frame: Frame) -> int | None:
    """The painted iteration; None before the first frame (an embed out of sight from the
    start paints nothing at all)."""
    painted = frame.evaluate("() => window.dropoutLab.lastFrame?.iteration ?? null")
    return None if painted is None else int(painted)


def wait_advance(frame: Frame, by: int = 3, timeout: float = 10_000) -> int:
    """Wait until the frame's painted iteration moved ``by`` past where it is now (mod 100)."""
    wait_in(frame, "() => window.dropoutLab?.lastFrame != null", None, timeout)
    start = iteration_of(frame)
    wait_in(
        frame,
        """([start, by]) => {
            const frame = window.dropoutLab.lastFrame;
            return !!frame && (frame.iteration - start + 100) % 100 >= by;
        }""",
        [start, by],
        timeout,
    )
    moved = iteration_of(frame)
    assert moved is not None
    return moved


class FrameRequests:
    """The ``/api/frames`` requests of each named frame of the page, as they are made."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.by_frame: dict[str, list[str]] = {}
        page.on("request", self._on_request)

    def _on_request(self, request: Request) -> None:
        if urlsplit(request.url).path != "/api/frames":
            return
        try:
            name = request.frame.name
        except Exception:  # a worker's request has no frame
            return
        self.by_frame.setdefault(name, []).append(request.url)

    def count(self, name: str) -> int:
        return len(self.by_frame.get(name, []))

    def wait_more(self, name: str, than: int, timeout_s: float = 8) -> int:
        """Wait (letting the page's events in) until ``name`` made more than ``than``."""
        deadline = time.monotonic() + timeout_s
        while self.count(name) <= than:
            assert time.monotonic() < deadline, f"{name}: no new /api/frames in {timeout_s} s"
            self.page.wait_for_timeout(100)
        return self.count(name)


def assert_quiet(page: Page, requests: FrameRequests, frames: dict[str, Frame]) -> None:
    """Over ``QUIET_S`` seconds, none of ``frames`` asks for frames or moves, and each says it
    is out of sight."""
    before = {name: (requests.count(name), iteration_of(frame)) for name, frame in frames.items()}
    page.wait_for_timeout(QUIET_S * 1000)
    after = {name: (requests.count(name), iteration_of(frame)) for name, frame in frames.items()}
    probes = {name: frame_probe(frame) for name, frame in frames.items()}
    seen = {name: (probe["visible"], probe["errors"]) for name, probe in probes.items()}
    assert (after, seen) == (before, {name: (False, []) for name in frames}), (
        f"over {QUIET_S} s out of sight, (/api/frames requests, iteration) went from {before} "
        f"to {after}; (dropoutLab.visible, errors): {seen}"
    )


def test_embeds_in_a_reveal_deck_play_only_on_their_slide(
    page: Page, live_server: str, other_origin: OtherOrigin
) -> None:
    other_origin.pages["/deck.html"] = deck_html(live_server)
    requests = FrameRequests(page)
    page.goto(f"{other_origin.url}/deck.html")
    assert urlsplit(page.url).hostname == "localhost"
    first, second = frame_named(page, "first"), frame_named(page, "second")
    assert first.url == live_server + FIRST_EMBED
    assert second.url == live_server + SECOND_EMBED

    # Slide 1: the first embed renders and plays.
    wait_in(first, "() => window.dropoutLab?.ready === true && window.dropoutLab.painted > 0")
    wait_advance(first)
    assert requests.count("first") > 0
    probe = frame_probe(first)
    assert probe["visible"] is True and probe["errors"] == [], probe
    assert probe["lastFrame"]["key"].startswith("standard|cat|0|"), probe
    expect(first.locator("#play")).to_have_attribute("aria-pressed", "true")

    # Slide 2: the second renders and plays; the first stops asking for frames.
    page.evaluate("() => window.go(1)")
    wait_in(second, "() => window.dropoutLab.visible === true")
    wait_in(second, "() => window.dropoutLab.painted > 0")
    wait_advance(second)
    probe = frame_probe(second)
    assert probe["lastFrame"]["view"] == "feature_maps", probe
    assert probe["lastFrame"]["key"].startswith("dropblock|cat|0|"), probe
    assert requests.count("second") > 0
    wait_in(first, "() => window.dropoutLab.visible === false")
    assert_quiet(page, requests, {"first": first})
    second_requests = requests.wait_more("second", requests.count("second"))  # still playing

    # Slide 3: neither.
    page.evaluate("() => window.go(2)")
    wait_in(second, "() => window.dropoutLab.visible === false")
    assert_quiet(page, requests, {"first": first, "second": second})
    assert requests.count("second") >= second_requests

    # Back to slide 1: the first goes on where it stopped, and asks for frames again.
    page.evaluate("() => window.go(0)")
    wait_in(first, "() => window.dropoutLab.visible === true")
    stopped = requests.count("first")
    wait_advance(first)
    requests.wait_more("first", stopped)
    expect(first.locator("#play")).to_have_attribute("aria-pressed", "true")
    assert frame_probe(first)["errors"] == []
    assert frame_probe(second)["visible"] is False


def test_an_embed_on_a_slide_not_yet_shown_stays_still(
    page: Page, live_server: str, other_origin: OtherOrigin
) -> None:
    """reveal.js loads every slide's iframe with the deck, the later slides hidden: an embed
    there is out of sight from the start, so it neither plays nor asks for frames until its
    slide is shown."""
    other_origin.pages["/deck.html"] = deck_html(live_server)
    requests = FrameRequests(page)
    page.goto(f"{other_origin.url}/deck.html")
    first, second = frame_named(page, "first"), frame_named(page, "second")
    wait_in(first, "() => window.dropoutLab?.ready === true && window.dropoutLab.painted > 0")
    wait_in(second, "() => window.dropoutLab?.ready === true")
    wait_advance(first)  # the deck has been up for a while: the second has had time to learn
    assert_quiet(page, requests, {"second": second})
    expect(second.locator("#play")).to_have_attribute("aria-pressed", "false")
    # Shown, it plays as its URL asks.
    page.evaluate("() => window.go(1)")
    wait_in(second, "() => window.dropoutLab.visible === true && window.dropoutLab.painted > 0")
    wait_advance(second)
    expect(second.locator("#play")).to_have_attribute("aria-pressed", "true")


# ---------------------------------------------------------------- who may frame what


def framing_html(app: str) -> str:
    embed = html.escape(f"{app}/embed?method=standard&play=0")
    lab_page = html.escape(f"{app}/?method=standard")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Framing</title>
<link rel="icon" href="data:,"></head>
<body>
  <iframe name="embed" src="{embed}" width="640" height="360" title="the embed"></iframe>
  <iframe name="lab" src="{lab_page}" width="640" height="360" title="the lab page"></iframe>
</body></html>"""


def test_headers_say_who_may_frame_each_page(live_server: str) -> None:
    embed = httpx.get(f"{live_server}/embed?method=standard", timeout=10)
    assert embed.status_code == 200
    assert embed.headers["content-security-policy"] == content_security_policy(embeddable=True)
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    comparison = "/?view=image&a.method=standard&b.method=cutout"
    for path in ("/", "/?method=standard", comparison, "/docs"):
        lab_page = httpx.get(f"{live_server}{path}", timeout=10)
        assert lab_page.status_code == 200
        assert lab_page.headers["content-type"].startswith("text/html")
        policy = lab_page.headers["content-security-policy"]
        assert policy == content_security_policy(embeddable=False), path
        assert "frame-ancestors 'self'" in policy and "script-src 'self';" in policy, path
        assert lab_page.headers["x-frame-options"] == "SAMEORIGIN", path
    for path in ("/", "/embed?method=standard", "/api/methods", "/static/js/main.js", "/healthz"):
        answer = httpx.get(f"{live_server}{path}", timeout=10)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin", path


def test_only_the_embed_page_is_framed_by_another_origin(
    page: Page, live_server: str, other_origin: OtherOrigin, console_errors: ConsoleErrors
) -> None:
    # Chromium says why it refused the lab page, as a console error of the host page.
    console_errors.allow(
        rf"Framing '{re.escape(live_server)}/' violates .*\"frame-ancestors 'self'\""
    )
    other_origin.pages["/framing.html"] = framing_html(live_server)
    page.goto(f"{other_origin.url}/framing.html")
    embed = frame_named(page, "embed")
    wait_in(embed, "() => window.dropoutLab?.ready === true && window.dropoutLab.painted > 0")
    assert embed.url == f"{live_server}/embed?method=standard&play=0"
    assert frame_probe(embed)["errors"] == []
    # The keys reach the framed embed once it has the focus.
    embed.locator("#lab").focus()
    page.keyboard.press("ArrowRight")
    wait_in(embed, "() => window.dropoutLab.lastFrame.iteration === 1")

    # The lab page is refused: its frame never gets the lab's document.
    lab_frame = frame_named(page, "lab")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert lab_frame.evaluate("() => typeof window.dropoutLab") == "undefined"
        assert not lab_frame.url.startswith(live_server), lab_frame.url
        page.wait_for_timeout(250)
    assert lab_frame.url.startswith(("chrome-error:", "about:blank")), lab_frame.url
    assert lab_frame.locator("#lab").count() == 0
    refusals = [m for m in console_errors.messages if "frame-ancestors" in m]
    print(f"lab page in a frame of another origin: {lab_frame.url}; {refusals}")


# ---------------------------------------------------------------- lesson mode


def embed_ready(page: Page, path: str) -> dict[str, Any]:
    page.goto(path)
    page.wait_for_function(
        "() => window.dropoutLab?.ready === true && window.dropoutLab.painted > 0"
    )
    probe: dict[str, Any] = page.evaluate("() => structuredClone(window.dropoutLab)")
    assert probe["errors"] == [], probe
    return probe


def shown_params(page: Page) -> list[str]:
    names: list[str] = page.locator("#params [data-param]").evaluate_all(
        "(nodes) => nodes.map((node) => node.dataset.param)"
    )
    return names


def root_font_px(page: Page) -> float:
    return float(
        page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    )


def test_lesson_mode_shows_only_what_the_url_asks(page: Page) -> None:
    # Without a lesson: the method's parameters, its title, formula, numbers and the link.
    embed_ready(page, "/embed?method=standard&play=0")
    assert shown_params(page) == ["p", "scaling"]
    for part in ("#method-name", "#method-formula", "#numbers", "#open-lab", "#play"):
        expect(page.locator(part)).to_be_visible()
    expect(page.locator("#embed-caption")).to_be_hidden()
    expect(page.locator("#numbers dt").first).to_be_visible()
    plain_font = root_font_px(page)
    assert page.evaluate("() => document.documentElement.dataset.theme") == ""

    probe = embed_ready(page, LESSON + "&play=0")
    assert shown_params(page) == ["p"]
    expect(page.locator("#params .control")).to_have_count(1)
    expect(page.locator('#params [data-param="p"]')).to_be_visible()
    expect(page.locator("#embed-caption")).to_be_visible()
    expect(page.locator("#embed-caption")).to_have_text("Hello")
    for part in ("#method-name", "#method-formula", "#numbers", "#open-lab"):
        expect(page.locator(part)).to_be_hidden()
    expect(page.locator("#play")).to_be_visible()  # the player was not hidden
    assert root_font_px(page) > plain_font, (root_font_px(page), plain_font)
    # The one slider works, and the lesson stays in the address.
    assert probe["lastFrame"]["key"].startswith("standard|cat|0|p=0.5&"), probe
    page.locator('#params [data-param="p"]').fill("0.3")
    page.wait_for_function(
        "() => window.dropoutLab.lastFrame.key.startsWith('standard|cat|0|p=0.3&')"
    )
    query = {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert query["p"] == "0.3"
    assert (query["controls"], query["large"], query["caption"]) == ("p", "1", "Hello")
    assert set(query["hide"].split(",")) == {"title", "formula", "stats", "link"}


def test_projector_theme(page: Page) -> None:
    embed_ready(page, "/embed?method=standard&play=0&theme=contrast")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "contrast"
    expect(page.locator("html")).to_have_attribute("data-theme", "contrast")


def test_keyboard_plays_pauses_and_steps(page: Page) -> None:
    embed_ready(page, "/embed?method=standard&play=0&speed=8")
    play = page.locator("#play")
    expect(play).to_have_attribute("aria-pressed", "false")
    page.locator("#lab").focus()
    page.keyboard.press(" ")
    expect(play).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("() => window.dropoutLab.lastFrame.iteration >= 3")
    page.keyboard.press(" ")
    expect(play).to_have_attribute("aria-pressed", "false")
    page.wait_for_timeout(400)  # a frame asked for just before the pause may still land
    stopped = page.evaluate("() => window.dropoutLab.lastFrame.iteration")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.dropoutLab.lastFrame.iteration") == stopped
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(i) => window.dropoutLab.lastFrame.iteration === i", arg=stopped + 1)
    expect(page.locator("#iteration-value")).to_have_text(str(stopped + 1))
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("(i) => window.dropoutLab.lastFrame.iteration === i", arg=stopped)


FIT_QUERIES = {
    "plain": "/embed?method=standard&play=0",
    "lesson": LESSON + "&play=0",
    "feature-maps": "/embed?method=dropblock&view=feature_maps&play=0",
}


@pytest.mark.parametrize("size", [(480, 270), (1280, 720)], ids=["480x270", "1280x720"])
@pytest.mark.parametrize("query", list(FIT_QUERIES), ids=list(FIT_QUERIES))
def test_the_embed_fits_its_frame(page: Page, size: tuple[int, int], query: str) -> None:
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    embed_ready(page, FIT_QUERIES[query])
    page.wait_for_timeout(200)  # the layout settles once the chrome is measured
    extent = page.evaluate(
        """() => ({ scrollWidth: document.documentElement.scrollWidth,
                    scrollHeight: document.documentElement.scrollHeight,
                    innerWidth, innerHeight })"""
    )
    assert extent["scrollHeight"] <= extent["innerHeight"], extent
    assert extent["scrollWidth"] <= extent["innerWidth"], extent
    canvases: list[dict[str, Any]] = page.evaluate(
        """() => [...document.querySelectorAll("#views canvas:not(.kernel)")]
            .filter((c) => c.getClientRects().length > 0)
            .map((c) => { const r = c.getBoundingClientRect();
                          const atCentre = document.elementFromPoint(
                              (r.left + r.right) / 2, (r.top + r.bottom) / 2);
                          return { left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                                   width: r.width, height: r.height,
                                   className: c.className, onTop: atCentre === c }; })"""
    )
    assert len(canvases) >= 2, canvases
    for box in canvases:
        assert box["width"] >= 24 and box["height"] >= 24, (f"a canvas {box}", canvases)
        assert box["left"] >= -0.5 and box["top"] >= -0.5, box
        assert box["right"] <= width + 0.5 and box["bottom"] <= height + 0.5, box
        assert box["onTop"], (f"a canvas covered or clipped at its centre {box}", canvases)
    play = page.locator("#play").bounding_box()
    assert play is not None and play["y"] + play["height"] <= height + 0.5, play


# ---------------------------------------------------------------- first frame


@pytest.mark.parametrize(
    "query",
    [
        "/embed?method=standard",
        "/embed?method=dropblock&view=feature_maps",
        "/embed?method=maxpool&view=pooling",
    ],
)
def test_first_frame_of_a_cold_embed(
    live_server: str,
    new_context: Callable[..., BrowserContext],
    console_errors: ConsoleErrors,
    query: str,
) -> None:
    """A new context each: nothing cached. Prints the time; timings are not tests."""
    cold = console_errors.watch(new_context().new_page())
    cold.goto(f"{live_server}{query}")
    cold.wait_for_function("() => window.dropoutLab?.firstFrameMs > 0")
    probe = cold.evaluate("() => structuredClone(window.dropoutLab)")
    print(f"first frame of a cold {query}: {probe['firstFrameMs']:.0f} ms after navigation")
    assert 0 < probe["firstFrameMs"] < 5000, probe
    assert probe["painted"] > 0 and probe["errors"] == [], probe


# ---------------------------------------------------------------- oEmbed


def iframe_src(snippet: str) -> str:
    found = re.search(r'<iframe src="([^"]*)"', snippet)
    assert found is not None, snippet
    return html.unescape(found.group(1))


def test_oembed_of_the_lab_page(page: Page, lab: Lab, live_server: str) -> None:
    query = "?method=dropblock&p=0.3&block_size=15&seed=7&play=0"
    lab.open(query)
    link = page.locator('head link[rel="alternate"][type="application/json+oembed"]')
    expect(link).to_have_count(1)
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/oembed?url=")
    assert parse_qs(urlsplit(href).query)["url"] == [f"{live_server}/{query}"]

    answer = httpx.get(f"{live_server}{href}", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert (body["version"], body["type"], body["provider_name"]) == ("1.0", "rich", "Dropout Lab")
    assert body["title"] == "DropBlock · Dropout Lab", body
    src = iframe_src(body["html"])
    assert src.startswith(f"{live_server}/embed?"), src
    assert parse_qs(urlsplit(src).query) == parse_qs(query[1:]), src
    assert (
        f'width="{body["width"]}"' in body["html"] and f'height="{body["height"]}"' in body["html"]
    )

    # maxwidth / maxheight pick the largest size offered that fits (16:9); none: the largest.
    for limits, size in [
        ({}, (1280, 720)),
        ({"maxwidth": 700}, (640, 360)),
        ({"maxwidth": 1000, "maxheight": 600}, (960, 540)),
        ({"maxwidth": 5000}, (1280, 720)),
        ({"maxwidth": 1280, "maxheight": 400}, (640, 360)),
    ]:
        extra = "".join(f"&{name}={value}" for name, value in limits.items())
        sized = httpx.get(f"{live_server}{href}{extra}", timeout=10).json()
        assert (sized["width"], sized["height"]) == size, (limits, sized)
        if limits:
            assert sized["width"] <= limits.get("maxwidth", 10**6)
            assert sized["height"] <= limits.get("maxheight", 10**6)

    # The iframe it gives is the embed of that very state.
    page.goto(src)
    page.wait_for_function(
        "() => window.dropoutLab?.ready === true && window.dropoutLab.painted > 0"
    )
    frame = page.evaluate("() => window.dropoutLab.lastFrame")
    assert frame["key"] == "dropblock|cat|7|p=0.3&block_size=15|image", frame

    # Another host's page is not ours.
    for url in ("http://example.org/?method=standard", "https://127.0.0.1:1/?method=standard"):
        refused = httpx.get(f"{live_server}/oembed", params={"url": url}, timeout=10)
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"]["field"] == "url", refused.text


def test_oembed_never_exceeds_the_consumers_maximum(page: Page, live_server: str) -> None:
    """oEmbed: maxwidth and maxheight "must be respected by providers". Below the smallest
    size offered, the frame must still fit (scaled down), not come back larger."""
    page_url = quote(f"{live_server}/?method=standard", safe="")
    for limits in ({"maxwidth": 320}, {"maxwidth": 400, "maxheight": 200}, {"maxheight": 180}):
        extra = "".join(f"&{name}={value}" for name, value in limits.items())
        body = httpx.get(f"{live_server}/oembed?url={page_url}{extra}", timeout=10).json()
        assert body["width"] <= limits.get("maxwidth", 10**6), (limits, body)
        assert body["height"] <= limits.get("maxheight", 10**6), (limits, body)
        assert f'width="{body["width"]}"' in body["html"], body


# ---------------------------------------------------------------- the embed dialog


def test_embed_dialog_only_p_large_no_chrome(page: Page, lab: Lab, live_server: str) -> None:
    lab.open("?method=dropblock&play=0")
    page.locator("#open-embed").click()
    dialog = page.locator("dialog#embed-dialog")
    expect(dialog).to_be_visible()
    label = page.evaluate(
        """() => JSON.parse(document.getElementById("boot").textContent)
            .catalog.methods.find((m) => m.id === "dropblock").params[0].label"""
    )
    preset = dialog.get_by_role("button", name=f"Only {label}, large, no chrome")
    expect(preset).to_be_visible()
    preset.click()

    url_field = dialog.locator("input.embed-url")
    expect(url_field).to_have_value(re.compile(r"[?&]controls=p(&|$)"))
    url = url_field.input_value()
    assert url.startswith(f"{live_server}/embed?"), url
    query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    assert (query["method"], query["controls"], query["large"]) == ("dropblock", "p", "1"), query
    assert set(query["hide"].split(",")) == {"title", "formula", "stats", "link"}, query
    assert "caption" not in query and "theme" not in query, query

    # The snippet: the same address, its ampersands escaped for HTML.
    snippet = dialog.locator("textarea.embed-snippet").input_value()
    assert snippet.startswith('<iframe src="'), snippet
    assert url.replace("&", "&amp;") in snippet, snippet
    assert iframe_src(snippet) == url

    # The live preview loads that address and paints.
    preview = dialog.locator("iframe.embed-preview")
    expect(preview).to_have_attribute("src", url)
    handle = preview.element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    deadline = time.monotonic() + 10
    while frame.url != url:
        assert time.monotonic() < deadline, frame.url
        page.wait_for_timeout(100)
    wait_in(frame, "() => window.dropoutLab?.ready === true && window.dropoutLab.painted > 0")
    probe = frame_probe(frame)
    assert probe["errors"] == [] and probe["lastFrame"]["key"].startswith("dropblock|cat|0|"), probe
    classes = set(frame.evaluate("() => [...document.documentElement.classList]"))
    assert classes == {"large", "hide-title", "hide-formula", "hide-stats", "hide-link"}, classes

    # "Export" opens the same dialog, at its export part.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.locator("#open-export").click()
    expect(dialog).to_be_visible()
    expect(dialog.locator("#export-title")).to_be_in_viewport()
