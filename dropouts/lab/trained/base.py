"""Training as a capability of a view: what a trained view declares on its class
(:attr:`dropouts.lab.views.base.View.training`).

A :class:`Training` turns validated parameters and a seed into a :class:`Stream`: its setup
(checked against the training budget first: a :class:`~dropouts.lab.registry.ParamError`
naming the field, before anything starts), the events to send at once (the setup and the
data), whether the run still needs a place to train, and the work that trains it (or follows
or replays it) and posts its events as it goes: the same events, in the same order, whoever
serves them. The memoisation, the single flight and the cancellation are
:mod:`dropouts.lab.flights`'s, the one torch thread :func:`dropouts.lab.flights.one_thread`.

An app serves every declared training by the view's id (or by the training's own
:attr:`Training.name` where it has one). Nothing here knows about HTTP.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from dropouts.lab.flights import Admit, Flights
from dropouts.lab.registry import ParamValue

Event = tuple[str, Mapping[str, Any]]  # (event name, its JSON data)
Post = Callable[[str, Mapping[str, Any]], None]  # post(event name, data), from the worker
Stopped = Callable[[], bool]  # whether the run must stop (its client went away)
# The training: posts its events, asks a place before it trains (admit), returns when done
# (:class:`~dropouts.lab.flights.TrainingCancelledError` or a return when stopped).
Work = Callable[[Post, Stopped, Admit], None]

DECIMALS = 4  # numbers in the events

K = TypeVar("K", bound=Hashable)
E = TypeVar("E")
R = TypeVar("R")


@dataclass(frozen=True)
class Stream:
    """One training run, ready to stream: ``first`` (sent at once, before any step),
    ``trains`` (False when the process remembers the run or trains it for another caller
    already: it needs no place), and ``work`` (run in a worker thread)."""

    first: Sequence[Event]
    work: Work
    trains: bool


class Training(ABC):
    """How a view trains. ``name``: what it trains, where that is not its view's id (the lstm
    view trains its memory task: ``"memory"``); ``takes_method``: whether
    the stream takes ``method`` (else only the view's parameters); ``default_method``: the
    method when the query has none (None: required)."""

    name: ClassVar[str | None] = None
    takes_method: ClassVar[bool] = True
    default_method: ClassVar[str | None] = None
    summary: ClassVar[str]  # one line: what it trains

    def check_method(self, method_id: str) -> None:
        """Refuse a method this training does not train (:class:`ParamError` naming
        ``method``), before the view's own check; by default every method of the view."""
        return None

    @abstractmethod
    def stream(self, method_id: str | None, params: Mapping[str, ParamValue], seed: int) -> Stream:
        """The run of ``params`` (the method's and the view's, validated) and ``seed``;
        :class:`ParamError` naming the field when the setting is over budget."""


def needs_training(flights: Flights[K, E, R], key: K) -> bool:
    """Whether the run of ``key`` needs a place to train: neither remembered nor under way."""
    return flights.ready(key) is None and flights.progress(key) is None


def follow(
    flights: Flights[K, E, R],
    key: K,
    post: Post,
    stopped: Stopped,
    admit: Admit,
    event: Callable[[E], Event],
) -> R:
    """The run of ``key`` (trained here, followed or replayed), each of its events posted as
    ``event(e)`` while the client listens."""

    def progress(published: E) -> None:
        if not stopped():
            post(*event(published))

    return flights.get(key, progress=progress, cancelled=stopped, admit=admit)
