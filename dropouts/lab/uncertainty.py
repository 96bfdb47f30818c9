"""Monte Carlo dropout on toy problems: a small network trained with dropout, then T stochastic
passes batched into one forward (Gal & Ghahramani, ICML 2016).

Two tasks, both a 1-or-2 → ``width`` × ``depth`` → 1-or-2 ReLU network with BatchNorm, each
hidden layer ``Linear → BatchNorm1d → ReLU → Dropout(p)``:

- ``regression``: a noisy sine, ``y = sin(2x) + ε``, ``ε ~ N(0, noise²)``, with training
  points on ``[-3, -1] ∪ [1, 3]`` and none in the middle third; the curves are drawn on
  :data:`PLOT_RANGE`, wider than the data on both sides;
- ``classification``: the 2-D data sets of the dense view
  (:func:`dropouts.lab.training.make_dataset`).

Training is full batch with Adam on the loss of Gal's code
(``yaringal/DropoutUncertaintyExps:net/net.py``, Keras): the mean squared error (or the
cross-entropy) plus ``λ Σ ‖W‖²`` over the weight matrices, ``λ`` the weight decay. For
regression the model precision is then ``τ = r l² / (2 N λ)`` (``r = 1 − p`` the KEEP
probability, ``l`` the prior length-scale, ``N`` the training points), and the predictive
variance ``τ⁻¹ + (1/T) Σ ŷ_t² − mean²``.

Everything is decided by an :class:`UncertaintySetup` (frozen, hashable): the data, the
initial weights and the training masks come from generators seeded from it, so the same setup
gives the same network on every run; :data:`UNCERTAINTY_RUNS` memoises it and lets concurrent
callers of the same setup wait for one run (:mod:`dropouts.lab.flights`).

The passes: :func:`draw_masks` draws every pass's masks at once, pass-major, so pass ``t`` is
the same whatever ``T`` (the first passes of ``T = 100`` are those of ``T = 10``), and
:func:`sample_passes` runs all ``T`` passes as ONE batched forward of shape ``(T, N, ·)``. A
pass keeps its mask for every input point: it is one sampled network ``Ŵ_t``, drawn as a whole
curve. (Gal's code, and :func:`dropouts.mc.mc_predict`, draw a mask per example: the same
marginal distribution at every point, hence the same mean and variance, but jagged curves.)
Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dropouts.lab.flights import (
    Cancelled,
    Flights,
    Publish,
    TrainingCancelledError,
    one_thread,
)
from dropouts.lab.registry import ParamError, ParamValue, get_method, get_view, validate_view_params
from dropouts.lab.training import grid_points, make_dataset
from dropouts.mc import MCPrediction, _classification_prediction, _regression_prediction
from dropouts.modules import Dropout

__all__ = [
    "CLASS_GRID",
    "GAP",
    "GRID",
    "PLOT_RANGE",
    "TASKS",
    "UNCERTAINTY_RUNS",
    "Snapshot",
    "TrainedModel",
    "UncertaintySetup",
    "build_network",
    "draw_masks",
    "one_thread",
    "predict",
    "regression_data",
    "running_estimate",
    "sample_passes",
    "tau",
    "train",
    "trained_model",
]

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


def _generator(*parts: object) -> torch.Generator:
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


# ---------------------------------------------------------------- data


def sine(x: Tensor) -> Tensor:
    """The regression's noiseless truth, ``sin(2x)``."""
    return torch.sin(FREQUENCY * x)


def regression_data(n: int, noise: float, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``n`` points ``(x (n, 1), y (n, 1))`` float32: ``ceil(n / 2)`` uniform on ``[-3, -1]``,
    the others on ``[1, 3]`` (none in the middle third), ``y = sin(2x) + N(0, noise²)``."""
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    u = torch.rand((n,), generator=generator, dtype=torch.float64)
    left = torch.arange(n) < (n + 1) // 2
    width = GAP[0] - DOMAIN[0]
    x = torch.where(left, DOMAIN[0] + width * u, GAP[1] + width * u)
    y = sine(x) + noise * torch.randn((n,), generator=generator, dtype=torch.float64)
    return x[:, None].float(), y[:, None].float()


@dataclass(frozen=True)
class Data:
    x_train: Tensor  # (N, 1) or (N, 2) float32
    y_train: Tensor  # (N, 1) float32 or (N,) int64
    x_test: Tensor
    y_test: Tensor
    grid: Tensor  # the inputs the predictions are drawn on: (GRID, 1) or (CLASS_GRID², 2)
    extent: tuple[float, float, float, float]  # classification: the grid's square; else PLOT


def make_data(setup: UncertaintySetup) -> Data:
    """The training and test sets and the grid of the predictions."""
    train_gen = _generator(setup.seed, setup.task, "train data")
    test_gen = _generator(setup.seed, setup.task, "test data")
    if setup.task == "regression":
        x_train, y_train = regression_data(setup.n_train, setup.noise, train_gen)
        x_test = DOMAIN[0] + (DOMAIN[1] - DOMAIN[0]) * torch.rand((N_TEST, 1), generator=test_gen)
        y_test = sine(x_test) + setup.noise * torch.randn((N_TEST, 1), generator=test_gen)
        grid = torch.linspace(PLOT_RANGE[0], PLOT_RANGE[1], GRID)[:, None]
        extent = (PLOT_RANGE[0], PLOT_RANGE[1], PLOT_RANGE[0], PLOT_RANGE[1])
        return Data(x_train, y_train, x_test, y_test, grid, extent)
    x_train, labels = make_dataset(setup.dataset, setup.n_train, setup.noise, train_gen)
    x_test, test_labels = make_dataset(setup.dataset, N_TEST, setup.noise, test_gen)
    extent = class_extent(torch.cat([x_train, x_test]))
    return Data(x_train, labels, x_test, test_labels, grid_points(extent, CLASS_GRID), extent)


def class_extent(points: Tensor) -> tuple[float, float, float, float]:
    """A square around ``points``, its side twice the larger side of their bounding box: room
    around the data for the uncertainty far from it."""
    low, high = points.min(dim=0).values, points.max(dim=0).values
    centre = (low + high) / 2
    half = float((high - low).max())
    cx, cy = float(centre[0]), float(centre[1])
    return (
        round(cx - half, 4),
        round(cx + half, 4),
        round(cy - half, 4),
        round(cy + half, 4),
    )


# ---------------------------------------------------------------- the network


def build_network(setup: UncertaintySetup) -> nn.Sequential:
    """``Linear → BatchNorm1d → ReLU → Dropout(p)`` per hidden layer, then ``Linear``; seeded
    weights (uniform in ±1/sqrt(fan_in), as ``nn.Linear``), BatchNorm's γ = 1 and β = 0, and
    the training masks from a seeded generator."""
    weights = _generator(setup.seed, setup.task, "weights")
    masks = _generator(setup.seed, setup.task, "masks")
    layers: list[nn.Module] = []
    fan_in = setup.inputs
    for _ in range(setup.depth):
        layers += [
            _linear(fan_in, setup.width, weights),
            nn.BatchNorm1d(setup.width),
            nn.ReLU(),
            Dropout(setup.p, generator=masks),
        ]
        fan_in = setup.width
    layers.append(_linear(fan_in, setup.outputs, weights))
    return nn.Sequential(*layers)


def _linear(fan_in: int, fan_out: int, generator: torch.Generator) -> nn.Linear:
    layer = nn.Linear(fan_in, fan_out)
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        layer.weight.copy_((torch.rand((fan_out, fan_in), generator=generator) * 2 - 1) * bound)
        layer.bias.copy_((torch.rand((fan_out,), generator=generator) * 2 - 1) * bound)
    return layer


def _weight_penalty(network: nn.Module) -> Tensor:
    """``Σ ‖W‖²`` over the weight matrices (not the biases, nor BatchNorm's γ and β)."""
    linears = [module for module in network.modules() if isinstance(module, nn.Linear)]
    return torch.stack([module.weight.square().sum() for module in linears]).sum()


def _dropout_layers(network: nn.Module) -> list[tuple[Dropout, int]]:
    """Each dropout layer and its width (that of the Linear before it)."""
    found: list[tuple[Dropout, int]] = []
    width = 0
    for module in network.modules():
        if isinstance(module, nn.Linear):
            width = module.out_features
        elif isinstance(module, Dropout):
            found.append((module, width))
    return found


# ---------------------------------------------------------------- the passes


def draw_masks(network: nn.Module, T: int, generator: torch.Generator) -> list[Tensor]:
    """Keep masks ``(T, width)`` (bool) for each dropout layer of ``network``, one row per
    pass, shared by every input point of the pass. Drawn as ONE ``(T, Σ widths)`` block of
    uniforms, pass-major: pass ``t``'s masks do not depend on ``T``."""
    layers = _dropout_layers(network)
    total = sum(width for _, width in layers)
    uniforms = torch.rand((T, total), generator=generator)
    masks, start = [], 0
    for module, width in layers:
        masks.append(uniforms[:, start : start + width] >= module.p)
        start += width
    return masks


def sample_passes(
    network: nn.Sequential,
    x: Tensor,
    masks: list[Tensor],
    *,
    batch_norm: BatchNormMode = "eval",
) -> Tensor:
    """The ``T`` stochastic passes of ``network`` on ``x`` ``(N, d)``, batched: ``(T, N, out)``.

    ``masks``: per dropout layer a ``(T, width)`` keep mask (:func:`draw_masks`); kept units
    are scaled by ``1 / (1 − p)`` (inverted dropout, as in training). ``batch_norm="eval"``
    uses BatchNorm's running statistics (what Monte Carlo dropout must do);
    ``batch_norm="train"`` reproduces ``model.train()``: each pass normalises with the mean and
    (biased) variance of its own batch, the ``N`` points predicted (the pitfall), without
    touching the running statistics. Only ``Linear``, ``BatchNorm1d``, ``ReLU`` and
    :class:`~dropouts.modules.Dropout` layers, in a ``Sequential``."""
    if not masks:
        raise ValueError("sample_passes needs the masks of at least one dropout layer")
    if batch_norm == "eval":
        stages = _folded(network, masks)
        if stages is not None:
            return _run_stages(stages, x.to(torch.float32))
    return _forward(network, x.to(torch.float32), masks, batch_norm)


@dataclass(frozen=True)
class _Stage:
    """``relu?((h ⊙ columns) Wᵀ + b)``: ``weight`` ``(out, in)``; ``columns`` ``(T, in)``, a
    dropout mask times its ``1 / (1 − p)`` (one row per pass), or None before any dropout."""

    weight: Tensor
    bias: Tensor
    relu: bool
    columns: Tensor | None


def _folded(network: nn.Sequential, masks: list[Tensor]) -> list[_Stage] | None:
    """The network as affine stages, BatchNorm's running statistics folded into the Linear
    before it, each dropout mask kept as the columns of the Linear after it: the passes differ
    only there, and the layers before the first dropout are computed once for all passes.
    None when the layers are not ``(Linear [BatchNorm1d] [ReLU] Dropout)*`` then ``Linear``
    (``[ReLU]``)."""
    stages: list[_Stage] = []
    weight: Tensor | None = None
    bias: Tensor | None = None
    relu = False
    pending: Tensor | None = None  # the last dropout's (T, width) mask x scale
    columns: Tensor | None = None  # the current Linear's
    index = 0
    with torch.no_grad():
        for module in network:
            if (
                isinstance(module, nn.Linear)
                and weight is None
                and (pending is not None or not stages)
            ):
                weight, bias, relu = module.weight, module.bias, False
                columns, pending = pending, None
            elif isinstance(module, nn.BatchNorm1d) and weight is not None and not relu:
                assert bias is not None
                assert module.running_mean is not None and module.running_var is not None
                scale = module.weight / torch.sqrt(module.running_var + module.eps)
                weight = weight * scale[:, None]
                bias = (bias - module.running_mean) * scale + module.bias
            elif isinstance(module, nn.ReLU) and weight is not None and not relu:
                relu = True
            elif isinstance(module, Dropout) and weight is not None and index < len(masks):
                assert bias is not None
                stages.append(_Stage(weight, bias, relu, columns))
                weight = bias = None
                keep_scale = 1.0 / (1.0 - module.p) if module.scale and module.p < 1.0 else 1.0
                pending = masks[index].to(torch.float32) * keep_scale
                index += 1
            else:
                return None
    if weight is None or bias is None or index != len(masks):
        return None
    stages.append(_Stage(weight, bias, relu, columns))
    return stages


def _run_stages(stages: list[_Stage], x: Tensor) -> Tensor:
    """``x`` ``(N, d)`` through the stages: ``(T, N, out)``. Shared stages run once on
    ``(N, ·)``. A per-pass stage is one batched matrix product with its bias (and ReLU in
    place): with the mask folded into per-pass weights ``(T, out, in)`` when that is smaller
    than the masked inputs ``(T, N, in)``, else applied to the inputs. Each layer makes ONE
    ``(T, N, width)`` tensor."""
    h = x
    with torch.no_grad():
        for stage in stages:
            if stage.columns is None:
                h = torch.matmul(h, stage.weight.T) + stage.bias
            else:
                T = stage.columns.shape[0]
                out_features, points = stage.weight.shape[0], h.shape[-2]
                if out_features < points:
                    weight = stage.weight[None] * stage.columns[:, None, :]
                    left = h if h.dim() == 3 else h.expand(T, *h.shape)
                    h = torch.baddbmm(stage.bias, left, weight.transpose(1, 2))
                else:
                    masked = h * stage.columns[:, None, :]
                    h = torch.matmul(masked, stage.weight.T).add_(stage.bias)
            if stage.relu:
                h = h.relu_()
    if h.dim() == 2:  # no dropout layer at all
        h = h[None]
    return h


def deterministic(network: nn.Sequential, x: Tensor) -> Tensor:
    """The network at test time WITHOUT Monte Carlo, ``(N, out)``: dropout off (inverted
    scaling: the identity), BatchNorm on its running statistics: the single answer of
    ``model.eval()``."""
    return _forward(network, x.to(torch.float32), None, "eval")


def _forward(
    network: nn.Sequential, h: Tensor, masks: list[Tensor] | None, batch_norm: BatchNormMode
) -> Tensor:
    """``h`` ``(N, d)`` through the layers, layer by layer; ``masks`` None: dropout off, the
    answer ``(N, out)``; else ``(T, N, out)``. Until the first dropout the layers are the same
    for every pass and run once on ``(N, ·)``; after it each layer writes in place into the
    one ``(T, N, width)`` tensor the layer before made."""
    index = 0
    own = False  # whether h is a tensor made here (safe to change in place)
    with torch.no_grad():
        for module in network:
            if isinstance(module, nn.Linear):
                h, own = F.linear(h, module.weight, module.bias), True
            elif isinstance(module, nn.BatchNorm1d):
                h, own = _batch_norm(module, h, batch_norm), True
            elif isinstance(module, nn.ReLU):
                h, own = (h.relu_() if own else torch.relu(h)), True
            elif isinstance(module, Dropout):
                if masks is None:
                    continue
                keep = masks[index]
                index += 1
                scale = 1.0 / (1.0 - module.p) if module.scale and module.p < 1.0 else 1.0
                factor = (keep.to(h.dtype) * scale)[:, None, :]
                h = h.mul_(factor) if own and h.dim() == 3 else h * factor
                own = True
            else:
                raise TypeError(f"sample_passes cannot run {type(module).__name__}")
    if masks is not None and index != len(masks):
        raise ValueError(f"{len(masks)} masks for {index} dropout layers")
    if masks is not None and h.dim() == 2:
        h = h.expand(masks[0].shape[0], *h.shape)
    return h


def _batch_norm(module: nn.BatchNorm1d, h: Tensor, mode: BatchNormMode) -> Tensor:
    """BatchNorm on ``h`` ``(N, d)`` or ``(T, N, d)``: the running statistics (``eval``), or
    each pass's own over its ``N`` points (``train``, biased variance, as torch normalises)."""
    assert module.running_mean is not None and module.running_var is not None
    if mode == "eval":
        mean, variance = module.running_mean, module.running_var
    else:
        variance, mean = torch.var_mean(h, dim=-2, unbiased=False, keepdim=True)
    scale = module.weight / torch.sqrt(variance + module.eps)
    return torch.addcmul(module.bias - mean * scale, h, scale)


def predict(outputs: Tensor, task: Task, tau_value: float | None = None) -> MCPrediction:
    """The Monte Carlo statistics of the passes ``(T, N, out)``, as :func:`dropouts.mc.mc_predict`
    computes them: regression the mean and ``τ⁻¹ +`` variance of ``(T, N)``; classification the
    averaged softmax probabilities, predictive entropy, expected entropy, mutual information."""
    if task == "regression":
        return _regression_prediction(outputs[..., 0], tau_value)
    return _classification_prediction(outputs, -1)


def running_estimate(samples: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and (1/t) variance of ``samples`` ``(T, ...)`` over the first ``t`` passes, for
    ``t = 1 … T``: how the estimate settles as passes are added (float64)."""
    values = samples.double()
    t = torch.arange(1, values.shape[0] + 1, dtype=torch.float64).reshape(
        -1, *([1] * (values.dim() - 1))
    )
    mean = values.cumsum(dim=0) / t
    shifted = values - values[0]
    mean_shift = shifted.cumsum(dim=0) / t
    variance = (shifted.square().cumsum(dim=0) / t - mean_shift.square()).clamp(min=0.0)
    return mean, variance


# ---------------------------------------------------------------- training


@dataclass(frozen=True)
class Snapshot:
    """The network after ``step`` steps (0: as initialised). Losses are the eval-mode network's
    (dropout off: the deterministic answer): mean squared error, or cross-entropy and accuracy;
    ``objective`` the training-mode loss of the last step with its ``λ Σ ‖W‖²`` (None at
    step 0). ``mean`` and ``std``: over :data:`SNAPSHOT_PASSES` passes on the grid (the
    model's spread, without ``τ⁻¹``); for classification ``mean`` is the averaged P(class 1)
    ``(CLASS_GRID, CLASS_GRID)`` and ``std`` its spread."""

    step: int
    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None
    objective: float | None
    mean: Tensor
    std: Tensor


@dataclass(frozen=True)
class TrainedModel:
    """A trained network, its data and the snapshots of its run. Shared by every caller:
    never train it, never write to it (:func:`sample_passes` only reads)."""

    setup: UncertaintySetup
    network: nn.Sequential
    data: Data
    history: tuple[Snapshot, ...] = field(repr=False)


def snapshot_steps(setup: UncertaintySetup, snapshots: int = SNAPSHOTS) -> tuple[int, ...]:
    """Step 0, every ``max(1, steps // snapshots)`` steps, and the last step."""
    every = max(1, setup.steps // max(1, snapshots))
    return (*range(0, setup.steps, every), setup.steps)


class _Run:
    def __init__(self, setup: UncertaintySetup) -> None:
        self.setup = setup
        self.data = make_data(setup)
        self.network = build_network(setup)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=setup.lr)
        self.objective: float | None = None
        self.done = 0

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        if self.setup.task == "regression":
            return F.mse_loss(output, target)
        return F.cross_entropy(output, target)

    def step(self) -> None:
        self.network.train()
        self.optimizer.zero_grad(set_to_none=True)
        output = self.network(self.data.x_train)
        loss = self.loss(output, self.data.y_train)
        loss = loss + self.setup.weight_decay * _weight_penalty(self.network)
        loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        self.objective = float(loss.detach())
        self.done += 1

    def snapshot(self) -> Snapshot:
        self.network.eval()
        data = self.data
        with torch.no_grad():
            train_out = deterministic(self.network, data.x_train)
            test_out = deterministic(self.network, data.x_test)
        accuracy: tuple[float | None, float | None] = (None, None)
        if self.setup.task == "classification":
            accuracy = (_accuracy(train_out, data.y_train), _accuracy(test_out, data.y_test))
        generator = _generator(self.setup.seed, self.setup.task, "snapshot", self.done)
        masks = draw_masks(self.network, SNAPSHOT_PASSES, generator)
        prediction = predict(sample_passes(self.network, data.grid, masks), self.setup.task)
        mean, std = prediction.mean, prediction.std
        if self.setup.task == "classification":
            mean = mean[:, 1].reshape(CLASS_GRID, CLASS_GRID)
            std = std[:, 1].reshape(CLASS_GRID, CLASS_GRID)
        return Snapshot(
            step=self.done,
            train_loss=float(self.loss(train_out, data.y_train)),
            test_loss=float(self.loss(test_out, data.y_test)),
            train_accuracy=accuracy[0],
            test_accuracy=accuracy[1],
            objective=self.objective,
            mean=mean,
            std=std,
        )


def _accuracy(logits: Tensor, labels: Tensor) -> float:
    return float((logits.argmax(dim=1) == labels).float().mean())


def train(
    setup: UncertaintySetup,
    *,
    progress: Callable[[Snapshot], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> TrainedModel:
    """Train the network of ``setup`` (not memoised: see :func:`trained_model`); each
    snapshot of :func:`snapshot_steps` is recorded and given to ``progress`` as it is taken.
    ``cancelled`` is asked before every step (``TrainingCancelledError``).

    Always in ONE torch thread (set for the calling thread only, and put back): the sums of
    a step are then done in one order, so the same setup gives the same network whichever
    thread trains it (the frames endpoint's, with the process's threads, or a training
    stream's); the matrices are too small to gain from more threads anyway."""
    with one_thread():
        return _train(setup, progress, cancelled)


def _train(
    setup: UncertaintySetup,
    progress: Callable[[Snapshot], None] | None,
    cancelled: Callable[[], bool] | None,
) -> TrainedModel:
    run = _Run(setup)
    reported = set(snapshot_steps(setup))
    history = [run.snapshot()]
    if progress is not None:
        progress(history[-1])
    for step in range(1, setup.steps + 1):
        if cancelled is not None and cancelled():
            raise TrainingCancelledError
        run.step()
        if step in reported:
            history.append(run.snapshot())
            if progress is not None:
                progress(history[-1])
    run.network.eval()
    for parameter in run.network.parameters():
        parameter.requires_grad_(False)
    return TrainedModel(setup, run.network, run.data, tuple(history))


# ---------------------------------------------------------------- the cache


def _train_remembered(
    setup: UncertaintySetup, publish: Publish[Snapshot], cancelled: Cancelled
) -> TrainedModel:
    return train(setup, progress=publish, cancelled=cancelled)


# The trained networks, one run per setup at a time (the frames and the training stream of a
# page share it), the last 16 remembered.
UNCERTAINTY_RUNS: Flights[UncertaintySetup, Snapshot, TrainedModel] = Flights(
    "uncertainty", _train_remembered, history=lambda model: model.history, size=16
)


def trained_model(
    setup: UncertaintySetup,
    *,
    progress: Callable[[Snapshot], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> TrainedModel:
    """The trained network of ``setup``, memoised (:data:`UNCERTAINTY_RUNS`), the same object
    for every caller; a caller asking for a setup that another is training follows that run.
    ``progress`` gets every snapshot: as it is taken, or all at once from the record when it
    was remembered. ``cancelled``: as :func:`train` (a cancelled run is not remembered).
    Without either, it trains only where training is allowed
    (:func:`dropouts.lab.flights.no_training`)."""
    if progress is None and cancelled is None:
        return UNCERTAINTY_RUNS.obtain(setup)
    return UNCERTAINTY_RUNS.get(setup, progress=progress, cancelled=cancelled)
