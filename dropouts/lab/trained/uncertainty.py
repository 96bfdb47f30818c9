"""The uncertainty view's training: the small network trained with dropout whose Monte Carlo
passes estimate the predictive distribution (:mod:`dropouts.lab.uncertainty`; Gal and
Ghahramani, 2016, "Dropout as a Bayesian Approximation: Representing Model Uncertainty in Deep
Learning", ICML).

Its events:

- ``info`` at once, before any training step: the setup, ``τ``, the snapshot steps and the
  data (the page plots the points while the network trains);
- ``snapshot`` at step 0 and then every few steps: the eval-mode losses (and accuracies), the
  training objective, and the Monte Carlo estimate of 20 passes on the grid;
- ``done`` ``{"step"}`` after the last step.

The network is the one the frames of the uncertainty view use: both go through
:data:`dropouts.lab.uncertainty.UNCERTAINTY_RUNS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from dropouts.lab import uncertainty as U
from dropouts.lab.flights import Admit
from dropouts.lab.registry import ParamValue
from dropouts.lab.trained.base import (
    DECIMALS,
    Post,
    Stopped,
    Stream,
    Training,
    follow,
    needs_training,
)


def _rounded(values: Any, decimals: int = DECIMALS) -> Any:
    return values.double().round(decimals=decimals).tolist()


def info_json(setup: U.UncertaintySetup, data: U.Data, lengthscale: float) -> dict[str, Any]:
    """The ``info`` event: the setup under the registry's names, ``tau`` and ``tau_inverse``
    (regression; null for classification), the snapshot steps, the training and test points
    (``{"x": [[…], …], "y": […]}``), and the grid: the x values of the curves (regression) or
    ``grid`` (its side) and ``extent`` ``[x_min, x_max, y_min, y_max]`` (classification)."""
    regression = setup.task == "regression"
    tau = U.tau(setup.p, lengthscale, setup.n_train, setup.weight_decay) if regression else None

    def points(x: Any, y: Any) -> dict[str, Any]:
        return {"x": _rounded(x), "y": _rounded(y) if regression else y.tolist()}

    info: dict[str, Any] = {
        "task": setup.task,
        "p": setup.p,
        "training": {
            "n_train": setup.n_train,
            "noise": setup.noise,
            "dataset": setup.dataset,
            "steps": setup.steps,
            "weight_decay": setup.weight_decay,
            "lengthscale": lengthscale,
        },
        "network": {"width": setup.width, "depth": setup.depth, "lr": setup.lr},
        "seed": setup.seed,
        "tau": tau,
        "tau_inverse": None if tau is None else 1.0 / tau,
        "snapshot_passes": U.SNAPSHOT_PASSES,
        "steps": setup.steps,
        "snapshot_steps": list(U.snapshot_steps(setup)),
        "train": points(data.x_train, data.y_train),
        "test": points(data.x_test, data.y_test),
    }
    if regression:
        grid = data.grid[:, 0]
        return info | {
            "grid": _rounded(grid),
            "truth": _rounded(U.sine(grid)),
            "gap": list(U.GAP),
            "domain": list(U.DOMAIN),
        }
    return info | {"grid": U.CLASS_GRID, "extent": list(data.extent)}


def snapshot_json(snapshot: U.Snapshot, task: str) -> dict[str, Any]:
    """The ``snapshot`` event: ``step``, the eval-mode ``train_loss`` and ``test_loss`` (mean
    squared error, or cross-entropy with ``train_accuracy`` and ``test_accuracy``), the
    ``objective`` of the last step (null at step 0), and the Monte Carlo estimate of the
    snapshot's passes: ``mean`` and ``std`` on the grid (regression: the model's spread,
    without τ⁻¹), or ``boundary``, the averaged P(class 1) in whole percents, G rows (y up)
    of G values (x right)."""

    def value(number: float | None) -> float | None:
        return None if number is None else round(number, DECIMALS)

    out: dict[str, Any] = {
        "step": snapshot.step,
        "train_loss": value(snapshot.train_loss),
        "test_loss": value(snapshot.test_loss),
        "train_accuracy": value(snapshot.train_accuracy),
        "test_accuracy": value(snapshot.test_accuracy),
        "objective": value(snapshot.objective),
    }
    if task == "regression":
        return out | {"mean": _rounded(snapshot.mean), "std": _rounded(snapshot.std)}
    return out | {"boundary": snapshot.mean.mul(100).round().int().tolist()}


class UncertaintyTraining(Training):
    """The network of :class:`~dropouts.lab.uncertainty.UncertaintySetup` (``mc_dropout``)."""

    default_method: ClassVar[str | None] = "mc_dropout"
    summary: ClassVar[str] = "the uncertainty view's network with dropout"

    def stream(self, method_id: str | None, params: Mapping[str, ParamValue], seed: int) -> Stream:
        setup = U.UncertaintySetup.from_params(params, seed)
        lengthscale = float(params["lengthscale"])  # type: ignore[arg-type]
        data = U.make_data(setup)

        def work(post: Post, stopped: Stopped, admit: Admit) -> None:
            def event(snapshot: U.Snapshot) -> tuple[str, dict[str, Any]]:
                return "snapshot", snapshot_json(snapshot, setup.task)

            model = follow(U.UNCERTAINTY_RUNS, setup, post, stopped, admit, event)
            if not stopped():
                post("done", {"step": model.history[-1].step})

        first = [("info", info_json(setup, data, lengthscale))]
        return Stream(first, work, trains=needs_training(U.UNCERTAINTY_RUNS, setup))


TRAINING = UncertaintyTraining()
