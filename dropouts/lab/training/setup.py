"""The :class:`TrainingSetup`: everything a training run depends on, checked against the
registry's dense view and completed with its defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from dropouts.lab.registry import (
    ParamError,
    ParamValue,
    get_method,
    get_view,
    methods_with_view,
    validate_params,
    validate_view_params,
)

N_TEST = 1000  # test points: enough for a smooth test-loss curve, cheap to evaluate
TRAINING_PARAMS = ("dataset", "noise", "n_train", "train_width", "train_depth", "steps", "lr")
# DropConnect draws a mask per example and per weight: a training step holds
# n_train x (weights of the hidden layers) mask values (and autograd keeps a copy).
MAX_DROPCONNECT_MASK = 8_000_000


def dense_methods() -> tuple[str, ...]:
    """The methods that train here: those whose registry entry has the dense view."""
    return tuple(method.id for method in methods_with_view("dense"))


def _training_defaults() -> dict[str, ParamValue]:
    view = get_view("dense")
    return {param.name: param.default for param in view.params if param.group == "training"}


_DEFAULTS = _training_defaults()


def hidden_shapes(width: int, depth: int) -> list[tuple[int, int]]:
    """``(in, out)`` of each hidden layer of the network a setup trains."""
    return [(2 if layer == 0 else width, width) for layer in range(depth)]


@dataclass(frozen=True)
class TrainingSetup:
    """Everything a training run depends on; frozen and hashable (a cache key).

    ``params`` are the method's parameters as ``(name, value)`` pairs; they are checked against
    the registry and completed with its defaults on construction, so two setups that mean the
    same run compare equal. The data and network fields carry the registry's names in
    :meth:`from_params` (``train_width`` is ``width``, ``train_depth`` is ``depth``).
    """

    method: str
    params: tuple[tuple[str, ParamValue], ...] = ()
    dataset: str = cast(str, _DEFAULTS["dataset"])
    noise: float = cast(float, _DEFAULTS["noise"])
    n_train: int = cast(int, _DEFAULTS["n_train"])
    n_test: int = N_TEST
    width: int = cast(int, _DEFAULTS["train_width"])
    depth: int = cast(int, _DEFAULTS["train_depth"])
    steps: int = cast(int, _DEFAULTS["steps"])
    lr: float = cast(float, _DEFAULTS["lr"])
    seed: int = 0

    def __post_init__(self) -> None:
        """Validate against the registry (``ParamError`` naming the field) and normalise."""
        try:
            method = get_method(self.method)
        except KeyError:
            raise ParamError("method", f"unknown method {self.method!r}", _dense_list()) from None
        if "dense" not in method.views:
            raise ParamError(
                "method", f"{method.id} does not train in the dense view", _dense_list()
            )
        params = validate_params(method, dict(self.params))
        object.__setattr__(self, "params", tuple(sorted(params.items())))
        view = validate_view_params(get_view("dense"), self.view_params())
        object.__setattr__(self, "dataset", str(view["dataset"]))
        object.__setattr__(self, "noise", float(cast(float, view["noise"])))
        object.__setattr__(self, "n_train", int(cast(int, view["n_train"])))
        object.__setattr__(self, "width", int(cast(int, view["train_width"])))
        object.__setattr__(self, "depth", int(cast(int, view["train_depth"])))
        object.__setattr__(self, "steps", int(cast(int, view["steps"])))
        object.__setattr__(self, "lr", float(cast(float, view["lr"])))
        if self.n_test < 2:
            raise ParamError("n_test", f"{self.n_test} test points", "at least 2")
        if not 0 <= self.seed < 2**63:
            raise ParamError("seed", f"{self.seed!r} is out of range", "0 to 2**63 - 1")
        if self.method == "dropconnect":
            self._check_dropconnect_size()

    def _check_dropconnect_size(self) -> None:
        per_example = sum(out * (inp + 1) for inp, out in hidden_shapes(self.width, self.depth))
        most = MAX_DROPCONNECT_MASK // per_example
        if self.n_train > most:
            raise ParamError(
                "n_train",
                f"DropConnect draws a mask per example and weight: {self.n_train} points x "
                f"{per_example} weights is more than {MAX_DROPCONNECT_MASK:,} mask values a step",
                f"at most {most} training points at width {self.width} and depth {self.depth}",
            )

    @property
    def method_params(self) -> dict[str, ParamValue]:
        return dict(self.params)

    def view_params(self) -> dict[str, ParamValue]:
        """The training parameters under the dense view's registry names."""
        return {
            "dataset": self.dataset,
            "noise": self.noise,
            "n_train": self.n_train,
            "train_width": self.width,
            "train_depth": self.depth,
            "steps": self.steps,
            "lr": self.lr,
        }

    @classmethod
    def from_params(
        cls, method: str, params: Mapping[str, ParamValue], seed: int | None = None
    ) -> TrainingSetup:
        """The setup from a merged parameter dict: the method's parameters, the dense view's
        training parameters by their registry names (dataset, noise, n_train, train_width,
        train_depth, steps, lr; missing ones take the registry defaults) and ``seed`` (the
        argument, else ``params["seed"]``, else 0). Names that are neither the method's nor
        training parameters (the diagram's ``network``, ``width``, ``depth``) are ignored; a
        value out of its range raises ``ParamError`` naming the field."""
        try:
            own = {param.name for param in get_method(method).params}
        except KeyError:
            own = set()
        values = validate_view_params(
            get_view("dense"), {k: v for k, v in params.items() if k in TRAINING_PARAMS}
        )
        if seed is None:
            seed = int(cast(int, params.get("seed", 0) or 0))
        return cls(
            method=method,
            params=tuple((k, v) for k, v in params.items() if k in own),
            dataset=str(values["dataset"]),
            noise=float(cast(float, values["noise"])),
            n_train=int(cast(int, values["n_train"])),
            width=int(cast(int, values["train_width"])),
            depth=int(cast(int, values["train_depth"])),
            steps=int(cast(int, values["steps"])),
            lr=float(cast(float, values["lr"])),
            seed=seed,
        )


def _dense_list() -> str:
    return ", ".join(dense_methods())
