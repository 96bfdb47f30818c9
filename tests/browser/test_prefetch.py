"""The slider prefetch (static/js/prefetch.js): while a slider is held, the frames of its
neighbouring values are fetched ahead, so that a drag paints from the cache.

Every frame request the page makes is logged in the page (``fetch`` wrapped before the app
loads) with its time, and every input of the slider with its time and value, on the same clock;
the same wrapper counts the frame requests on their way (an aborted one ends when the page
aborts it; the network's own report of it can come much later on a busy machine), and the
network (Playwright's request events) that nothing is left on it after the release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

if TYPE_CHECKING:
    from conftest import Lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

MAX_IN_FLIGHT = 4  # static/js/prefetch.js

# Runs before the app: logs each call of fetch for one frame (count=1) and each input of a
# slider of the parameter form, with performance.now().
WATCH = """
window.__frames = [];
window.__inputs = [];
const realFetch = window.fetch;
window.fetch = function (input, init) {
  const url = String(input instanceof Request ? input.url : input);
  const one = /[?&]count=1(&|$)/.test(url) && !url.includes("masks=false");
  if (!(url.includes("/api/frames?") && one)) return realFetch.call(this, input, init);
  window.__frames.push({ url, t: performance.now() });
  window.__inFlight = (window.__inFlight || 0) + 1;
  window.__mostInFlight = Math.max(window.__mostInFlight || 0, window.__inFlight);
  // Ended when answered, or at once when aborted (its abort event fires inside abort(); the
  // promise's rejection would be seen only after the task that aborts it starts others).
  let ended = false;
  const settled = () => {
    if (!ended) window.__inFlight -= 1;
    ended = true;
  };
  init?.signal?.addEventListener("abort", settled);
  const answer = realFetch.call(this, input, init);
  answer.then(settled, settled);
  return answer;
};
document.addEventListener("input", (event) => {
  const slider = event.target;
  if (slider.matches?.('#params input[type="range"]')) {
    window.__inputs.push({ value: slider.value, t: performance.now() });
  }
}, true);
"""

OPEN = "?method=standard&view=image&play=0&i=4&p=0.2"


class FrameRequests:
    """The frame requests (count=1) on the network: how many are on it."""

    def __init__(self, page: Page) -> None:
        self.in_flight = 0
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    @staticmethod
    def _frame(request: Any) -> bool:
        url = request.url
        query = parse_qs(urlsplit(url).query)
        return "/api/frames" in url and query.get("count") == ["1"] and "masks" not in query

    def _started(self, request: Any) -> None:
        if self._frame(request):
            self.in_flight += 1

    def _ended(self, request: Any) -> None:
        if self._frame(request):
            self.in_flight -= 1


def p_of(url: str) -> float:
    return float(parse_qs(urlsplit(url).query)["p"][0])


def open_quiet(page: Page, lab: Lab, query: str) -> None:
    page.add_init_script(WATCH)
    lab.open(query)
    # The opening requests (the next iterations' chunk, the statistics) are answered.
    page.wait_for_timeout(800)


def drag(page: Page, moves: int, gap_ms: int, px: float, at: float = 0.2) -> None:
    """Pointer down on the p slider at ``at`` of its track, then ``moves`` moves of ``px``
    pixels to the right, ``gap_ms`` apart, as a hand does; the pointer stays down."""
    box = page.locator('#params [data-param="p"]').bounding_box()
    assert box is not None
    x = box["x"] + box["width"] * at
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.wait_for_timeout(gap_ms)
    for _ in range(moves):
        x += px
        page.mouse.move(x, y)
        page.wait_for_timeout(gap_ms)


def logs(page: Page) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    frames, inputs = page.evaluate("() => [window.__frames, window.__inputs]")
    return list(frames), list(inputs)


# The press lands on the value on screen (p = 0.2 at a fifth of the track), or away from it: a
# press on the track jumps there, which is where the drag starts, not a stride of the hand.
@pytest.mark.parametrize("at", [0.2, 0.5], ids=["on-the-value", "jump-then-drag"])
def test_a_held_drag_paints_from_frames_asked_before_the_slider_got_there(
    page: Page, lab: Lab, at: float
) -> None:
    open_quiet(page, lab, OPEN)
    network = FrameRequests(page)
    painted = lab.probe["painted"]
    drag(page, moves=14, gap_ms=120, px=4, at=at)
    frames, inputs = logs(page)
    values = [float(entry["value"]) for entry in inputs]
    assert len(set(values)) >= 8, values  # the drag went through many values
    assert values == sorted(values)  # to the right
    # Each value reached after the first move: its frame was asked for, never again once the
    # slider got there (it was painted from the cache, or from that request), and nearly always
    # before. Not always: the places are four, an answer the panel waits for keeps its place
    # until it comes, and on a machine busy with other work (three test workers on two cores)
    # the answers can come slower than a hand moves; then a value may be asked only when
    # reached. On a quiet machine every value is asked ahead.
    checked = ahead = 0
    first_of: dict[float, float] = {}
    for entry in inputs:
        first_of.setdefault(float(entry["value"]), entry["t"])
    for value, reached in list(first_of.items())[1:]:
        asked = [f["t"] for f in frames if abs(p_of(f["url"]) - value) < 1e-9]
        assert asked, (value, frames)
        early = min(asked) < reached
        late = sum(t >= reached for t in asked)
        assert late <= (0 if early else 1), f"p={value} was asked for again when painted"
        ahead += early
        checked += 1
    assert checked >= 7
    assert ahead >= 0.75 * checked, f"{ahead} of {checked} values asked before they were reached"
    lab.wait_frame("(f, p) => f.key.includes(`p=${p}&`)", values[-1])
    assert lab.probe["painted"] > painted
    # Bounded: at most MAX_IN_FLIGHT prefetches at once, and the panel's own request.
    stats = lab.probe["prefetch"]
    assert stats["held"] is True
    assert 0 < stats["maxInFlight"] <= MAX_IN_FLIGHT, stats
    most = page.evaluate("() => window.__mostInFlight")
    assert most <= MAX_IN_FLIGHT + 1, most
    # Every iteration asked for is the one on screen (4), one frame each.
    assert all("start=4&" in f["url"] for f in frames), frames

    # Released: what was on its way is aborted or answered, and nothing more is asked for.
    page.mouse.up()
    page.wait_for_timeout(300)
    asked_at_release = len(logs(page)[0])
    page.wait_for_timeout(700)
    assert len(logs(page)[0]) == asked_at_release
    stats = lab.probe["prefetch"]
    assert stats["held"] is False and stats["inFlight"] == 0, stats
    assert network.in_flight == 0


def test_keys_on_a_focused_slider_fetch_the_next_value_ahead(page: Page, lab: Lab) -> None:
    open_quiet(page, lab, OPEN)
    slider = page.locator('#params [data-param="p"]')
    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
    frames, inputs = logs(page)
    assert [entry["value"] for entry in inputs] == ["0.21", "0.22", "0.23", "0.24"]
    for entry in inputs[1:]:
        asked = [f["t"] for f in frames if abs(p_of(f["url"]) - float(entry["value"])) < 1e-9]
        assert asked and max(asked) < entry["t"], (entry, frames)
    lab.wait_frame("(f) => f.key.includes('p=0.24&')")


def test_no_prefetch_when_switched_off_in_the_link(page: Page, lab: Lab) -> None:
    open_quiet(page, lab, OPEN + "&prefetch=0")
    before = len(logs(page)[0])
    drag(page, moves=10, gap_ms=120, px=4)
    frames, inputs = logs(page)
    frames = frames[before:]
    assert frames
    assert len({entry["value"] for entry in inputs}) >= 6
    # Each frame is asked for only once the slider is on its value.
    for frame in frames:
        reached = [e["t"] for e in inputs if abs(float(e["value"]) - p_of(frame["url"])) < 1e-9]
        assert reached and min(reached) <= frame["t"], (frame, inputs)
    page.mouse.up()
    last = float(inputs[-1]["value"])
    lab.wait_frame("(f, p) => f.key.includes(`p=${p}&`)", last)
    assert lab.probe["prefetch"]["started"] == 0


def test_no_prefetch_for_a_slider_that_is_only_set(page: Page, lab: Lab) -> None:
    """A value set without holding the slider (a test's fill, a link) asks for its own frame
    only."""
    open_quiet(page, lab, OPEN)
    before = len(logs(page)[0])
    lab.set_slider("p", 0.5)
    lab.wait_frame("(f) => f.key.includes('p=0.5&')")
    page.wait_for_timeout(400)
    frames = logs(page)[0][before:]
    assert [p_of(f["url"]) for f in frames] == [0.5]
    assert lab.probe["prefetch"]["started"] == 0
