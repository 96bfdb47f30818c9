"""The uncertainty view: Monte Carlo dropout (Gal & Ghahramani 2016) on a trained toy network.

The network is trained in the server, with dropout, on a 1-D regression with a gap in its
training data or on a 2-D classification (:mod:`dropouts.lab.uncertainty`; deterministic in its
setting and seed, memoised). Each frame then draws ``T`` stochastic passes and shows what Monte
Carlo dropout estimates from them:

- regression: the passes as curves (the first :data:`SHOWN_PASSES`), the predictive mean and
  the band of ±2 predictive standard deviations, ``sqrt(τ⁻¹ + (1/T) Σ ŷ_t² − mean²)`` with
  Gal & Ghahramani's ``τ = (1 − p) l² / (2Nλ)``, wider far from the data;
- classification: the averaged P(class 1) (the decision boundary), the predictive entropy
  ``H[mean]`` and the mutual information ``H[mean] − (1/T) Σ H[p_t]``, which is the part of
  the entropy due to the model (the masks disagree), not to the data (classes overlap).

Frame ``i`` is ONE Monte Carlo estimate: its ``T`` passes come from ``frame_generator(seed,
i)`` alone, pass-major (:func:`dropouts.lab.uncertainty.draw_masks`). So any frame is computed on
its own (the player can jump, any worker can serve it), the animation shows the estimate's
sampling variability at this ``T`` (at T = 5 the band jitters from frame to frame, at T = 500
it holds still), and pass ``t`` of a frame is the same whatever ``T``: moving the T slider adds
passes to the same draw, and the band settles. (Accumulating passes across iterations instead
would make frame ``i`` cost ``i·T`` passes, or a replay, and tie ``T`` to the iteration.) Each
frame also carries the running estimate at a probe point over its passes ``t = 1 … T``.

The common mistakes of "use dropout at test time": with the frame's masks, the network with
BatchNorm in TRAINING mode (what ``model.train()`` does: each pass normalises with the
statistics of the points being predicted); and the deterministic network's single answer
(``model.eval()``: dropout off) next to the Monte Carlo mean.

The theory holds what does not change between frames: the data, the deterministic answer,
``τ``, and a reference estimate from :data:`REFERENCE_PASSES` passes (its own stream) at the
probes and regions whose numbers the frames report, with the expectation of each number at
this ``T`` (the ``1/T`` variance is biased low by ``(T − 1)/T``). The passes and their statistics:
:mod:`dropouts.lab.views.uncertainty_stats`; the reference: ``uncertainty_reference``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor

from dropouts.lab import uncertainty as U
from dropouts.lab.registry import ParamValue
from dropouts.lab.trained.uncertainty import TRAINING
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
from dropouts.lab.views.uncertainty_reference import (
    PROBES,
    REGIONS,
    TEST_REFERENCE_PASSES,
    Reference,
    UncertaintyTheory,
    class_regions,
    expected_std,
    reference_estimate,
    split_by_region,
)
from dropouts.lab.views.uncertainty_stats import (
    DIGITS,
    class_statistics,
    display_bytes,
    entropy_of,
    passes,
    rounded,
)

__all__ = ["PROBES", "VIEW", "UncertaintyView", "display_bytes"]


SHOWN_PASSES = 100  # curves sent per frame (the statistics use all T)
PROBE_LABELS: tuple[str, ...] = (
    "beyond the data, x = −4.5",
    "in the data, x = −2",
    "in the gap, x = 0",
    "in the data, x = 2",
    "beyond the data, x = 4.5",
)
RUNNING_PROBES = (2, 3)  # indices into PROBES: the gap's centre and a point in the data
REGION_LABELS = {
    "data": "on the training points",
    "between": "between the classes",
    "far": "far from the data",
}


class UncertaintyView(View[UncertaintyTheory]):
    """Monte Carlo dropout's predictive mean and uncertainty on a trained toy network."""

    id: ClassVar[str] = "uncertainty"
    methods: ClassVar[tuple[str, ...]] = ("mc_dropout",)
    needs_image: ClassVar[bool] = False
    training = TRAINING

    def __init__(self) -> None:
        self._theories: OrderedDict[Any, UncertaintyTheory] = OrderedDict()

    def scene(self, picture: Tensor | None) -> Scene:
        del picture  # the view draws no picture
        return Scene(None, {})

    def theory(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> UncertaintyTheory:
        self.check_method(method_id)
        key = (seed, tuple(sorted((k, str(v)) for k, v in params.items())))
        cached = self._theories.get(key)
        if cached is not None:
            self._theories.move_to_end(key)
            return cached
        with U.one_thread():
            theory = self._theory(params, seed)
        self._theories[key] = theory
        while len(self._theories) > 64:
            self._theories.popitem(last=False)
        return theory

    def _theory(self, params: Mapping[str, ParamValue], seed: int) -> UncertaintyTheory:
        setup = U.UncertaintySetup.from_params(params, seed)
        model = U.trained_model(setup)
        reference = reference_estimate(setup)
        T = int(number(params, "T"))
        lengthscale = number(params, "lengthscale")
        determined = U.deterministic(model.network, model.data.grid)
        last = model.history[-1]
        common: dict[str, Json] = {
            "task": setup.task,
            "T": T,
            "p": setup.p,
            "unit": "unit",
            "expected_dropped_fraction": setup.p,
            "n_train": setup.n_train,
            "noise": setup.noise,
            "weight_decay": setup.weight_decay,
            "lengthscale": lengthscale,
            "network": {"width": setup.width, "depth": setup.depth, "batch_norm": True},
            "training": {
                "steps": setup.steps,
                "train_loss": round(last.train_loss, DIGITS),
                "test_loss": round(last.test_loss, DIGITS),
                "train_accuracy": last.train_accuracy,
                "test_accuracy": last.test_accuracy,
            },
            "reference_passes": reference.passes,
            "shown_passes": min(T, SHOWN_PASSES),
            "train": {
                "x": rounded(model.data.x_train),
                "y": rounded(model.data.y_train)
                if setup.task == "regression"
                else model.data.y_train.tolist(),
            },
        }
        if setup.task == "regression":
            tau = U.tau(setup.p, lengthscale, setup.n_train, setup.weight_decay)
            return UncertaintyTheory(
                setup, model, T, lengthscale, tau, reference, None, determined[:, 0],
                common | self._regression_json(model, reference, tau, T, determined[:, 0]),
            )  # fmt: skip
        regions = class_regions(model)
        probability = torch.softmax(determined.double(), dim=-1)[:, 1]
        grid_map = probability.reshape(U.CLASS_GRID, U.CLASS_GRID)
        return UncertaintyTheory(
            setup, model, T, lengthscale, None, reference, regions, grid_map,
            common | self._class_json(model, reference, regions, grid_map, T),
        )  # fmt: skip

    def _regression_json(
        self,
        model: U.TrainedModel,
        reference: Reference,
        tau: float,
        T: int,
        determined: Tensor,
    ) -> dict[str, Json]:
        grid = model.data.grid[:, 0]
        tau_inverse = 1.0 / tau
        expected = [
            expected_std(tau_inverse, variance, T)
            for variance in reference.values["model_variance"]
        ]
        # The drawing's y range: the reference band at the probes (as T grows without bound:
        # the range does not move with the T slider), the data and the truth.
        limit = [math.sqrt(tau_inverse + v) for v in reference.values["model_variance"]]
        low = min(
            float(model.data.y_train.min()),
            -1.0,
            *(m - 2.5 * s for m, s in zip(reference.values["mean"], limit, strict=True)),
        )
        high = max(
            float(model.data.y_train.max()),
            1.0,
            *(m + 2.5 * s for m, s in zip(reference.values["mean"], limit, strict=True)),
        )
        low, high = (
            max(-6.0, math.floor(low * 2 - 0.5) / 2),
            min(6.0, math.ceil(high * 2 + 0.5) / 2),
        )
        return {
            "tau": tau,
            "tau_inverse": tau_inverse,
            "grid": rounded(grid),
            "truth": rounded(U.sine(grid)),
            "domain": list(U.DOMAIN),
            "gap": list(U.GAP),
            "y_range": [low, high],
            "deterministic": rounded(determined),
            "probes": {
                "x": list(PROBES),
                "labels": list(PROBE_LABELS),
                "reference_mean": reference.values["mean"],
                "reference_model_variance": reference.values["model_variance"],
                "expected_std": expected,
                "running": [PROBES[k] for k in RUNNING_PROBES],
            },
        }

    def _class_json(
        self,
        model: U.TrainedModel,
        reference: Reference,
        regions: dict[str, Tensor],
        grid_map: Tensor,
        T: int,
    ) -> dict[str, Json]:
        values = reference.values
        return {
            "tau": None,
            "dataset": model.setup.dataset,
            "grid": U.CLASS_GRID,
            "extent": list(model.data.extent),
            "deterministic": rounded(grid_map, 3),
            "regions": {
                name: {
                    "label": REGION_LABELS[name],
                    "points": int(regions[name].sum()),
                    "reference_entropy": values[f"entropy_{name}"][0],
                    "reference_mutual_information": values[f"mutual_information_{name}"][0],
                }
                for name in REGIONS
            },
            "between": regions["between"].reshape(U.CLASS_GRID, U.CLASS_GRID).int().tolist(),
            "max_entropy": math.log(2.0),
            "reference_test_accuracy": values["test_accuracy"][0],
            "reference_test_passes": TEST_REFERENCE_PASSES,
        }

    def theory_json(self, theory: UncertaintyTheory) -> dict[str, Json]:
        return theory.json

    def expected_dropped_fraction(
        self, method_id: str, params: Mapping[str, ParamValue], scene: Scene, *, seed: int = 0
    ) -> float:
        return number(params, "p")

    # ------------------------------------------------------------ frames

    def frame(
        self,
        method_id: str,
        params: Mapping[str, ParamValue],
        seed: int,
        iteration: int,
        scene: Scene,
        theory: UncertaintyTheory,
    ) -> Frame:
        with U.one_thread():
            return self._frame(seed, iteration, theory)

    def _frame(self, seed: int, iteration: int, theory: UncertaintyTheory) -> Frame:
        model = theory.model
        masks = U.draw_masks(model.network, theory.T, frame_generator(seed, iteration))
        kept = sum(int(mask.sum()) for mask in masks)
        units = sum(mask.numel() for mask in masks)
        stats: dict[str, Json] = {"dropped_fraction": 1.0 - kept / units if units else 0.0}
        if theory.setup.task == "regression":
            return self._regression_frame(theory, masks, iteration, stats)
        return self._class_frame(theory, masks, iteration, stats)

    def _regression_frame(
        self,
        theory: UncertaintyTheory,
        masks: list[Tensor],
        iteration: int,
        stats: dict[str, Json],
    ) -> Frame:
        model = theory.model
        assert theory.tau is not None
        tau_inverse = 1.0 / theory.tau
        grid = model.data.grid
        inputs = torch.cat([grid, torch.tensor(PROBES)[:, None]])
        outputs = passes(model, inputs, masks)[..., 0]
        prediction = U.predict(outputs[..., None], "regression", theory.tau)
        mean, std = prediction.mean, prediction.std
        g = grid.shape[0]
        x = grid[:, 0].abs()
        data = (x >= U.GAP[1]) & (x <= U.DOMAIN[1])
        stats |= {
            "probe_mean": rounded(mean[g:]),
            "probe_std": rounded(std[g:]),
            "std_data": round(float(std[:g][data].mean()), DIGITS),
            "std_gap": round(float(std[:g][x < U.GAP[1]].mean()), DIGITS),
            "std_beyond": round(float(std[:g][x > U.DOMAIN[1]].mean()), DIGITS),
        }
        wrong = U.predict(
            U.sample_passes(model.network, grid, masks, batch_norm="train"),
            "regression",
            theory.tau,
        )
        stats["batch_norm_train_error"] = round(float((wrong.mean - mean[:g]).abs().mean()), DIGITS)
        running_mean, running_variance = U.running_estimate(
            outputs[:, [g + k for k in RUNNING_PROBES]]
        )
        low, high = theory.json["y_range"]
        shown = outputs[:SHOWN_PASSES, :g].double().clamp(low, high) - low
        arrays: dict[str, Array] = {
            "passes": display_bytes(shown[None]),
            "band": JsonArray({"mean": rounded(mean[:g]), "std": rounded(std[:g])}),
            "batch_norm_train": JsonArray({"mean": rounded(wrong.mean), "std": rounded(wrong.std)}),
            "running": JsonArray(
                {
                    "mean": rounded(running_mean.T),
                    "std": rounded((running_variance + tau_inverse).sqrt().T),
                }
            ),
        }
        return Frame(iteration, stats, arrays)

    def _class_frame(
        self,
        theory: UncertaintyTheory,
        masks: list[Tensor],
        iteration: int,
        stats: dict[str, Json],
    ) -> Frame:
        model = theory.model
        assert theory.regions is not None
        grid = model.data.grid
        g = grid.shape[0]
        everything = class_statistics(model, torch.cat([grid, model.data.x_train]), masks)
        for kind, values in split_by_region(everything, theory.regions).items():
            for name, value in values.items():
                stats[f"{kind}_{name}"] = round(value, DIGITS)
        size = U.CLASS_GRID
        maps = torch.stack(
            [
                everything.mean[:g, 1],
                everything.predictive_entropy[:g],
                everything.mutual_information[:g],
            ]
        ).reshape(3, size, size)
        logits = U.sample_passes(model.network, grid, masks, batch_norm="train")
        wrong = torch.softmax(logits, dim=-1).mean(dim=0, dtype=torch.float64)[:, 1]
        stats["batch_norm_train_error"] = round(
            float((wrong - everything.mean[:g, 1]).abs().mean()), DIGITS
        )
        # The running estimate at the "between" point nearest the data's centre.
        arrays: dict[str, Array] = {
            "maps": display_bytes(maps),
            "batch_norm_train": display_bytes(wrong.reshape(1, size, size)),
            "running": JsonArray(self._class_running(theory, masks)),
        }
        return Frame(iteration, stats, arrays)

    def _class_running(self, theory: UncertaintyTheory, masks: list[Tensor]) -> dict[str, Json]:
        """Predictive entropy and mutual information over the first t passes, t = 1 … T, at
        the point between the classes nearest the training data's centre."""
        model = theory.model
        assert theory.regions is not None
        between = model.data.grid[theory.regions["between"]]
        if between.shape[0] == 0:
            return {"point": None, "entropy": [], "mutual_information": []}
        centre = model.data.x_train.mean(dim=0)
        point = between[(between - centre).norm(dim=1).argmin()][None]
        logits = passes(model, point, masks)[:, 0]
        probabilities = torch.softmax(logits.double(), dim=-1)
        t = torch.arange(1, probabilities.shape[0] + 1, dtype=torch.float64)[:, None]
        mean = probabilities.cumsum(dim=0) / t
        predictive = entropy_of(mean)
        expected = entropy_of(probabilities).cumsum(dim=0) / t[:, 0]
        return {
            "point": rounded(point[0]),
            "entropy": rounded(predictive),
            "mutual_information": rounded((predictive - expected).clamp(min=0.0)),
        }


VIEW = UncertaintyView()
