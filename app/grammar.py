"""The URL's grammar, declared once: the lab's own keys of a link (beside the parameters of the
methods and the views, which are the registry's and reach the page through ``/api/methods``),
their defaults and their ranges.

The server reads a link with it (app/state.py, the API's defaults, the pages, the command line);
the page gets it inlined in its HTML (``<script id="grammar" type="application/json">``, no
request before the first frame) and static/js/state.js reads and writes links with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from dropouts.lab.registry import DEFAULT_VIEW, SEED

ITERATIONS = 100  # the player's loop: a link's iteration i is 0 to 99
SPEEDS = (1, 2, 4, 8, 15)  # the player's speeds, frames per second
PANELS = ("a", "b", "c", "d")  # a comparison's panels: ?a.method=…&b.method=…
MATCH = (0.01, 0.9)  # a comparison's "same dropped fraction" (?match=), its range
# The embed page's lesson mode (static/js/lesson.js): ?controls=p&hide=title,stats&large=1…
LESSON = ("controls", "hide", "caption", "theme", "large", "panel")


def _seed() -> int:
    assert isinstance(SEED.default, int)
    return SEED.default


@dataclass(frozen=True)
class Defaults:
    """What a link that does not name a key shows."""

    method: str = "standard"
    view: str = DEFAULT_VIEW  # the method's first view when it does not have this one
    image: str = "cat"
    seed: int = _seed()
    i: int = 0
    play: bool = True
    speed: int = 4


DEFAULTS = Defaults()
# The state's own keys: a parameter never takes one of these names.
KEYS = tuple(asdict(DEFAULTS))
GLOBAL = frozenset(KEYS)


def grammar() -> dict[str, Any]:
    """The table as the page reads it."""
    return {
        "keys": list(KEYS),
        "defaults": asdict(DEFAULTS),
        "iterations": ITERATIONS,
        "speeds": list(SPEEDS),
        "panels": list(PANELS),
        "match": {"min": MATCH[0], "max": MATCH[1]},
        "lesson": list(LESSON),
    }


def grammar_json() -> str:
    """:func:`grammar` for a ``<script type="application/json">`` of a page."""
    return json.dumps(grammar(), separators=(",", ":")).replace("</", "<\\/")
