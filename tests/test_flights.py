"""Single-flight memoisation with cancellation (dropouts/lab/flights.py), on a toy training: one run
per key however many ask, every event to every caller, a run that stops only when no one waits,
training switched off where a request must not train, and a place held until the run ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from dropouts.lab.flights import (
    Flights,
    NotTrainedError,
    TrainingBusyError,
    TrainingCancelledError,
    no_training,
)

STEPS = 20


class Toy:
    """A training of STEPS steps of ``pause`` seconds each, publishing each step."""

    def __init__(self, pause: float = 0.01) -> None:
        self.pause = pause
        self.runs: list[str] = []
        self.stopped_at: list[int] = []

    def __call__(
        self, key: str, publish: Callable[[int], None], cancelled: Callable[[], bool]
    ) -> str:
        self.runs.append(key)
        for step in range(STEPS):
            if cancelled():
                self.stopped_at.append(step)
                raise TrainingCancelledError
            time.sleep(self.pause)
            publish(step)
        return f"trained {key}"


def flights(toy: Toy) -> Flights[str, int, str]:
    return Flights("toy", toy, history=lambda result: list(range(STEPS)), size=2)


def test_many_callers_one_run_every_event_to_each() -> None:
    toy = Toy()
    memo = flights(toy)
    seen: dict[int, list[int]] = {k: [] for k in range(4)}
    results: dict[int, str] = {}

    def call(k: int) -> None:
        results[k] = memo.get("a", progress=seen[k].append)

    threads = [threading.Thread(target=call, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)  # some join while it trains
    for thread in threads:
        thread.join(10)
    assert toy.runs == ["a"] and memo.started == 1
    assert all(events == list(range(STEPS)) for events in seen.values()), seen
    assert set(results.values()) == {"trained a"}
    replay: list[int] = []
    assert memo.get("a", progress=replay.append) == "trained a" and replay == list(range(STEPS))
    assert toy.runs == ["a"]


def test_the_run_stops_only_when_no_one_waits() -> None:
    toy = Toy()
    memo = flights(toy)
    leader_gone = threading.Event()
    follower_result: list[str] = []
    leader: list[str] = []

    def lead_then_leave() -> None:
        leader.append(memo.get("b", cancelled=leader_gone.is_set))

    lead = threading.Thread(target=lead_then_leave)
    lead.start()
    time.sleep(0.03)
    follow = threading.Thread(target=lambda: follower_result.append(memo.get("b")))
    follow.start()
    time.sleep(0.03)
    leader_gone.set()  # the leader's client left; the follower still waits
    follow.join(10)
    lead.join(10)
    assert follower_result == ["trained b"] and toy.stopped_at == []
    # The leader's thread trains: its client left, but it trained on for the follower.
    assert leader == ["trained b"] and toy.runs == ["b"]
    # Alone, a caller that leaves stops the run, and nothing is remembered.
    gone = threading.Event()
    stopper = threading.Timer(0.05, gone.set)
    stopper.start()
    with pytest.raises(TrainingCancelledError):
        memo.get("c", cancelled=gone.is_set)
    assert toy.stopped_at and toy.stopped_at[-1] < STEPS
    assert memo.ready("c") is None and memo.progress("c") is None


def test_where_training_is_off_nothing_trains() -> None:
    toy = Toy()
    memo = flights(toy)
    with no_training(), pytest.raises(NotTrainedError) as refused:
        memo.obtain("d")
    assert refused.value.name == "toy" and refused.value.progress is None
    assert toy.runs == []
    memo.get("d")
    with no_training():
        assert memo.obtain("d") == "trained d"  # remembered: no training needed


def test_a_run_under_way_is_reported_with_its_progress() -> None:
    memo = flights(Toy(pause=0.02))
    worker = threading.Thread(target=memo.get, args=("e",))
    worker.start()
    time.sleep(0.1)
    with no_training(), pytest.raises(NotTrainedError) as refused:
        memo.obtain("e")
    assert refused.value.progress is not None and 0 < refused.value.progress < STEPS
    worker.join(10)


class Place:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def release(self) -> None:
        self.log.append("released")


def test_a_place_is_asked_to_train_and_freed_when_the_run_ends() -> None:
    toy = Toy()
    memo = flights(toy)
    log: list[str] = []
    with pytest.raises(TrainingBusyError):
        memo.get("f", admit=lambda: None)
    assert toy.runs == []

    def admit() -> Place:
        log.append("admitted")
        return Place(log)

    def publish(step: int) -> None:
        if step == STEPS - 1:
            log.append("last step")

    memo.get("f", progress=publish, admit=admit)
    assert log == ["admitted", "last step", "released"]
    memo.get("f", admit=admit)  # remembered: no place needed
    assert log.count("admitted") == 1


def test_the_last_results_are_remembered() -> None:
    toy = Toy(pause=0)
    memo = flights(toy)
    for key in ("g", "h", "i"):
        memo.get(key)
    assert memo.ready("g") is None and memo.ready("h") and memo.ready("i")
