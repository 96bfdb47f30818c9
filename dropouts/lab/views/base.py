"""What every view shares: the per-iteration generator, the arrays a frame carries, and the
:class:`View` interface that the web app drives without knowing which view it is.

A view turns ``(method, parameters, seed, iteration, input)`` into a :class:`Frame`: a few
named statistics and a few named arrays (masks, activations) for the page to draw. Frames are
addressable: frame ``i`` never depends on the frames computed before it, only on its own
:func:`frame_generator`, so a player can jump to any iteration and any worker can serve it.
What does not change from one iteration to the next is split out:

- the *scene*: what the view derives from its input alone (the picture, or the feature maps of
  a convolutional stage run on it), computed once per input and cached by the caller;
- the *theory*: what the distribution predicts for the chosen method and parameters on that
  scene (expected dropped fraction, test-time rule, expected histograms), once per request.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import torch
from torch import Tensor

from dropouts.lab.registry import ParamValue
from dropouts.lab.stopping import checkpoint
from dropouts.lab.trained.base import Training

Json = Any  # a value ``json.dumps`` accepts: numbers, strings, None, lists and dicts of them


def frame_generator(seed: int, iteration: int) -> torch.Generator:
    """A CPU generator for one iteration, mixed from ``(seed, iteration)`` by NumPy's SeedSequence.

    Every iteration gets an independent, well-mixed stream, identical on every machine; every
    view draws its iteration's randomness from this generator and nothing else.
    """
    state = np.random.SeedSequence([int(seed), int(iteration)]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def number(params: Mapping[str, ParamValue], name: str) -> float:
    """A numeric parameter as a float (``TypeError`` if it is not a number)."""
    value = params[name]
    if not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


# ---------------------------------------------------------------- arrays a frame carries


@dataclass(frozen=True)
class BinaryArray:
    """A mask of zeros and ONE kept value (every Bernoulli-type mask), shape ``(C, H, W)``."""

    tensor: Tensor


@dataclass(frozen=True)
class LevelArray:
    """A real-valued mask shown through ``levels`` evenly spaced values on ``[low, high]``."""

    tensor: Tensor
    low: float
    high: float
    levels: int


@dataclass(frozen=True)
class ValueArray:
    """A handful of numbers (one factor per channel), small enough to travel inline."""

    values: tuple[float, ...]


@dataclass(frozen=True)
class ByteArray:
    """Non-negative values ``(C, H, W)`` for display: each channel quantised to 256 steps of its
    own maximum (byte ``k`` of channel ``c`` stands for ``k / 255 * scale[c]``)."""

    tensor: Tensor


@dataclass(frozen=True)
class JsonArray:
    """Structured drawing data (a network's neurons and connections), inline as JSON: like
    every array, sent with the frame and left out of a statistics-only answer."""

    value: Json


Array = BinaryArray | LevelArray | ValueArray | ByteArray | JsonArray


@dataclass(frozen=True)
class Frame:
    """One iteration: statistics (JSON numbers and lists) and the arrays the page draws."""

    iteration: int
    stats: dict[str, Json]
    arrays: dict[str, Array] = field(default_factory=dict)


@dataclass(frozen=True)
class Scene:
    """What a view derives from its input alone: ``data`` for the view's own use, and ``info``
    and ``arrays`` that the page draws once (``/api/scene``)."""

    data: Any
    info: dict[str, Json]
    arrays: dict[str, Array] = field(default_factory=dict)


Theory = TypeVar("Theory")


class View(ABC, Generic[Theory]):
    """One way of showing methods: ``id`` as in the registry's ``views``, the methods it shows.

    Subclasses implement :meth:`scene`, :meth:`theory`, :meth:`theory_json` and :meth:`frame`;
    they stay pure torch (no HTTP), like the rest of :mod:`dropouts`. A view that shows a
    network trained in the server declares how (:attr:`training`).
    """

    id: ClassVar[str]
    methods: ClassVar[tuple[str, ...]]
    needs_image: ClassVar[bool] = True
    # The highest iteration a request may ask for; None: the app's own limit.
    max_iteration: ClassVar[int | None] = None
    # How the view trains the network it shows (its setup, run and events:
    # :mod:`dropouts.lab.trained`); None: it trains nothing.
    training: ClassVar[Training | None] = None

    def shows(self, method_id: str) -> bool:
        return method_id in self.methods

    def check_method(self, method_id: str) -> None:
        if not self.shows(method_id):
            raise KeyError(
                f"{method_id!r} has no {self.id} view; {self.id} methods: {', '.join(self.methods)}"
            )

    @abstractmethod
    def scene(self, picture: Tensor | None) -> Scene:
        """What the view derives from its input (an RGB picture ``(3, H, W)`` in [0, 1])."""

    @abstractmethod
    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> Theory:
        """What the distribution predicts for this method and these parameters on ``scene``
        (the seed matters only where the view's input depends on it: the dense view's trained
        network is the result of a seeded training run)."""

    @abstractmethod
    def theory_json(self, theory: Theory) -> dict[str, Json]:
        """The theory as the page reads it."""

    @abstractmethod
    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: Theory,
    ) -> Frame:
        """Iteration ``iteration``: depends on its arguments only, never on earlier frames."""

    def expected_dropped_fraction(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> float:
        """The fraction of units the method is expected to drop in this view (what the page
        shows as "expected"); a view may compute it more cheaply than its whole theory."""
        theory = self.theory(method_id, params, scene, seed=seed)
        return float(self.theory_json(theory)["expected_dropped_fraction"])

    def frames(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iterations: range,
        scene: Scene,
        theory: Theory,
    ) -> list[Frame]:
        """The frames of ``iterations``; a view may share work between them. Stops between
        two frames when the caller has left (dropouts.lab.stopping)."""
        frames = []
        for iteration in iterations:
            checkpoint()
            frames.append(self.frame(method_id, params, seed, iteration, scene, theory))
        return frames
