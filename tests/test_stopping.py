"""dropouts.lab.stopping: a checkpoint stops work only inside ``stoppable`` once its event is set,
in the thread that runs the work too (the server runs frames in a thread pool)."""

from __future__ import annotations

import contextvars
import threading

import pytest
import torch

from dropouts.lab.registry import get_method, get_view
from dropouts.lab.stopping import StoppedError, checkpoint, stoppable
from dropouts.lab.views import built_view


def test_a_checkpoint_outside_stoppable_does_nothing() -> None:
    checkpoint()


def test_a_checkpoint_raises_once_the_caller_left() -> None:
    stop = threading.Event()
    with stoppable(stop):
        checkpoint()
        stop.set()
        with pytest.raises(StoppedError):
            checkpoint()
    checkpoint()  # the block is over


def test_a_thread_started_with_the_context_sees_the_event() -> None:
    stop = threading.Event()
    stop.set()
    seen: list[bool] = []

    def work() -> None:
        try:
            checkpoint()
            seen.append(False)
        except StoppedError:
            seen.append(True)

    with stoppable(stop):
        context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(work,))
    thread.start()
    thread.join()
    assert seen == [True]


def test_frames_stop_between_two_frames() -> None:
    view = built_view("lstm")
    scene = view.scene(torch.rand(3, 32, 32))
    params = {p.name: p.default for p in get_method("variational_rnn").params}
    params |= {p.name: p.default for p in get_view("lstm").params}
    theory = view.theory("variational_rnn", params, scene, seed=0)
    stop = threading.Event()
    stop.set()
    with stoppable(stop), pytest.raises(StoppedError):
        view.frames("variational_rnn", params, 0, range(3), scene, theory)
    assert len(view.frames("variational_rnn", params, 0, range(3), scene, theory)) == 3
