"""The lesson's path (``/learn``): its sections and steps, in the order the article follows
(why dropout, dense networks, CNNs, RNNs, other uses) and then the modern relatives it does not
cover. Content, not code: each section's steps are in a module of their own
(``app/lesson/steps_<section>.py``), in our words, each fact cited.

A step shows the real view through the embed page (``/embed?<its query>``: the lesson mode's
keys say which controls are shown and whether the view's panel is in front) and asks one
question before it shows the answer. The answer is never written here: :class:`Answer` says
where, in what the live view posts to the lesson page (its theory, its frame, its training
run), the answer for the settings on screen is read (static/js/learn.js).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Literal

from dropouts.lab.registry import Paper, get_method

# Where an answer is read: the view's theory for the settings on screen, the frame shown, or
# the training run the view's panel shows (its final figures).
Source = Literal["theory", "frame", "run"]
# How the value read becomes the answer: itself, or the key (or index) of its largest or
# smallest entry (which unit wins most often; which network ends lowest).
Pick = Literal["value", "highest", "lowest"]
# How a number is written: a share (31.3 %), a factor (×2.00) or a plain number.
Format = Literal["share", "factor", "number"]


@dataclass(frozen=True)
class Answer:
    """Where the answer is: ``source``, then the dotted ``path`` in it
    (``expected_dropped_fraction``, ``final``), then ``pick``."""

    source: Source
    path: str
    pick: Pick = "value"


@dataclass(frozen=True)
class Question:
    """One question, asked before the answer is shown.

    ``number``: the student sets a slider from ``low`` to ``high`` by ``step``; a guess within
    ``tolerance`` of the answer is right. ``choice``: the student picks one of ``choices``
    (value, label); the answer's value (a key or an index, as text) names the right one.
    ``why`` is shown with the answer; ``{answer}`` in it is the answer as written."""

    prompt: str
    answer: Answer
    why: str
    kind: Literal["number", "choice"] = "number"
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    tolerance: float = 0.03
    format: Format = "share"
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Step:
    """One screen of the path. ``embed``: the embed page's query (the state and the lesson
    mode's keys); ``paragraphs``: HTML (``<em>``, ``<code>``, ``<cite>``), our words;
    ``formula``: LaTeX, rendered as MathML on the server; ``cites``: the methods whose papers
    the step cites (the registry's references), ``papers``: any other paper it cites;
    ``height``: the view's height in CSS pixels."""

    id: str
    title: str
    embed: str
    paragraphs: tuple[str, ...]
    formula: str
    question: Question
    cites: tuple[str, ...]
    papers: tuple[Paper, ...] = ()
    height: int = 560

    def references(self) -> tuple[Paper, ...]:
        """The papers cited, each once: the methods' (the registry's), then the others."""
        found = [paper for method in self.cites for paper in get_method(method).papers]
        found += self.papers
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    steps: tuple[Step, ...] = field(default_factory=tuple)


# The sections' modules (app/lesson/steps_<id>.py), in the path's order.
SECTIONS = ("why", "dense", "cnn", "rnn", "other", "modern")


def path() -> tuple[Section, ...]:
    """Every section in order, each from its own module."""
    return tuple(import_module(f"app.lesson.steps_{name}").SECTION for name in SECTIONS)


def steps() -> tuple[Step, ...]:
    return tuple(step for section in path() for step in section.steps)
