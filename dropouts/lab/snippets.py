""" "Copy as code": a method's current setting in torch, keras, timm, torchvision, albumentations.

Each snippet is a template filled from the registry parameters (plus a few derived values,
such as the Keras ``rate`` that gives a chosen Gaussian sigma). The notes say where another
library's behaviour differs from the paper's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dropouts.lab.registry import ParamValue


@dataclass(frozen=True)
class Snippet:
    framework: str
    label: str
    code: str
    note: str = ""


def _fmt(value: ParamValue) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


def _seeded(seed: int) -> str:
    return f"torch.Generator().manual_seed({seed})"


Builder = Callable[[Mapping[str, ParamValue], int], list[Snippet]]


def _standard(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    p, inverted = _fmt(v["p"]), v["scaling"] == "inverted"
    ours = Snippet(
        "dropouts",
        "dropouts",
        "from dropouts import functional as F\n"
        f"y, mask = F.dropout(x, p={p}, scale={inverted}, generator={_seeded(seed)}, "
        "return_mask=True)",
    )
    if not inverted:
        note = "torch and keras only implement the inverted form (scale while training)."
        return [ours, Snippet("torch", "PyTorch", f"torch.nn.Dropout(p={p})", note)]
    return [
        Snippet("torch", "PyTorch", f"torch.nn.Dropout(p={p})"),
        Snippet("keras", "Keras", f"keras.layers.Dropout(rate={p})"),
        ours,
    ]


def _gaussian(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    sigma = v["sigma"]
    if sigma is None:
        rate = float(v["p"])  # type: ignore[arg-type]
        ours_args = f"p={_fmt(v['p'])}"
    else:
        s2 = float(sigma) ** 2
        rate = s2 / (1.0 + s2)  # keras: stddev = sqrt(rate / (1 - rate)) = sigma
        ours_args = f"sigma={_fmt(sigma)}"
    return [
        Snippet("keras", "Keras", f"keras.layers.GaussianDropout(rate={rate:.6g})",
                "Keras' stddev is sqrt(rate / (1 - rate))."),
        Snippet("dropouts", "dropouts", "from dropouts import functional as F\n"
                f"y = F.gaussian_dropout(x, {ours_args}, generator={_seeded(seed)})"),
        Snippet("torch", "PyTorch", "# no built-in layer; the same noise by hand:\n"
                f"y = x * (1 + {_fmt(sigma) if sigma is not None else _gaussian_std_expr(rate)} "
                "* torch.randn_like(x))"),
    ]  # fmt: skip


def _gaussian_std_expr(rate: float) -> str:
    return f"({rate:.6g} / (1 - {rate:.6g})) ** 0.5"


def _alpha(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    p = _fmt(v["p"])
    return [
        Snippet("torch", "PyTorch", f"torch.nn.AlphaDropout(p={p})"),
        Snippet("keras", "Keras", f"keras.layers.AlphaDropout(rate={p})"),
        Snippet("dropouts", "dropouts", f"dropouts.AlphaDropout({p}, generator={_seeded(seed)})"),
    ]


def _spatial(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    p, inverted = _fmt(v["p"]), v["scaling"] == "inverted"
    return [
        Snippet("torch", "PyTorch", f"torch.nn.Dropout2d(p={p})",
                "Needs (N, C, H, W): a 3-D input is read as (N, C, L), not as one image."),
        Snippet("keras", "Keras", f"keras.layers.SpatialDropout2D(rate={p})",
                "Channels last by default: the mask is (N, 1, 1, C)."),
        Snippet("dropouts", "dropouts", "from dropouts import functional as F\n"
                f"y = F.spatial_dropout(x, p={p}, scale={inverted}, generator={_seeded(seed)})"),
    ]  # fmt: skip


def _cutout(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    size, holes = _fmt(v["size"]), _fmt(v["n_holes"])
    return [
        Snippet("albumentations", "albumentations",
                f"A.CoarseDropout(num_holes_range=({holes}, {holes}), "
                f"hole_height_range=({size}, {size}), hole_width_range=({size}, {size}), "
                "fill=0, p=1.0)",
                "albumentations 2.x names; it places holes by its own rule, while the paper "
                "lets a hole's centre be anywhere, so it may be cut by the border."),
        Snippet("torchvision", "torchvision",
                "# one hole, fully inside, its area given as a fraction of the image x (C, H, W):\n"
                f"a = {size}**2 / (x.shape[-2] * x.shape[-1])\n"
                "y = T.RandomErasing(p=1.0, scale=(a, a), ratio=(1.0, 1.0), value=0)(x)"),
        Snippet("dropouts", "dropouts", "from dropouts import functional as F\n"
                f"y = F.cutout(x, {size}, n_holes={holes}, generator={_seeded(seed)})"),
    ]  # fmt: skip


def _dropblock(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    p, block = _fmt(v["p"]), _fmt(v["block_size"])
    return [
        Snippet("timm", "timm", f"timm.layers.DropBlock2d(drop_prob={p}, block_size={block}, "
                "fast=False)", "timm's default fast=True lets blocks hang over the border."),
        Snippet("torchvision", "torchvision",
                f"torchvision.ops.DropBlock2d(p={p}, block_size={block})",
                "Use an odd block_size with torchvision."),
        Snippet("dropouts", "dropouts", "from dropouts import functional as F\n"
                f"y = F.dropblock(x, p={p}, block_size={block}, generator={_seeded(seed)})"),
    ]  # fmt: skip


def _droppath(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    p, mode = _fmt(v["p"]), _fmt(v["mode"])
    return [
        Snippet("timm", "timm", f"timm.layers.DropPath(drop_prob={p})", "One gate per sample."),
        Snippet("torchvision", "torchvision",
                f"torchvision.ops.StochasticDepth(p={p}, mode={mode})"),
        Snippet("dropouts", "dropouts", f"dropouts.DropPath({p}, mode={mode}, "
                f"generator={_seeded(seed)})  # out = x + drop_path(f(x))"),
    ]  # fmt: skip


def _ours_only(code: str) -> Builder:
    """A ``dropouts``-only snippet: ``{seed}`` is a seeded generator, ``{seed_value}`` the int."""

    def build(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
        values = {name: _fmt(value) for name, value in v.items()}
        return [
            Snippet(
                "dropouts", "dropouts", code.format(seed=_seeded(seed), seed_value=seed, **values)
            )
        ]

    return build


def _variational(v: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    p, p_input = _fmt(v["p"]), _fmt(v["p_input"])
    return [
        Snippet("keras", "Keras", f"keras.layers.LSTM(units, dropout={p_input}, "
                f"recurrent_dropout={p})", "Keras' recurrent_dropout is Gal & Ghahramani's."),
        Snippet("dropouts", "dropouts", f"dropouts.rnn.DropoutLSTM(input_size, hidden_size, "
                f"mode='variational', p={p}, p_input={p_input}, generator={_seeded(seed)})"),
    ]  # fmt: skip


BUILDERS: dict[str, Builder] = {
    "standard": _standard,
    "gaussian": _gaussian,
    "alpha": _alpha,
    "spatial": _spatial,
    "cutout": _cutout,
    "dropblock": _dropblock,
    "droppath": _droppath,
    "variational_rnn": _variational,
    "dropconnect": _ours_only(
        "dropouts.DropConnectLinear(in_features, out_features, p={p}, "
        "inference={inference}, samples={samples}, generator={seed})"
    ),
    "standout": _ours_only(
        "dropouts.StandoutLinear(in_features, out_features, alpha={alpha}, beta={beta}, "
        "form={form}, generator={seed})"
    ),
    "maxpool": _ours_only(
        "dropouts.MaxPoolDropout({p}, kernel_size={kernel_size}, generator={seed})"
    ),
    "maxdrop": _ours_only("dropouts.MaxDrop({p}, mode={mode}, window={window}, generator={seed})"),
    "stochastic": _ours_only(
        "dropouts.StochasticDropout(mu={mu}, sigma={sigma}, generator={seed})  # sigma: std"
    ),
    "rnndrop": _ours_only(
        "dropouts.rnn.DropoutLSTM(input_size, hidden_size, mode='rnndrop', p={p}, generator={seed})"
    ),
    "recurrent": _ours_only(
        "dropouts.rnn.DropoutLSTM(input_size, hidden_size, mode='recurrent', p={p}, "
        "per_sequence={per_sequence}, generator={seed})"
    ),
    "zoneout": _ours_only(
        "dropouts.rnn.DropoutLSTM(input_size, hidden_size, mode='zoneout', "
        "zoneout_c={zoneout_c}, zoneout_h={zoneout_h}, generator={seed})"
    ),
    "mc_dropout": _ours_only(
        "# model: any network with dropout layers of p={p}\n"
        "prediction = dropouts.mc.mc_predict(model, x, T={T}, seed={seed_value})\n"
        "prediction.mean, prediction.std"
    ),
    "compression": _ours_only(
        "layer = dropouts.sparse.LinearSVDO(in_features, out_features, threshold={threshold})"
    ),
}


# The imports a snippet's code needs, found by the names it uses.
IMPORTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?<![\w.]){re.escape(name)}\."), line)
    for name, line in (
        ("torch", "import torch"),
        ("torchvision", "import torchvision"),
        ("T", "from torchvision import transforms as T"),
        ("keras", "import keras"),
        ("timm", "import timm"),
        ("A", "import albumentations as A"),
        ("dropouts", "import dropouts"),
    )
)


def with_imports(snippet: Snippet) -> Snippet:
    """``snippet`` with the imports its code needs on top, so it runs as pasted."""
    needed = [
        line for used, line in IMPORTS if used.search(snippet.code) and line not in snippet.code
    ]
    if not needed:
        return snippet
    code = "\n".join([*needed, snippet.code])
    return Snippet(snippet.framework, snippet.label, code, snippet.note)


def snippets(method_id: str, params: Mapping[str, ParamValue], seed: int) -> list[Snippet]:
    """The snippets of ``method_id`` with validated ``params`` filled in, imports included."""
    return [with_imports(snippet) for snippet in BUILDERS[method_id](params, seed)]
