"""The ``T`` stochastic passes of Monte Carlo dropout (Gal & Ghahramani, ICML 2016) as ONE
batched forward (:func:`sample_passes`: BatchNorm folded, each pass's masks the columns of the
Linear after them), the deterministic answer of ``model.eval()``, and the Monte Carlo
statistics of the passes (:func:`predict`, :func:`running_estimate`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dropouts.lab.uncertainty_setup import BatchNormMode, Task
from dropouts.mc import MCPrediction, _classification_prediction, _regression_prediction
from dropouts.modules import Dropout


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
