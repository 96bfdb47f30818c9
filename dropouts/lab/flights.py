"""Trained results computed once: single-flight memoisation with cancellation.

A trained demo (the dense view's network, Monte Carlo dropout's model, the compression run) is
decided by its setup and takes seconds to train. :class:`Flights` keeps the last results by
setup and trains each setup at most once at a time: the first caller (the leader) trains it in
its own thread, publishing its progress as it goes; later callers of the same setup follow that
run (every event so far, then each new one) instead of training it again. A caller stops
waiting when its ``cancelled()`` says so; the run itself stops only when every caller waiting on
it has gone, and a stopped run is not remembered.

:meth:`Flights.ready` gives a remembered result and never trains. :meth:`Flights.obtain`, what
the views call, trains when it must, unless training is switched off for the calling context
(:func:`no_training`): a server answers frames, matches and exports there, and a setup not
trained yet is then :class:`NotTrainedError` instead of minutes of training inside a request.

Training is admitted by the caller (``admit``): a leader asks for a place before it trains and
frees it when its training has really ended, not when its client left, so that a bound on runs
bounds the CPU. Every run trains in one torch thread (:func:`one_thread`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import torch

K = TypeVar("K", bound=Hashable)
E = TypeVar("E")
R = TypeVar("R")

Publish = Callable[[E], None]
Cancelled = Callable[[], bool]

WAIT_S = 0.1  # a follower checks its own cancellation this often


class TrainingCancelledError(Exception):
    """The caller's ``cancelled()`` said stop (and, for the run itself, every follower's)."""


class TrainingBusyError(Exception):
    """No place to train a new run (``admit`` refused): try again in a moment."""


class NotTrainedError(Exception):
    """What a view needs is not trained yet, and training is off here (:func:`no_training`).
    ``name``: whose run (the view's id); ``progress``: events of the run under way, or None
    when none is."""

    def __init__(self, name: str, progress: int | None) -> None:
        under_way = "is training" if progress is not None else "is not trained yet"
        super().__init__(f"the {name} network of this setting {under_way}")
        self.name, self.progress = name, progress
        # (view, method, parameters, seed) of the request, set by whoever knows them.
        self.setting: tuple[str, str, dict[str, object], int] | None = None


@contextmanager
def one_thread(restore: int | None = None) -> Iterator[None]:
    """Torch ops of the calling thread in ONE thread, put back on exit (to ``restore`` when
    given, else to the count it had). OpenMP's count is per thread: other threads are not
    affected. The networks trained here are small: a second thread only adds synchronisation
    (and on a busy machine its spinning costs far more than it gains), and the same thread
    count gives the same sums in the same order, so the same setup gives the same numbers
    whoever trains it (a training stream's worker or a request's own thread)."""
    previous = torch.get_num_threads() if restore is None else restore
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


_TRAINING_ALLOWED: ContextVar[bool] = ContextVar("dropouts_training_allowed", default=True)


@contextmanager
def no_training() -> Iterator[None]:
    """Within: :meth:`Flights.obtain` never trains (it raises :class:`NotTrainedError`)."""
    token = _TRAINING_ALLOWED.set(False)
    try:
        yield
    finally:
        _TRAINING_ALLOWED.reset(token)


def training_allowed() -> bool:
    return _TRAINING_ALLOWED.get()


class Place(Protocol):
    """A place among the runs a process trains at once; freed once, when the run ends."""

    def release(self) -> None: ...


Admit = Callable[[], Place | None]


@dataclass
class _Flight(Generic[E, R]):
    """A run being trained: its events so far, then its end (the result or the error)."""

    events: list[E] = field(default_factory=list)
    followers: int = 0
    done: bool = False
    result: R | None = None
    error: BaseException | None = None
    condition: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, event: E) -> None:
        with self.condition:
            self.events.append(event)
            self.condition.notify_all()

    def finish(self, result: R | None, error: BaseException | None) -> None:
        with self.condition:
            self.result, self.error, self.done = result, error, True
            self.condition.notify_all()


class Flights(Generic[K, E, R]):
    """Results of ``train(key, publish, cancelled)`` by key, the last ``size`` remembered.

    ``train`` publishes events (snapshots, checkpoints) as it goes, asks ``cancelled()`` at
    least once a second, and raises :class:`TrainingCancelledError` when it says stop;
    ``history(result)`` is every event of a finished run, replayed to a caller that finds it
    remembered."""

    def __init__(
        self,
        name: str,
        train: Callable[[K, Publish[E], Cancelled], R],
        *,
        history: Callable[[R], Sequence[E]],
        size: int,
    ) -> None:
        self.name = name
        self._train = train
        self._history = history
        self._size = size
        self._results: OrderedDict[K, R] = OrderedDict()
        self._flights: dict[K, _Flight[E, R]] = {}
        self._lock = threading.Lock()
        self.started = 0  # runs this process began training (finished or not)

    # ---------------------------------------------------------------- reading

    def ready(self, key: K) -> R | None:
        """The remembered result of ``key``, or None; never trains."""
        with self._lock:
            result = self._results.get(key)
            if result is not None:
                self._results.move_to_end(key)
            return result

    def progress(self, key: K) -> int | None:
        """How many events the run of ``key`` under way has published; None if none is."""
        with self._lock:
            flight = self._flights.get(key)
        if flight is None:
            return None
        with flight.condition:
            return len(flight.events)

    def training(self) -> int:
        """Runs under way now."""
        with self._lock:
            return len(self._flights)

    def forget(self) -> None:
        """Drop every remembered result (tests)."""
        with self._lock:
            self._results.clear()

    # ---------------------------------------------------------------- getting

    def obtain(self, key: K) -> R:
        """The result of ``key``, trained if needed and allowed here (:func:`no_training`):
        :class:`NotTrainedError` otherwise."""
        if training_allowed():
            return self.get(key)
        result = self.ready(key)
        if result is None:
            raise NotTrainedError(self.name, self.progress(key))
        return result

    def get(
        self,
        key: K,
        *,
        progress: Publish[E] | None = None,
        cancelled: Cancelled | None = None,
        admit: Admit | None = None,
    ) -> R:
        """The result of ``key``: remembered, followed, or trained here. ``progress`` gets
        every event once, in order. ``cancelled``: stop waiting (and stop the run if no one
        else waits on it): :class:`TrainingCancelledError`. ``admit``: asked for a place when
        this call must train; None refuses (:class:`TrainingBusyError`)."""

        def stop() -> bool:
            return cancelled is not None and cancelled()

        delivered = 0
        place: Place | None = None

        def deliver(events: Sequence[E]) -> None:
            nonlocal delivered
            for event in events[delivered:]:
                delivered += 1
                if progress is not None:
                    progress(event)

        while True:
            remembered = self.ready(key)
            if remembered is not None:
                deliver(self._history(remembered))
                return remembered
            with self._lock:
                flight = self._flights.get(key)
                leading = flight is None
                if flight is None:
                    place = admit() if admit is not None else None
                    if admit is not None and place is None:
                        raise TrainingBusyError
                    flight = self._flights[key] = _Flight()
                    self.started += 1
                else:
                    with flight.condition:
                        flight.followers += 1
            if leading:
                return self._lead(key, flight, place, deliver, stop)
            try:
                return self._follow(flight, deliver, stop)
            except TrainingCancelledError:
                if stop():
                    raise
                continue  # its leader's run stopped (no one else waited): train it ourselves
            finally:
                with flight.condition:
                    flight.followers -= 1

    def _lead(
        self,
        key: K,
        flight: _Flight[E, R],
        place: Place | None,
        deliver: Callable[[Sequence[E]], None],
        stop: Cancelled,
    ) -> R:
        published: list[E] = []

        def publish(event: E) -> None:
            flight.publish(event)
            published.append(event)
            deliver(published)

        def cancelled() -> bool:
            with flight.condition:
                alone = flight.followers == 0
            return alone and stop()

        try:
            result = self._train(key, publish, cancelled)
        except BaseException as error:
            with self._lock:
                self._flights.pop(key, None)
            flight.finish(None, error)
            raise
        finally:
            if place is not None:
                place.release()  # the training has really ended
        with self._lock:
            self._results[key] = result
            self._results.move_to_end(key)
            while len(self._results) > self._size:
                self._results.popitem(last=False)
            self._flights.pop(key, None)
        flight.finish(result, None)
        deliver(self._history(result))
        return result

    def _follow(
        self, flight: _Flight[E, R], deliver: Callable[[Sequence[E]], None], stop: Cancelled
    ) -> R:
        seen: list[E] = []
        while True:
            with flight.condition:
                while len(flight.events) <= len(seen) and not flight.done:
                    if stop():
                        raise TrainingCancelledError
                    flight.condition.wait(WAIT_S)
                seen = list(flight.events)
                done, result, error = flight.done, flight.result, flight.error
            deliver(seen)
            if done:
                if result is not None:
                    deliver(self._history(result))
                    return result
                if isinstance(error, TrainingCancelledError):
                    raise TrainingCancelledError
                raise RuntimeError("the run this call waited for failed") from error
