"""Monte Carlo dropout's trained model for the uncertainty view (Gal & Ghahramani, ICML 2016):
the constants of the two tasks, the seeded generators, and :class:`UncertaintySetup`, everything
a trained network depends on, with Gal & Ghahramani's model precision :func:`tau`. Read through
:mod:`dropouts.lab.uncertainty`, which re-exports every public name."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

import torch

from dropouts.lab.registry import ParamError, ParamValue, get_method, get_view, validate_view_params

Task = Literal["regression", "classification"]
BatchNormMode = Literal["eval", "train"]
TASKS: tuple[Task, ...] = ("regression", "classification")

DOMAIN = (-3.0, 3.0)  # regression: the training points' range…
GAP = (-1.0, 1.0)  # …less its middle third
PLOT_RANGE = (-4.5, 4.5)  # the curves are drawn here: beyond the data on both sides
GRID = 200  # regression: x values of the curves
CLASS_GRID = 32  # classification: the maps are CLASS_GRID x CLASS_GRID
N_TEST = 200  # test points (regression: uniform on DOMAIN, the gap included)
SNAPSHOTS = 50  # about this many snapshots after step 0
SNAPSHOT_PASSES = 20  # passes of a snapshot's band (or averaged boundary)
# Hidden neurons per layer by task: the maps' 1024 points x T passes cost more than the
# curve's 200, and 32 neurons draw every 2-D data set's boundary.
WIDTHS: dict[str, int] = {"regression": 64, "classification": 32}
DEPTH = 2
LR = 0.005
FREQUENCY = 2.0  # y = sin(FREQUENCY x)
VIEW_PARAMS = ("task", "n_train", "noise", "dataset", "steps", "log_weight_decay", "lengthscale")
MAX_P = 0.99  # p = 1 drops every unit: nothing is learnt and τ = 0


def _seed(*parts: object) -> int:
    """A 63-bit seed derived from ``parts``: independent streams for the data, the weights,
    the training masks and the snapshots' passes."""
    digest = hashlib.blake2b(repr(("uncertainty", *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def seeded_generator(*parts: object) -> torch.Generator:
    return torch.Generator().manual_seed(_seed(*parts))


# ---------------------------------------------------------------- the setup


def _view_defaults() -> dict[str, ParamValue]:
    return {param.name: param.default for param in get_view("uncertainty").params}


_DEFAULTS = _view_defaults()
_DEFAULT_TASK: Task = "classification" if _DEFAULTS["task"] == "classification" else "regression"


@dataclass(frozen=True)
class UncertaintySetup:
    """Everything a trained network depends on; frozen and hashable (the cache key).

    Not in it: ``T`` and the length-scale ``l``, which change the predictions but not the
    network. Validated against the registry on construction (``ParamError`` naming the field).
    """

    task: Task = _DEFAULT_TASK
    p: float = 0.1
    n_train: int = cast(int, _DEFAULTS["n_train"])
    noise: float = cast(float, _DEFAULTS["noise"])
    dataset: str = cast(str, _DEFAULTS["dataset"])
    steps: int = cast(int, _DEFAULTS["steps"])
    weight_decay: float = 10.0 ** cast(float, _DEFAULTS["log_weight_decay"])
    seed: int = 0
    width: int = 0  # 0: the task's, WIDTHS
    depth: int = DEPTH
    lr: float = LR

    def __post_init__(self) -> None:
        values = validate_view_params(
            get_view("uncertainty"),
            {
                "task": self.task,
                "n_train": self.n_train,
                "noise": self.noise,
                "dataset": self.dataset,
                "steps": self.steps,
            },
        )
        object.__setattr__(self, "task", values["task"])
        object.__setattr__(self, "n_train", int(cast(int, values["n_train"])))
        object.__setattr__(self, "noise", float(cast(float, values["noise"])))
        object.__setattr__(self, "dataset", str(values["dataset"]))
        object.__setattr__(self, "steps", int(cast(int, values["steps"])))
        decay = float(self.weight_decay)
        if not (decay > 0.0 and math.isfinite(decay)):
            raise ParamError("log_weight_decay", f"λ = {self.weight_decay!r}", "λ > 0")
        object.__setattr__(self, "weight_decay", decay)
        p = float(self.p)
        if not (0.0 <= p <= MAX_P):
            raise ParamError(
                "p",
                f"{self.p!r}: Monte Carlo dropout needs units to keep (τ = (1 − p) l² / (2Nλ))",
                f"a number from 0 to {MAX_P}",
            )
        object.__setattr__(self, "p", p)
        if not 0 <= self.seed < 2**63:
            raise ParamError("seed", f"{self.seed!r} is out of range", "0 to 2**63 - 1")
        if self.width == 0:
            object.__setattr__(self, "width", WIDTHS[self.task])
        if self.width < 1 or self.depth < 1:
            raise ParamError("width", "the network needs a hidden layer", "width, depth >= 1")

    @classmethod
    def from_params(cls, params: Mapping[str, ParamValue], seed: int = 0) -> UncertaintySetup:
        """The setup from a merged parameter dict (``p`` of ``mc_dropout`` and the uncertainty
        view's parameters by their registry names; missing ones take the defaults; ``T`` and
        ``lengthscale`` are ignored)."""
        method = get_method("mc_dropout")
        p = params.get("p", method.param("p").default)
        values = validate_view_params(
            get_view("uncertainty"), {k: v for k, v in params.items() if k in VIEW_PARAMS}
        )
        return cls(
            task=cast(Task, values["task"]),
            p=float(cast(float, p)),
            n_train=int(cast(int, values["n_train"])),
            noise=float(cast(float, values["noise"])),
            dataset=str(values["dataset"]),
            steps=int(cast(int, values["steps"])),
            weight_decay=10.0 ** float(cast(float, values["log_weight_decay"])),
            seed=int(seed),
        )

    @property
    def inputs(self) -> int:
        return 1 if self.task == "regression" else 2

    @property
    def outputs(self) -> int:
        return 1 if self.task == "regression" else 2


def tau(p: float, lengthscale: float, n: int, weight_decay: float) -> float:
    """Gal & Ghahramani's model precision ``τ = r l² / (2 N λ)``, ``r = 1 − p`` the KEEP
    probability (for the loss ``MSE + λ Σ ‖W‖²`` of Gal's code)."""
    if not (0.0 <= p < 1.0) or lengthscale <= 0 or n < 1 or weight_decay <= 0:
        raise ValueError("tau needs 0 <= p < 1, l > 0, N >= 1 and λ > 0")
    return (1.0 - p) * lengthscale**2 / (2.0 * n * weight_decay)
