"""Train a small dense network with a dropout method and without, side by side.

A 2-D classification problem (:data:`DATASETS`) with a small noisy training set and a larger
test set from the same distribution: a wide network without dropout learns the training points
by heart and its test loss climbs; the same network with dropout overfits much less.
:func:`train` trains both networks in lockstep (full batch, Adam, cross-entropy) and yields a
:class:`Snapshot` of both as it goes: losses, accuracies and the decision boundary on a grid.

Everything is decided by the :class:`TrainingSetup` (the method, its parameters, the data, the
network, the optimiser and the seed): the data, the initial weights (the same for both
networks), the masks and the test-time samples come from generators seeded from it, so the same
setup gives the same snapshots on every run (same torch version, same thread count), and any
worker can replay a run. Nothing here knows about HTTP.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .modules import (
    AlphaDropout,
    DropConnectLinear,
    Dropout,
    DropoutModule,
    GaussianDropout,
    StandoutLinear,
)
from .registry import (
    ParamError,
    ParamValue,
    get_method,
    get_view,
    methods_with_view,
    validate_params,
    validate_view_params,
)

DATASETS = ("moons", "circles", "xor", "spiral")
N_TEST = 1000  # test points: enough for a smooth test-loss curve, cheap to evaluate
GRID = 40  # the decision boundary is P(class 1) on GRID x GRID points
SNAPSHOTS = 50  # about this many snapshots after step 0 (the page's updates)
TRAINING_PARAMS = ("dataset", "noise", "n_train", "train_width", "train_depth", "steps", "lr")
# DropConnect draws a mask per example and per weight: a training step holds
# n_train x (weights of the hidden layers) mask values (and autograd keeps a copy).
MAX_DROPCONNECT_MASK = 8_000_000
# The Gaussian test-time rule of DropConnect draws `samples` values per unit and per point; a
# snapshot evaluates the grid, the test and the training points. Their total over a run is kept
# under this many draws by spacing the snapshots further apart (never fewer than step 0 and the
# last step).
EVAL_DRAW_BUDGET = 1_500_000_000
CHUNK_DRAWS = 1 << 20  # draws per evaluation chunk (4 MB of float32: stays in cache)

Activation = Literal["relu", "selu"]
_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": torch.relu, "selu": torch.selu}


def dense_methods() -> tuple[str, ...]:
    """The methods that train here: those whose registry entry has the dense view."""
    return tuple(method.id for method in methods_with_view("dense"))


def _seed(*parts: object) -> int:
    """A 63-bit seed derived from ``parts`` (the run's seed and what is drawn): independent
    streams for the data, the weights, the masks and the test-time samples."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _generator(*parts: object) -> torch.Generator:
    return torch.Generator().manual_seed(_seed(*parts))


# ---------------------------------------------------------------- data


def make_dataset(
    name: str, n: int, noise: float, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``n`` points of a 2-D two-class problem: ``X`` ``(n, 2)`` float32 and ``y`` ``(n,)`` int64.

    The classes are balanced (``ceil(n / 2)`` of class 0, ``floor(n / 2)`` of class 1, in that
    order); ``noise`` is the standard deviation of Gaussian noise added to each coordinate. The
    noiseless shapes span about [-1.5, 1.5], so one learning rate suits them all:

    - ``moons``: two interleaving half circles of radius 1 (as scikit-learn's, centred);
    - ``circles``: a circle of radius 1 around one of radius 0.5;
    - ``xor``: uniform in the square [-1, 1]²; class 1 where ``x·y > 0`` (quadrants 1 and 3);
    - ``spiral``: two interleaved arms of 1.5 turns, radius 0 to 1.25.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not (noise >= 0.0 and math.isfinite(noise)):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    counts = ((n + 1) // 2, n // 2)
    parts = [_shape(name, label, count, generator) for label, count in enumerate(counts)]
    x = torch.cat(parts)
    x = x + noise * torch.randn(x.shape, generator=generator, dtype=torch.float64)
    y = torch.cat(
        [torch.full((count,), label, dtype=torch.int64) for label, count in enumerate(counts)]
    )
    return x.to(torch.float32), y


def _shape(name: str, label: int, count: int, generator: torch.Generator) -> Tensor:
    """``count`` noiseless points of class ``label`` (float64)."""
    u = torch.rand((count,), generator=generator, dtype=torch.float64)
    if name == "moons":
        angle = math.pi * u
        if label == 0:
            points = torch.stack([angle.cos(), angle.sin()], dim=1)
        else:
            points = torch.stack([1.0 - angle.cos(), 0.5 - angle.sin()], dim=1)
        return points - torch.tensor([0.5, 0.25], dtype=torch.float64)
    if name == "circles":
        angle = 2.0 * math.pi * u
        radius = 1.0 if label == 0 else 0.5
        return radius * torch.stack([angle.cos(), angle.sin()], dim=1)
    if name == "xor":
        magnitude = torch.rand((count, 2), generator=generator, dtype=torch.float64)
        sign = torch.randint(0, 2, (count,), generator=generator, dtype=torch.float64) * 2 - 1
        other = sign if label == 1 else -sign  # same signs: x·y > 0, class 1
        return magnitude * torch.stack([sign, other], dim=1)
    # spiral: radius grows with the angle; class 1 is class 0 turned by half a turn
    turn = 3.0 * math.pi * u + math.pi * label
    return torch.stack([1.25 * u * turn.cos(), 1.25 * u * turn.sin()], dim=1)


# ---------------------------------------------------------------- the setup


def _training_defaults() -> dict[str, ParamValue]:
    view = get_view("dense")
    return {param.name: param.default for param in view.params if param.group == "training"}


_DEFAULTS = _training_defaults()


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
        per_example = sum(out * (inp + 1) for inp, out in _hidden_shapes(self.width, self.depth))
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


class TrainingData(NamedTuple):
    x_train: Tensor  # (n_train, 2) float32
    y_train: Tensor  # (n_train,) int64
    x_test: Tensor  # (n_test, 2) float32
    y_test: Tensor  # (n_test,) int64
    extent: tuple[float, float, float, float]  # the grid's x_min, x_max, y_min, y_max


def training_data(setup: TrainingSetup) -> TrainingData:
    """The run's training and test sets (independent draws: the test set does not change with
    ``n_train``) and the square extent of the boundary grid: a square around all the points,
    its side 1.2 times the larger side of their bounding box."""
    x_train, y_train = make_dataset(
        setup.dataset, setup.n_train, setup.noise, _generator(setup.seed, "train data")
    )
    x_test, y_test = make_dataset(
        setup.dataset, setup.n_test, setup.noise, _generator(setup.seed, "test data")
    )
    points = torch.cat([x_train, x_test])
    low, high = points.min(dim=0).values, points.max(dim=0).values
    centre = (low + high) / 2
    half = float((high - low).max()) * 0.6
    cx, cy = float(centre[0]), float(centre[1])
    extent = (_round(cx - half), _round(cx + half), _round(cy - half), _round(cy + half))
    return TrainingData(x_train, y_train, x_test, y_test, extent)


def _round(value: float) -> float:
    return round(value, 4)


def grid_points(extent: tuple[float, float, float, float], size: int = GRID) -> Tensor:
    """The ``size * size`` grid points ``(size², 2)``, row-major: row ``i`` has ``y`` the
    ``i``-th value from ``y_min`` to ``y_max``, column ``j`` has ``x`` from ``x_min`` to
    ``x_max`` (the layout of a heatmap's ``z[i][j]``)."""
    x_min, x_max, y_min, y_max = extent
    xs = torch.linspace(x_min, x_max, size)
    ys = torch.linspace(y_min, y_max, size)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)


# ---------------------------------------------------------------- the networks


def _hidden_shapes(width: int, depth: int) -> list[tuple[int, int]]:
    """``(in, out)`` of each hidden layer."""
    return [(2 if layer == 0 else width, width) for layer in range(depth)]


def activation_of(method: str) -> Activation:
    """SELU for Alpha dropout (Klambauer et al.: it keeps SELU's mean and variance), else ReLU."""
    return "selu" if method == "alpha" else "relu"


def initial_weights(setup: TrainingSetup) -> list[tuple[Tensor, Tensor]]:
    """``(weight, bias)`` of every layer (the hidden ones, then the output), seeded: both
    networks of a run start from these. ``torch.nn.Linear``'s initialisation for ReLU
    (uniform in ±1/sqrt(fan_in), weights and biases); LeCun normal for SELU (weights
    N(0, 1/fan_in), biases 0), as Klambauer et al. prescribe."""
    generator = _generator(setup.seed, "weights")
    shapes = [*_hidden_shapes(setup.width, setup.depth), (setup.width, 2)]
    layers = []
    for fan_in, fan_out in shapes:
        bound = 1.0 / math.sqrt(fan_in)
        if activation_of(setup.method) == "selu":
            weight = torch.randn((fan_out, fan_in), generator=generator) * bound
            bias = torch.zeros(fan_out)
        else:
            weight = (torch.rand((fan_out, fan_in), generator=generator) * 2 - 1) * bound
            bias = (torch.rand((fan_out,), generator=generator) * 2 - 1) * bound
        layers.append((weight, bias))
    return layers


class _Activation(nn.Module):
    def __init__(self, name: Activation) -> None:
        super().__init__()
        self.name = name
        self.function = _ACTIVATIONS[name]

    def forward(self, x: Tensor) -> Tensor:
        return self.function(x)

    def extra_repr(self) -> str:
        return self.name


def build_network(
    setup: TrainingSetup, dropout: bool, generator: torch.Generator | None = None
) -> nn.Sequential:
    """2 → ``width`` × ``depth`` → 2 logits, with the method (``dropout=True``) or without.

    Standard, Gaussian and Alpha dropout follow each hidden activation; DropConnect and
    Standout ARE the hidden layers (:class:`DropConnectLinear`, :class:`StandoutLinear`, with
    the activation inside). The output layer is a plain ``nn.Linear``. Without dropout the
    network is the same (the same activations and :func:`initial_weights`), only with plain
    ``nn.Linear`` hidden layers and no dropout modules. Masks (and DropConnect's test-time
    samples) are drawn from ``generator`` (by default one seeded from the setup), so training
    is reproducible.
    """
    if generator is None:
        generator = _generator(setup.seed, "masks")
    params = setup.method_params
    name = activation_of(setup.method)
    function = _ACTIVATIONS[name]
    weights = initial_weights(setup)
    layers: list[nn.Module] = []
    for (fan_in, fan_out), (weight, bias) in zip(
        _hidden_shapes(setup.width, setup.depth), weights, strict=False
    ):
        hidden: DropConnectLinear | StandoutLinear | nn.Linear
        if dropout and setup.method == "dropconnect":
            hidden = DropConnectLinear(
                fan_in,
                fan_out,
                p=float(cast(float, params["p"])),
                activation=function,
                inference=cast(Literal["mean", "gaussian"], params["inference"]),
                samples=int(cast(int, params["samples"])),
                generator=generator,
            )
        elif dropout and setup.method == "standout":
            hidden = StandoutLinear(
                fan_in,
                fan_out,
                alpha=float(cast(float, params["alpha"])),
                beta=float(cast(float, params["beta"])),
                form=cast(Literal["additive", "tied"], params["form"]),
                activation=function,
                generator=generator,
            )
        else:
            hidden = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            hidden.weight.copy_(weight)
            hidden.bias.copy_(bias)
        layers.append(hidden)
        if not isinstance(hidden, DropConnectLinear | StandoutLinear):
            layers.append(_Activation(name))
        if dropout and setup.method in ("standard", "gaussian", "alpha"):
            layers.append(_unit_dropout(setup.method, params, generator))
    output = nn.Linear(setup.width, 2)
    with torch.no_grad():
        output.weight.copy_(weights[-1][0])
        output.bias.copy_(weights[-1][1])
    layers.append(output)
    return nn.Sequential(*layers)


def _unit_dropout(
    method: str, params: Mapping[str, ParamValue], generator: torch.Generator
) -> nn.Module:
    p = float(cast(float, params["p"]))
    if method == "standard":
        return Dropout(p, scale=params["scaling"] == "inverted", generator=generator)
    if method == "gaussian":
        sigma = params["sigma"]
        return GaussianDropout(
            p, sigma=None if sigma is None else float(cast(float, sigma)), generator=generator
        )
    return AlphaDropout(p, generator=generator)


def _optimizer(network: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(network.parameters(), lr=lr, fused=True)


# ---------------------------------------------------------------- training


@dataclass(frozen=True)
class NetworkSnapshot:
    """One network at one step. Losses and accuracies are those of the network in eval mode
    (the method's test-time rule); ``objective`` is the loss the last step minimised (in
    training mode, with its masks; None at step 0). ``boundary`` is P(class 1), ``(G, G)``
    float32, on :func:`grid_points` (rows go up in y, columns right in x)."""

    train_loss: float
    test_loss: float
    train_accuracy: float
    test_accuracy: float
    objective: float | None
    boundary: Tensor


@dataclass(frozen=True)
class Snapshot:
    """Both networks after ``step`` optimiser steps (0: as initialised)."""

    step: int
    dropout: NetworkSnapshot
    baseline: NetworkSnapshot
    extent: tuple[float, float, float, float]


def snapshot_steps(setup: TrainingSetup, snapshots: int = SNAPSHOTS) -> tuple[int, ...]:
    """The steps :func:`train` reports: 0, every ``max(1, steps // snapshots)`` steps, and
    the last step. Spaced further apart when the method's test-time rule is costly
    (DropConnect's Gaussian rule: :data:`EVAL_DRAW_BUDGET`)."""
    every = max(1, setup.steps // max(1, snapshots))
    draws = _eval_draws(setup)
    if draws:
        affordable = max(0, EVAL_DRAW_BUDGET // draws - 2)  # besides step 0 and the last
        every = max(every, math.ceil(setup.steps / affordable) if affordable else setup.steps)
    steps = list(range(0, setup.steps, every))
    return (*steps, setup.steps)


def _eval_draws(setup: TrainingSetup) -> int:
    """Gaussian draws one evaluation of the dropout network makes (0 for the other rules)."""
    params = setup.method_params
    if setup.method != "dropconnect" or params["inference"] != "gaussian":
        return 0
    return _eval_points(setup) * setup.width * setup.depth * int(cast(int, params["samples"]))


def _eval_points(setup: TrainingSetup, grid: int = GRID) -> int:
    return setup.n_train + setup.n_test + grid * grid


class _Run:
    """The data, both networks and their optimisers; one :meth:`step` trains both once."""

    def __init__(self, setup: TrainingSetup, *, baseline: bool = True, grid: int = GRID) -> None:
        self.setup = setup
        self.data = training_data(setup)
        self.networks = {"dropout": build_network(setup, dropout=True)}
        if baseline:
            self.networks["baseline"] = build_network(setup, dropout=False)
        self.optimizers = {
            name: _optimizer(network, setup.lr) for name, network in self.networks.items()
        }
        self.objectives: dict[str, Tensor | None] = dict.fromkeys(self.networks)
        self.dropout_modules = {
            name: [module for module in network.modules() if isinstance(module, DropoutModule)]
            for name, network in self.networks.items()
        }
        self.grid = grid
        self.points = torch.cat(
            [self.data.x_train, self.data.x_test, grid_points(self.data.extent, grid)]
        )
        self.chunk = self._chunk()
        self.done = 0

    def _chunk(self) -> int:
        """Points per forward pass: all at once, or few enough that one layer's Gaussian
        test-time draws (points x width x samples) stay within :data:`CHUNK_DRAWS`."""
        per_point = _eval_draws(self.setup) // (_eval_points(self.setup) * self.setup.depth)
        return self.points.shape[0] if not per_point else max(1, CHUNK_DRAWS // per_point)

    def step(self) -> None:
        x, y = self.data.x_train, self.data.y_train
        for name, network in self.networks.items():  # in training mode but in evaluate()
            optimizer = self.optimizers[name]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(network(x), y)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            self.objectives[name] = loss.detach()
        self.done += 1

    def evaluate(self, name: str) -> NetworkSnapshot:
        network = self.networks[name]
        # Test-time draws (DropConnect's Gaussian rule) come from their own stream, seeded by
        # the step: evaluating never changes the training masks.
        modules = self.dropout_modules[name]
        training_generators = [module.generator for module in modules]
        samples = _generator(self.setup.seed, "test-time", self.done)
        for module in modules:
            module.generator = samples
        network.eval()
        try:
            with torch.no_grad():
                parts = torch.split(self.points, self.chunk)
                logits = torch.cat([network(part) for part in parts])
        finally:
            network.train()
            for module, generator in zip(modules, training_generators, strict=True):
                module.generator = generator
        n_train, n_test = self.setup.n_train, self.setup.n_test
        train_logits, test_logits = logits[:n_train], logits[n_train : n_train + n_test]
        grid_logits = logits[n_train + n_test :]
        objective = self.objectives[name]
        return NetworkSnapshot(
            train_loss=float(F.cross_entropy(train_logits, self.data.y_train)),
            test_loss=float(F.cross_entropy(test_logits, self.data.y_test)),
            train_accuracy=_accuracy(train_logits, self.data.y_train),
            test_accuracy=_accuracy(test_logits, self.data.y_test),
            objective=None if objective is None else float(objective),
            boundary=torch.softmax(grid_logits, dim=1)[:, 1].reshape(self.grid, self.grid),
        )


def _accuracy(logits: Tensor, labels: Tensor) -> float:
    return float((logits.argmax(dim=1) == labels).float().mean())


def train(
    setup: TrainingSetup,
    snapshots: int = SNAPSHOTS,
    *,
    grid: int = GRID,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[Snapshot]:
    """Train the network with the method and without, in lockstep; yield both at step 0 (as
    initialised, before any training), then at :func:`snapshot_steps` ending with the last.

    ``cancelled`` is asked before every step: when it returns True the iterator ends (a
    client that went away). Deterministic: the same setup gives the same snapshots.
    """
    run = _Run(setup, grid=grid)
    reported = set(snapshot_steps(setup, snapshots))
    yield _snapshot(run)
    for step in range(1, setup.steps + 1):
        if cancelled is not None and cancelled():
            return
        run.step()
        if step in reported:
            yield _snapshot(run)


def _snapshot(run: _Run) -> Snapshot:
    return Snapshot(
        step=run.done,
        dropout=run.evaluate("dropout"),
        baseline=run.evaluate("baseline"),
        extent=run.data.extent,
    )


class TrainedNetwork(NamedTuple):
    """The trained dropout network's layers ``(weight, bias)`` (the hidden layers, then the
    output layer; ``weight`` is ``(out, in)`` as in ``nn.Linear``) and its hidden activation.
    Shared by every caller: never write to these tensors."""

    layers: tuple[tuple[Tensor, Tensor], ...]
    activation: Activation


@functools.lru_cache(maxsize=8)
def trained_network(setup: TrainingSetup) -> TrainedNetwork:
    """The network with the method after the whole run of ``setup``: the same weights as the
    dropout network at :func:`train`'s last snapshot (the baseline and the snapshots do not
    touch its random streams), memoised per setup."""
    run = _Run(setup, baseline=False)
    for _ in range(setup.steps):
        run.step()
    layers = tuple(
        (module.weight.detach().clone(), module.bias.detach().clone())
        for module in run.networks["dropout"]
        if isinstance(module, nn.Linear | DropConnectLinear | StandoutLinear)
        and module.bias is not None
    )
    return TrainedNetwork(layers, activation_of(setup.method))
