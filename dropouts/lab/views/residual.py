"""The residual view: DropPath (stochastic depth, Huang et al. 2016) on a stack of residual blocks.

Huang, Sun, Liu, Sedra & Weinberger 2016, "Deep Networks with Stochastic Depth" (ECCV): the gate
per block, the linear decay of the survival probability, the expected depth. The name
"drop-path" is from Larsson, Maire & Shakhnarovich 2017, "FractalNet: Ultra-Deep Neural Networks
without Residuals" (ICLR), where it drops inputs of a fractal block's joins (local) or keeps one
column (global): a different mechanism; timm and torchvision use the name for Huang's per-sample
gate on a residual branch, which is what this view shows.

A batch of ``batch`` samples goes through ``blocks`` residual blocks. While training, block
``l`` computes ``H_l = H_{l-1} + (b_l / s_l) f_l(H_{l-1})``: its branch ``f_l`` survives with
probability ``s_l`` (gate ``b_l`` ~ Bernoulli(``s_l``), drawn by
:func:`dropouts.functional.drop_path`, ``1 / s_l`` the inverted scaling) and the shortcut always
does, so a dropped block passes its input through unchanged. ``mode="row"`` draws one gate per
sample and block, ``mode="batch"`` one per block for the whole batch (Huang's original). The
survival over depth is :func:`dropouts.functional.stochastic_depth_survival`: constant, or
Huang's linear decay with ``p`` the last block's drop probability. At test time every branch is
there, unscaled: ``H_l = H_{l-1} + f_l(H_{l-1})``.

The activations are real ones of the current picture:

- the samples are :data:`SIDE` x :data:`SIDE` squares of the feature maps of the feature-map
  view's stage (:mod:`dropouts.lab.views.features`: eight fixed filters, ReLU, 2 x 2 max pooling),
  the most active squares of a lattice (each sample a patch of 2 :data:`SIDE` stage pixels);
- each branch ``f_l`` is conv 3 x 3 (8 -> 8 channels), ReLU, conv 3 x 3 (8 -> 8), zero padding,
  with fixed weights: He-initialised from a seeded generator, the second convolution scaled by
  :data:`BRANCH_GAIN` so that a branch adds 15-40 % of its input's norm (a fifth on average on
  the cat; the 8 blocks together grow it by a fifth), as a residual stack at its initialisation
  keeps its branches small next to the shortcut. Block ``l`` has the
  same weights whatever ``blocks`` and the page's seed: the network is not trained, it is a
  residual stack at its initialisation, with real activations flowing through it;
- the output shown is ``|H_L|``, the norm over the 8 channels at each position, for the
  training pass (this iteration's gates) and the test-time pass (every branch).

The theory also holds the mean of :data:`ENSEMBLE` training passes (their own fixed stream,
independent of the page's seed), to measure how far the test-time network lies from the
average of the sub-networks that training samples (exactly equal block by block,
``E[(b_l / s_l) f_l(x)] = f_l(x)``, only approximately through the nonlinear stack).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from dropouts import functional as F
from dropouts.lab.registry import ParamValue
from dropouts.lab.views.base import (
    Array,
    Frame,
    Json,
    JsonArray,
    Scene,
    View,
    frame_generator,
    number,
)
from dropouts.lab.views.features import POOL, run_stage
from dropouts.lab.views.residual_network import (
    CHANNELS,
    Mode,
    display_bytes,
    draw_gates,
    forward,
    network,
    relative_change,
)
from dropouts.lab.views.residual_samples import MAX_BATCH, SIDE, ResidualScene, choose_samples

__all__ = ["RESIDUAL_METHODS", "VIEW", "ResidualScene", "ResidualTheory", "ResidualView"]

RESIDUAL_METHODS: tuple[str, ...] = ("droppath",)
ENSEMBLE = 32  # training passes averaged in the theory
THEORY_SEED = 7
ENSEMBLE_ITERATION = 10**9
THEORIES = 32  # theories remembered (the ensemble costs tens of ms)


# ---------------------------------------------------------------- the theory


@dataclass(frozen=True)
class ResidualTheory:
    blocks: int
    batch: int
    mode: Mode
    rule: str
    p: float
    survival: tuple[float, ...]
    expected_depth: float
    depth_sd: float
    expected_dropped_fraction: float
    inputs: Tensor  # (batch, C, S, S)
    test: Tensor  # (batch, C, S, S): H_L of the test-time network
    scale: Tensor  # (batch,): the display scale of each sample's output (its test-time max)
    test_bytes: list[str]
    ensemble_change: tuple[float, ...]  # per sample: |mean of ENSEMBLE passes - test| / |test|
    single_change: tuple[float, ...]  # per sample: mean over those passes of |pass - test| / |test|


def setting(method_id: str, params: Mapping[str, ParamValue]) -> tuple[int, int, Mode, str, float]:
    """``(blocks, batch, mode, rule, p)`` from the method's and the view's parameters."""
    del method_id
    mode: Mode = "batch" if params.get("mode") == "batch" else "row"
    rule = "constant" if params.get("rule") == "constant" else "linear"
    blocks = int(number(params, "blocks"))
    batch = int(number(params, "batch"))
    if not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"batch must be 1 to {MAX_BATCH}, got {batch}")
    return blocks, batch, mode, rule, number(params, "p")


def survival_of(params: Mapping[str, ParamValue]) -> tuple[float, ...]:
    rule: Literal["constant", "linear"] = (
        "constant" if params.get("rule") == "constant" else "linear"
    )
    return F.stochastic_depth_survival(
        int(number(params, "blocks")), number(params, "p"), rule=rule
    )


def _factor(s: float) -> float | None:
    return 1.0 / s if s > 0 else None


class ResidualView(View[ResidualTheory]):
    """A batch of picture patches through a residual stack whose branches DropPath drops."""

    id: ClassVar[str] = "residual"
    methods: ClassVar[tuple[str, ...]] = RESIDUAL_METHODS

    def __init__(self) -> None:
        self._theories: OrderedDict[Any, ResidualTheory] = OrderedDict()
        self._lock = threading.Lock()

    def scene(self, picture: Tensor | None) -> Scene:
        if picture is None:
            raise ValueError("the residual view needs a picture")
        stage = run_stage(picture)
        inputs, origins = choose_samples(stage.maps)
        _, stage_height, stage_width = stage.picture.shape
        digest = hashlib.sha256(stage.picture.numpy().tobytes()).hexdigest()[:16]
        data = ResidualScene(inputs, origins, stage.picture, digest)
        # Where each sample lies in the picture, as fractions of its width and height.
        boxes = [
            [
                POOL * r / stage_height,
                POOL * c / stage_width,
                POOL * SIDE / stage_height,
                POOL * SIDE / stage_width,
            ]
            for r, c in origins
        ]
        info: dict[str, Json] = {
            "side": SIDE,
            "channels": CHANNELS,
            "stage_width": stage_width,
            "stage_height": stage_height,
            "pool": POOL,
            "samples": boxes,  # [top, left, height, width] as fractions of the picture
            "max_batch": MAX_BATCH,
        }
        return Scene(data, info)

    def expected_dropped_fraction(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> float:
        """The mean drop rate over the blocks (no forward pass: cheap for a search)."""
        self.check_method(method_id)
        survival = survival_of(params)
        return 1.0 - sum(survival) / len(survival)

    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> ResidualTheory:
        self.check_method(method_id)
        data: ResidualScene = scene.data
        blocks, batch, mode, rule, p = setting(method_id, params)
        key = (data.digest, blocks, batch, mode, rule, p)
        with self._lock:
            cached = self._theories.get(key)
            if cached is not None:
                self._theories.move_to_end(key)
                return cached
        theory = self._theory(data, blocks, batch, mode, rule, p, survival_of(params))
        with self._lock:
            self._theories[key] = theory
            while len(self._theories) > THEORIES:
                self._theories.popitem(last=False)
        return theory

    def _theory(
        self,
        data: ResidualScene,
        blocks: int,
        batch: int,
        mode: Mode,
        rule: str,
        p: float,
        survival: tuple[float, ...],
    ) -> ResidualTheory:
        stack = network(blocks)
        inputs = data.inputs[:batch]
        test = forward(stack, inputs, None)
        scale = torch.linalg.vector_norm(test, dim=1).flatten(1).amax(dim=1)
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        generator = frame_generator(THEORY_SEED, ENSEMBLE_ITERATION)
        gates = torch.cat([draw_gates(survival, batch, mode, generator) for _ in range(ENSEMBLE)])
        passes = forward(stack, inputs.repeat(ENSEMBLE, 1, 1, 1), gates)
        passes = passes.view(ENSEMBLE, batch, *passes.shape[1:])
        single = torch.stack([relative_change(one, test) for one in passes]).mean(dim=0)
        ensemble = relative_change(passes.mean(dim=0), test)
        return ResidualTheory(
            blocks=blocks,
            batch=batch,
            mode=mode,
            rule=rule,
            p=p,
            survival=survival,
            expected_depth=F.expected_depth(survival),
            depth_sd=math.sqrt(F.depth_variance(survival)),
            expected_dropped_fraction=1.0 - sum(survival) / blocks,
            inputs=inputs,
            test=test,
            scale=scale,
            test_bytes=display_bytes(test, scale),
            ensemble_change=tuple(float(v) for v in ensemble),
            single_change=tuple(float(v) for v in single),
        )

    def theory_json(self, theory: ResidualTheory) -> dict[str, Json]:
        survival = list(theory.survival)
        return {
            "unit": "branch",
            "mask_kind": "binary",
            "expected_dropped_fraction": theory.expected_dropped_fraction,
            "blocks": theory.blocks,
            "batch": theory.batch,
            "mode": theory.mode,
            "rule": theory.rule,
            "p": theory.p,
            "survival": survival,
            "drop": [1.0 - s for s in survival],
            "train_factor": [_factor(s) for s in survival],  # a kept branch's factor, 1 / s_l
            "test_factor": 1.0,  # identity at test time: every branch, unscaled
            "expected_depth": theory.expected_depth,
            "depth_sd": theory.depth_sd,
            "side": SIDE,
            "channels": CHANNELS,
            "test": {"outputs": theory.test_bytes, "scale": theory.scale.tolist()},
            "ensemble": {
                "passes": ENSEMBLE,
                "change": list(theory.ensemble_change),
                "single": list(theory.single_change),
                "change_mean": sum(theory.ensemble_change) / theory.batch,
                "single_mean": sum(theory.single_change) / theory.batch,
            },
        }

    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: ResidualTheory,
    ) -> Frame:
        self.check_method(method_id)
        gates = draw_gates(
            theory.survival, theory.batch, theory.mode, frame_generator(seed, iteration)
        )
        outputs = forward(network(theory.blocks), theory.inputs, gates)
        kept = gates != 0
        depth = kept.sum(dim=1)
        change = relative_change(outputs, theory.test)
        stats: dict[str, Json] = {
            "dropped_fraction": float((~kept).float().mean()),
            "depth_mean": float(depth.float().mean()),
            "depth_first": int(depth[0]),
            "output_change": float(change.mean()),
            "kept_per_block": [float(v) for v in kept.float().mean(dim=0)],
        }
        samples = [
            {"depth": int(d), "change": float(c), "output": out}
            for d, c, out in zip(
                depth.tolist(), change.tolist(), display_bytes(outputs, theory.scale), strict=True
            )
        ]
        arrays: dict[str, Array] = {
            "gates": JsonArray([[float(v) for v in row] for row in gates.tolist()]),
            "samples": JsonArray(samples),
        }
        return Frame(iteration, stats, arrays)


VIEW = ResidualView()
