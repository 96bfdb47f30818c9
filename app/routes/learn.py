"""The lesson (``/learn``): the path through the methods (app/lesson/), each step beside its
live view (the embed page), with a question asked before its answer. The page is rendered here
in full, text and questions, so that it reads and prints without script; static/js/learn.js
adds the answers, the progress and the present mode (``?present=1``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..grammar import LESSON, grammar_json
from ..lesson.path import Section, Step, path
from ..mathml import to_mathml
from .pages import templates_of

router = APIRouter(include_in_schema=False)

# What a step's view hides unless the step says otherwise: the step has its title, its formula
# and its own "Open in the lab"; with its panel in front, the hidden view's player and numbers.
HIDDEN = "title,formula,link"
HIDDEN_BEHIND_PANEL = "title,formula,link,player,stats"


@dataclass(frozen=True)
class ShownStep:
    """A step as the page shows it: the embed's address, the lab's, the formula as MathML."""

    step: Step
    number: int
    embed_src: str
    lab_href: str
    formula: str


def embed_query(step: Step) -> str:
    """The embed's query: the step's, with the lesson's default of what to hide."""
    pairs = parse_qsl(step.embed, keep_blank_values=True)
    if not any(key == "hide" for key, _ in pairs):
        panel = ("panel", "1") in pairs
        pairs.append(("hide", HIDDEN_BEHIND_PANEL if panel else HIDDEN))
    return urlencode(pairs)


def lab_query(step: Step) -> str:
    """The lab page's query for the step's state: its keys without the lesson mode's."""
    return urlencode([(k, v) for k, v in parse_qsl(step.embed) if k not in LESSON])


def shown(sections: tuple[Section, ...]) -> list[tuple[Section, list[ShownStep]]]:
    number = 0
    out: list[tuple[Section, list[ShownStep]]] = []
    for section in sections:
        steps = []
        for step in section.steps:
            number += 1
            steps.append(
                ShownStep(
                    step,
                    number,
                    f"/embed?{embed_query(step)}",
                    f"/?{lab_query(step)}",
                    to_mathml(step.formula),
                )
            )
        out.append((section, steps))
    return out


@router.get("/learn", response_class=HTMLResponse)
def learn(
    request: Request, templates: Annotated[Jinja2Templates, Depends(templates_of)]
) -> HTMLResponse:
    sections = shown(path())
    return templates.TemplateResponse(
        request,
        "learn.html",
        {
            "sections": sections,
            "count": sum(len(steps) for _, steps in sections),
            "grammar_json": grammar_json(),
            "title": "Dropout, step by step · Dropout Lab",
        },
    )
