"""One entry per method: what the web app, its API validation, its sliders and its docs show.

Adding a method is one function in :mod:`dropouts.functional` (or a module) and one
:class:`Method` here. Nothing in this file knows about HTTP; :func:`validate_params` raises
:class:`ParamError` naming the field and its allowed range, and the app turns that into a 4xx.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Family = Literal["dense", "convolutional", "recurrent", "inference"]
View = Literal[
    "image", "feature_maps", "pooling", "dense", "lstm", "uncertainty", "compression", "residual"
]
ParamKind = Literal["float", "int", "choice", "bool"]
ParamValue = float | int | str | bool | None

FAMILIES: tuple[Family, ...] = ("dense", "convolutional", "recurrent", "inference")


@dataclass(frozen=True)
class Paper:
    authors: str
    year: int
    title: str
    venue: str
    url: str

    def cite(self) -> str:
        return f"{self.authors} ({self.year}). {self.title}. {self.venue}."


@dataclass(frozen=True)
class Param:
    """One parameter: its API/URL name, the slider's label and range, and help text.

    ``kind="choice"`` takes one of ``choices``; ``kind="bool"`` a checkbox. A ``nullable``
    parameter accepts None, meaning "derived from the others" (e.g. Gaussian sigma from p).
    """

    name: str
    label: str
    default: ParamValue
    help: str
    kind: ParamKind = "float"
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False
    choice_labels: tuple[str, ...] = ()  # what each choice means, in words, if not obvious
    group: str = ""  # where the page shows it: "" with the method's controls, "training" …

    def allowed(self) -> str:
        """The allowed values, in words, for error messages."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        whole = "a whole number" if self.kind == "int" else "a number"
        extra = " or null" if self.nullable else ""
        return f"{whole} from {_number(self.min)} to {_number(self.max)}{extra}"


def _number(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Method:
    id: str
    name: str
    family: Family
    papers: tuple[Paper, ...]
    views: tuple[View, ...]
    summary: str
    formula: str
    test_time: str
    params: tuple[Param, ...]
    function: str
    notes: tuple[str, ...] = field(default=())

    @property
    def paper(self) -> Paper:
        return self.papers[0]

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def defaults(self) -> dict[str, ParamValue]:
        return {param.name: param.default for param in self.params}


class ParamError(ValueError):
    """A parameter value outside what the registry allows; ``field`` names the parameter."""

    def __init__(self, field_name: str, message: str, allowed: str) -> None:
        super().__init__(f"{field_name}: {message}; allowed: {allowed}")
        self.field = field_name
        self.message = message
        self.allowed = allowed


def _coerce(param: Param, value: object) -> ParamValue:
    if value is None or value == "":
        if param.nullable:
            return None
        raise ParamError(param.name, "a value is required", param.allowed())
    if param.kind == "choice":
        if str(value) not in param.choices:
            raise ParamError(param.name, f"{value!r} is not a choice", param.allowed())
        return str(value)
    if param.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ParamError(param.name, f"{value!r} is not a boolean", param.allowed())
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParamError(param.name, f"{value!r} is not a number", param.allowed()) from None
    if not math.isfinite(number):
        raise ParamError(param.name, f"{value!r} is not finite", param.allowed())
    if param.kind == "int" and not number.is_integer():
        raise ParamError(param.name, f"{value!r} is not a whole number", param.allowed())
    low = -math.inf if param.min is None else param.min
    high = math.inf if param.max is None else param.max
    if not low <= number <= high:
        raise ParamError(param.name, f"{value!r} is out of range", param.allowed())
    return int(number) if param.kind == "int" else number


def validate_values(
    params: tuple[Param, ...], values: Mapping[str, object], owner: str
) -> dict[str, ParamValue]:
    """Check ``values`` against ``params`` (of a method or a view, named ``owner`` in errors)
    and fill in the defaults.

    Unknown names raise :class:`ParamError` too, so that a typo in a URL is reported rather
    than silently ignored.
    """
    known = {param.name for param in params}
    for name in values:
        if name not in known:
            allowed = ", ".join(sorted(known)) or "no parameters"
            raise ParamError(name, f"unknown parameter for {owner}", allowed)
    return {
        param.name: _coerce(param, values[param.name]) if param.name in values else param.default
        for param in params
    }


def validate_params(method: Method, values: Mapping[str, object]) -> dict[str, ParamValue]:
    """Check ``values`` against the method's parameters and fill in the defaults."""
    return validate_values(method.params, values, method.id)


# ---------------------------------------------------------------- shared parameters


def _p(
    default: float, help_text: str, *, maximum: float = 1.0, label: str = "drop probability p"
) -> Param:
    return Param("p", label, default, help_text, min=0.0, max=maximum, step=0.01)


SEED = Param(
    "seed",
    "seed",
    0,
    "Seeds the random generator: the same seed gives the same masks on every machine.",
    kind="int",
    min=0,
    max=2**31 - 1,
    step=1,
)

_SCALING = Param(
    "scaling",
    "scaling",
    "inverted",
    "inverted: divide by 1 - p while training, identity at test time (torch, keras). "
    "original: no scaling while training, multiply by 1 - p at test time (the paper).",
    kind="choice",
    choices=("inverted", "original"),
)

# ---------------------------------------------------------------- papers

SRIVASTAVA = Paper(
    "N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever, R. Salakhutdinov",
    2014,
    "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
    "JMLR 15",
    "https://jmlr.org/papers/v15/srivastava14a.html",
)
HINTON = Paper(
    "G. Hinton, N. Srivastava, A. Krizhevsky, I. Sutskever, R. Salakhutdinov",
    2012,
    "Improving neural networks by preventing co-adaptation of feature detectors",
    "arXiv:1207.0580",
    "https://arxiv.org/abs/1207.0580",
)
GAL_RNN = Paper(
    "Y. Gal, Z. Ghahramani",
    2016,
    "A Theoretically Grounded Application of Dropout in Recurrent Neural Networks",
    "NeurIPS",
    "https://arxiv.org/abs/1512.05287",
)

# ---------------------------------------------------------------- the methods

METHODS: tuple[Method, ...] = (
    Method(
        id="standard",
        name="Standard dropout",
        family="dense",
        papers=(SRIVASTAVA, HINTON),
        views=("image", "feature_maps", "dense"),
        summary="Each unit is zeroed independently with probability p; the survivors are "
        "scaled up by 1/(1-p) so the expected output is unchanged.",
        formula=r"y = \frac{m \odot x}{1-p},\quad m_i \sim \mathrm{Bernoulli}(1-p)",
        test_time="Identity (inverted scaling), or multiply by 1 - p (the paper's scaling).",
        params=(
            _p(
                0.5,
                "Probability that each unit is dropped. The paper used 0.5 for hidden "
                "units and 0.2 for inputs.",
            ),
            _SCALING,
        ),
        function="dropouts.functional.dropout",
        notes=(
            "Neighbouring pixels are correlated, so dropping single pixels removes little "
            "information: the picture stays readable even at high p.",
        ),
    ),
    Method(
        id="gaussian",
        name="Gaussian dropout",
        family="dense",
        papers=(
            SRIVASTAVA,
            Paper(
                "S. Wang, C. Manning",
                2013,
                "Fast dropout training",
                "ICML",
                "https://proceedings.mlr.press/v28/wang13a.html",
            ),
            Paper(
                "D. Kingma, T. Salimans, M. Welling",
                2015,
                "Variational Dropout and the Local Reparameterization Trick",
                "NeurIPS",
                "https://arxiv.org/abs/1506.02557",
            ),
        ),
        views=("image", "feature_maps", "dense"),
        summary="Every unit is multiplied by noise drawn from N(1, σ²): nothing is ever fully "
        "off, but the mean and variance match Bernoulli dropout when σ² = p/(1-p).",
        formula=r"y = x \odot \xi,\quad \xi_i \sim \mathcal{N}(1, \sigma^2),\quad "
        r"\sigma^2 = \frac{p}{1-p}",
        test_time="Identity (the noise has mean 1).",
        params=(
            _p(0.5, "Sets σ² = p/(1-p) when σ is left on auto.", maximum=0.95),
            Param(
                "sigma",
                "noise std σ",
                None,
                "Standard deviation of the multiplicative noise. Leave empty (auto) to use "
                "sqrt(p/(1-p)).",
                min=0.0,
                max=3.0,
                step=0.01,
                nullable=True,
            ),
        ),
        function="dropouts.functional.gaussian_dropout",
    ),
    Method(
        id="alpha",
        name="Alpha dropout",
        family="dense",
        papers=(
            Paper(
                "G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter",
                2017,
                "Self-Normalizing Neural Networks",
                "NeurIPS",
                "https://arxiv.org/abs/1706.02515",
            ),
        ),
        views=("dense",),
        summary="For SELU networks: dropped units are set to SELU's saturation value α′ and an "
        "affine map restores mean 0 and variance 1.",
        formula=r"y = a\,(x \odot d + \alpha'(1-d)) + b,\quad a = ((1-p)(1+p\alpha'^2))^{-1/2},"
        r"\quad b = -a\alpha' p",
        test_time="Identity.",
        params=(_p(0.1, "Drop probability; the paper recommends 0.05 to 0.1.", maximum=0.95),),
        function="dropouts.functional.alpha_dropout",
    ),
    Method(
        id="dropconnect",
        name="DropConnect",
        family="dense",
        papers=(
            Paper(
                "L. Wan, M. Zeiler, S. Zhang, Y. LeCun, R. Fergus",
                2013,
                "Regularization of Neural Networks using DropConnect",
                "ICML",
                "https://proceedings.mlr.press/v28/wan13.html",
            ),
        ),
        views=("dense",),
        summary="Connections (weights and biases), not units, are dropped: a fresh weight mask "
        "for every example.",
        formula=r"r = a\big((M \odot W)\,v + m_b \odot b\big),\quad M_{ij} \sim "
        r"\mathrm{Bernoulli}(1-p)",
        test_time="Mean rule a(E[u]), or the paper's Gaussian moment matching: "
        "u ~ N(E[u], Var[u]) sampled through the activation.",
        params=(
            _p(
                0.5,
                "Probability that each weight is dropped (the paper's keep probability is 1 - p).",
            ),
            Param(
                "inference",
                "test-time rule",
                "gaussian",
                "mean: a(E[u]). gaussian: average a(u) over samples of the moment-matched "
                "Gaussian (Wan et al., Algorithm 2).",
                kind="choice",
                choices=("mean", "gaussian"),
            ),
            Param(
                "samples",
                "Gaussian samples Z",
                1000,
                "Samples per unit for the Gaussian test-time rule.",
                kind="int",
                min=1,
                max=10000,
                step=1,
            ),
        ),
        function="dropouts.functional.dropconnect_linear",
    ),
    Method(
        id="standout",
        name="Standout (adaptive dropout)",
        family="dense",
        papers=(
            Paper(
                "J. Ba, B. Frey",
                2013,
                "Adaptive dropout for training deep neural networks",
                "NeurIPS",
                "https://proceedings.neurips.cc/paper/2013/hash/"
                "7b5b23f4aadf9513306bcd59afb6e4c9-Abstract.html",
            ),
        ),
        views=("dense",),
        summary="Each unit's probability of being KEPT is a sigmoid of its own pre-activation: "
        "strongly driven units survive more often.",
        formula=r"\pi_j = \sigma\big(\alpha\,(Wx+b)_j + \beta\big),\quad m_j \sim "
        r"\mathrm{Bernoulli}(\pi_j),\quad y_j = m_j\, g\big((Wx+b)_j\big)",
        test_time="Multiply each unit by its keep probability π.",
        params=(
            Param(
                "alpha",
                "α (slope)",
                1.0,
                "How strongly the keep probability follows the "
                "pre-activation; 0 gives standard dropout with keep σ(β).",
                min=-5.0,
                max=5.0,
                step=0.05,
            ),
            Param(
                "beta",
                "β (offset)",
                0.0,
                "Offset of the keep probability's logit.",
                min=-5.0,
                max=5.0,
                step=0.05,
            ),
            Param(
                "form",
                "form",
                "additive",
                "additive: σ(α·(Wx+b) + β), the article's form (used here by default). "
                "tied: Ba & Frey's tied standout network π = αW + β, i.e. "
                "σ(α·(Wx+b) + β·(1 + Σx)).",
                kind="choice",
                choices=("additive", "tied"),
            ),
        ),
        function="dropouts.functional.standout_linear",
        notes=(
            "The sigmoid is the probability to KEEP, as in Ba & Frey; Thevenot's article "
            "reads it as the probability to drop.",
        ),
    ),
    Method(
        id="maxpool",
        name="Max-pooling dropout",
        family="convolutional",
        papers=(
            Paper(
                "H. Wu, X. Gu",
                2015,
                "Towards dropout training for convolutional neural networks",
                "Neural Networks 71",
                "https://arxiv.org/abs/1512.00242",
            ),
        ),
        views=("pooling",),
        summary="Units inside each pooling window are dropped before the max, so a smaller "
        "value sometimes wins.",
        formula=r"y_j = \max_{i \in R_j} m_i a_i,\quad \text{test: } "
        r"y_j = \sum_{i=1}^{n} (1-p)\,p^{\,n-i}\, a'_i",
        test_time="Probabilistic weighted pooling over the sorted window values (exact "
        "expectation), against the biased (1-p)·max.",
        params=(
            _p(0.5, "Probability that each unit of a window is dropped before the max."),
            Param(
                "kernel_size",
                "pool size",
                2,
                "Side of the square pooling window (stride equal to it).",
                kind="int",
                min=2,
                max=4,
                step=1,
            ),
        ),
        function="dropouts.functional.maxpool_dropout",
    ),
    Method(
        id="spatial",
        name="Spatial dropout",
        family="convolutional",
        papers=(
            Paper(
                "J. Tompson, R. Goroshin, A. Jain, Y. LeCun, C. Bregler",
                2015,
                "Efficient Object Localization Using Convolutional Networks",
                "CVPR",
                "https://arxiv.org/abs/1411.4280",
            ),
        ),
        views=("image", "feature_maps"),
        summary="Whole channels are dropped: on the cat, a colour channel disappears; in a CNN, "
        "whole feature maps.",
        formula=r"y_{c} = \frac{m_c\, x_{c}}{1-p},\quad m_c \sim \mathrm{Bernoulli}(1-p)"
        r"\text{ per channel}",
        test_time="Identity (inverted), or multiply by 1 - p (Torch7's original).",
        params=(_p(0.5, "Probability that each channel is dropped."), _SCALING),
        function="dropouts.functional.spatial_dropout",
    ),
    Method(
        id="cutout",
        name="Cutout",
        family="convolutional",
        papers=(
            Paper(
                "T. DeVries, G. Taylor",
                2017,
                "Improved Regularization of Convolutional Neural Networks with Cutout",
                "arXiv:1708.04552",
                "https://arxiv.org/abs/1708.04552",
            ),
        ),
        views=("image", "feature_maps"),
        summary="Square holes are cut out of the input; the centre can be anywhere, so a hole "
        "may be cut by the border.",
        formula=r"y = x \odot M,\quad M = 0 \text{ on } L\times L \text{ squares around "
        r"uniform centres}",
        test_time="Not applied (Cutout is a training-time augmentation).",
        params=(
            Param(
                "size",
                "hole size L (px)",
                96,
                "Side of each square hole, in pixels. The "
                "paper used 16 on 32×32 CIFAR-10 images (half the side).",
                kind="int",
                min=1,
                max=512,
                step=1,
            ),
            Param(
                "n_holes",
                "number of holes",
                1,
                "How many squares per image; they may overlap.",
                kind="int",
                min=0,
                max=20,
                step=1,
            ),
        ),
        function="dropouts.functional.cutout",
    ),
    Method(
        id="maxdrop",
        name="Max-Drop",
        family="convolutional",
        papers=(
            Paper(
                "S. Park, N. Kwak",
                2016,
                "Analysis on the Dropout Effect in Convolutional Neural Networks",
                "ACCV",
                "https://doi.org/10.1007/978-3-319-54184-6_12",
            ),
        ),
        views=("feature_maps",),
        summary="The HIGHEST activations are dropped, per feature map or across channels, "
        "instead of random ones.",
        formula=r"y = x \odot M,\quad M = 0 \text{ at } \mathrm{arg\,max} \text{ (each map or "
        r"each position) with probability } p",
        test_time="Identity; the expectation is biased, since maxima are removed.",
        params=(
            _p(
                0.2,
                "Probability that a map (feature-wise) or a position (channel-wise) loses "
                "its maximum. The paper's nets used 0.1 to 0.2.",
            ),
            Param(
                "mode",
                "mode",
                "feature",
                "feature: the maximum of each feature map. "
                "channel: at each position, the channel holding the maximum.",
                kind="choice",
                choices=("feature", "channel"),
            ),
            Param(
                "window",
                "window",
                1,
                "Side of the square zeroed around each maximum.",
                kind="int",
                min=1,
                max=15,
                step=2,
            ),
        ),
        function="dropouts.functional.max_drop",
    ),
    Method(
        id="stochastic",
        name="Stochastic dropout",
        family="convolutional",
        papers=(
            Paper(
                "S. Park, N. Kwak",
                2016,
                "Analysis on the Dropout Effect in Convolutional Neural Networks",
                "ACCV",
                "https://doi.org/10.1007/978-3-319-54184-6_12",
            ),
        ),
        views=("image", "feature_maps"),
        summary="Standard dropout whose p is drawn anew at every iteration from N(μ, σ).",
        formula=r"p_t \sim \mathcal{N}(\mu, \sigma),\quad y = \min\!\big(\tfrac{1}{1-p_t}, "
        r"1.5\big)\, m \odot x,\ m_i \sim \mathrm{Bernoulli}(1-p_t)",
        test_time="Identity.",
        params=(
            Param(
                "mu",
                "mean μ of p",
                0.2,
                "Mean of the per-iteration drop probability.",
                min=0.0,
                max=0.7,
                step=0.01,
            ),
            Param(
                "sigma",
                "std σ of p",
                0.1,
                "STANDARD DEVIATION of p (as in the authors' "
                "code). The article's 'σ² = 0.05' is σ = 0.224 here. Negative draws give "
                "p = 0 (or |p| when μ = 0); p is capped at 0.7.",
                min=0.0,
                max=0.5,
                step=0.005,
            ),
        ),
        function="dropouts.functional.stochastic_dropout",
    ),
    Method(
        id="dropblock",
        name="DropBlock",
        family="convolutional",
        papers=(
            Paper(
                "G. Ghiasi, T.-Y. Lin, Q. Le",
                2018,
                "DropBlock: A regularization method for convolutional networks",
                "NeurIPS",
                "https://arxiv.org/abs/1810.12890",
            ),
        ),
        views=("image", "feature_maps"),
        summary="Contiguous square blocks are dropped, so correlated neighbours cannot fill "
        "the gap; the seed rate γ is set from p and the block size.",
        formula=r"\gamma = \frac{p\,HW}{b^2\,(H-b+1)(W-b+1)},\quad "
        r"y = x \odot M \cdot \frac{\mathrm{numel}(M)}{\mathrm{sum}(M)}",
        test_time="Identity.",
        params=(
            _p(
                0.2,
                "Sets the seed rate γ so that about p of the units are dropped (1 - "
                "keep_prob). Overlapping blocks make the real fraction a little lower, much "
                "lower for large p and big blocks (shown as 'expected'). The paper reached "
                "keep_prob 0.9 with a linear schedule.",
            ),
            Param(
                "block_size",
                "block size",
                31,
                "Side of each dropped block, in pixels (7 on "
                "ResNet feature maps in the paper; clipped to the map).",
                kind="int",
                min=1,
                max=127,
                step=2,
            ),
        ),
        function="dropouts.functional.dropblock",
    ),
    Method(
        id="droppath",
        name="DropPath (stochastic depth)",
        family="convolutional",
        papers=(
            Paper(
                "G. Huang, Y. Sun, Z. Liu, D. Sedra, K. Weinberger",
                2016,
                "Deep Networks with Stochastic Depth",
                "ECCV",
                "https://arxiv.org/abs/1603.09382",
            ),
        ),
        views=("residual",),
        summary="Whole residual branches are dropped per sample; the shortcut always survives.",
        formula=r"H_l = H_{l-1} + \frac{b_l}{s_l} f_l(H_{l-1}),\quad b_l \sim "
        r"\mathrm{Bernoulli}(s_l),\quad s_l = 1 - p \;\text{or}\; 1 - \frac{l}{L}\,p",
        test_time="Identity (inverted: a kept branch is scaled by 1 / sₗ while training), or "
        "scale the branch by sₗ (the original).",
        params=(
            _p(
                0.2,
                "Probability of dropping a branch: every block's, or the last block's under "
                "Huang et al.'s linear decay (block l of L drops with (l / L) · p). ViT/ConvNeXt "
                "use 0.1 to 0.4 spread linearly over depth.",
            ),
            Param(
                "mode",
                "gate",
                "row",
                "row: one gate per sample (timm, torchvision). batch: "
                "one gate for the mini-batch (Huang's original).",
                kind="choice",
                choices=("row", "batch"),
            ),
        ),
        function="dropouts.functional.drop_path",
    ),
    Method(
        id="rnndrop",
        name="RNNDrop",
        family="recurrent",
        papers=(
            Paper(
                "T. Moon, H. Choi, H. Lee, I. Song",
                2015,
                "RNNDROP: A novel dropout for RNNs in ASR",
                "IEEE ASRU",
                "https://www.semanticscholar.org/paper/4a5e68033940785468cbe34bd6249106c311acfb",
            ),
        ),
        views=("lstm",),
        summary="One mask per sequence on the LSTM cell state: the same units are off at every "
        "time step.",
        formula=r"c_t = m \odot (f_t \odot c_{t-1} + i_t \odot g_t),\quad m \text{ drawn once "
        r"per sequence}",
        test_time="No mask; the layer output is scaled by 1/(1-p) in training instead of "
        "inside the recurrence, where it would compound.",
        params=(_p(0.25, "Probability that each cell unit is dropped for the whole sequence."),),
        function="dropouts.rnn.DropoutLSTM",
    ),
    Method(
        id="recurrent",
        name="Recurrent dropout (no memory loss)",
        family="recurrent",
        papers=(
            Paper(
                "S. Semeniuta, A. Severyn, E. Barth",
                2016,
                "Recurrent Dropout without Memory Loss",
                "COLING",
                "https://arxiv.org/abs/1603.05118",
            ),
        ),
        views=("lstm",),
        summary="Only the candidate update g is masked; the memory c carried from the past is "
        "never erased.",
        formula=r"c_t = f_t \odot c_{t-1} + i_t \odot d(g_t)",
        test_time="Identity (inverted scaling).",
        params=(
            _p(0.25, "Probability that each unit of the update g is dropped."),
            Param(
                "per_sequence",
                "one mask per sequence",
                False,
                "Off: a fresh mask every "
                "step (works well here). On: one mask for the whole sequence.",
                kind="bool",
            ),
        ),
        function="dropouts.rnn.DropoutLSTM",
    ),
    Method(
        id="variational_rnn",
        name="Variational RNN dropout",
        family="recurrent",
        papers=(GAL_RNN,),
        views=("lstm",),
        summary="The same masks on the inputs and on the hidden state at every time step, "
        "applied before the gates.",
        formula=r"(i,f,o,g) = \mathrm{act}\big(W (x_t \odot z_x) + U (h_{t-1} \odot z_h) + "
        r"b\big),\quad z_x, z_h \text{ drawn once per sequence}",
        test_time="Identity (inverted scaling), or Monte Carlo over masks.",
        params=(
            _p(0.25, "Probability that each hidden unit is dropped on the recurrent path."),
            Param(
                "p_input",
                "input drop probability",
                0.25,
                "Probability that each input feature is dropped.",
                min=0.0,
                max=1.0,
                step=0.01,
            ),
        ),
        function="dropouts.rnn.DropoutLSTM",
    ),
    Method(
        id="zoneout",
        name="Zoneout",
        family="recurrent",
        papers=(
            Paper(
                "D. Krueger, T. Maharaj, J. Kramár, M. Pezeshki, N. Ballas, N. R. Ke, "
                "A. Goyal, Y. Bengio, A. Courville, C. Pal",
                2017,
                "Zoneout: Regularizing RNNs by Randomly Preserving Hidden Activations",
                "ICLR",
                "https://arxiv.org/abs/1606.01305",
            ),
        ),
        views=("lstm",),
        summary="Units keep their previous value instead of being zeroed.",
        formula=r"c_t = d^c \odot c_{t-1} + (1-d^c) \odot \tilde c_t,\quad "
        r"h_t = d^h \odot h_{t-1} + (1-d^h) \odot \tilde h_t",
        test_time="The expectation: each unit keeps z of its previous value and takes 1 − z of "
        "the new one (z = zoneout on c for c, zoneout on h for h).",
        params=(
            Param(
                "zoneout_c",
                "zoneout on c",
                0.5,
                "Probability that a cell unit keeps its "
                "previous value (0.5 on char-level PTB in the paper).",
                min=0.0,
                max=1.0,
                step=0.01,
            ),
            Param(
                "zoneout_h",
                "zoneout on h",
                0.05,
                "Probability that a hidden unit keeps its previous value.",
                min=0.0,
                max=1.0,
                step=0.01,
            ),
        ),
        function="dropouts.rnn.DropoutLSTM",
    ),
    Method(
        id="mc_dropout",
        name="Monte Carlo dropout",
        family="inference",
        papers=(
            Paper(
                "Y. Gal, Z. Ghahramani",
                2016,
                "Dropout as a Bayesian Approximation: Representing Model Uncertainty in "
                "Deep Learning",
                "ICML",
                "https://arxiv.org/abs/1506.02142",
            ),
        ),
        views=("uncertainty",),
        summary="Dropout stays on at test time: T stochastic passes give a predictive mean and "
        "an uncertainty band that widens away from the data.",
        formula=r"\mathbb{E}[y^*] \approx \frac{1}{T}\sum_{t=1}^{T} \hat y_t,\quad "
        r"\mathrm{Var}[y^*] \approx \tau^{-1} + \frac{1}{T}\sum_t \hat y_t^2 - "
        r"\mathbb{E}[y^*]^2",
        test_time="T passes with only the dropout layers in training mode.",
        params=(
            _p(0.1, "Drop probability of the network's dropout layers."),
            Param(
                "T",
                "passes T",
                50,
                "Number of stochastic forward passes.",
                kind="int",
                min=1,
                max=500,
                step=1,
            ),
        ),
        function="dropouts.mc.mc_predict",
    ),
    Method(
        id="compression",
        name="Sparse variational dropout",
        family="inference",
        papers=(
            Paper(
                "D. Molchanov, A. Ashukha, D. Vetrov",
                2017,
                "Variational Dropout Sparsifies Deep Neural Networks",
                "ICML",
                "https://arxiv.org/abs/1701.05369",
            ),
            Paper(
                "K. Neklyudov, D. Molchanov, A. Ashukha, D. Vetrov",
                2017,
                "Structured Bayesian Pruning via Log-Normal Multiplicative Noise",
                "NeurIPS",
                "https://arxiv.org/abs/1705.07283",
            ),
        ),
        views=("compression",),
        summary="Each weight learns its own dropout rate α; weights with large α carry only "
        "noise and are pruned, compressing the network.",
        formula=r"w_{ij} = \theta_{ij}\,\xi_{ij},\ \xi_{ij} \sim \mathcal{N}(1, \alpha_{ij}),"
        r"\quad \text{prune where } \log\alpha_{ij} \ge 3",
        test_time="Deterministic weights θ with the pruned ones set to zero.",
        params=(
            Param(
                "threshold",
                "log α threshold",
                3.0,
                "Weights with log α at or above this "
                "are pruned (3 in the paper: α ≈ 20, a drop rate of about 0.95).",
                min=-8.0,
                max=8.0,
                step=0.1,
            ),
        ),
        function="dropouts.sparse.LinearSVDO",
    ),
)

METHODS_BY_ID: dict[str, Method] = {method.id: method for method in METHODS}


def get_method(method_id: str) -> Method:
    """The method with this id; ``KeyError`` naming the known ids otherwise."""
    try:
        return METHODS_BY_ID[method_id]
    except KeyError:
        known = ", ".join(METHODS_BY_ID)
        raise KeyError(f"unknown method {method_id!r}; known: {known}") from None


def methods_with_view(view: View) -> tuple[Method, ...]:
    return tuple(method for method in METHODS if view in method.views)


# ---------------------------------------------------------------- the views

# The fixed filters of the feature-map stage (dropouts.lab.views.features): id -> what it detects.
FILTERS: dict[str, str] = {
    "edge_0": "edge, brighter →",
    "edge_45": "edge, brighter ↗",
    "edge_90": "edge, brighter ↑",
    "edge_135": "edge, brighter ↖",
    "red_green": "red, not green",
    "yellow_blue": "yellow, not blue",
    "centre_on": "bright spot",
    "centre_off": "dark spot",
}
FILTER_IDS: tuple[str, ...] = tuple(FILTERS)


@dataclass(frozen=True)
class ViewSpec:
    """One view: its id (the URL's ``view=``), its label, and the parameters of the view
    itself (what is shown, not how the method drops), validated like a method's."""

    id: View
    label: str
    params: tuple[Param, ...] = ()


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("image", "image pixels"),
    ViewSpec("feature_maps", "CNN feature maps"),
    ViewSpec(
        "pooling",
        "feature maps with the pooling grid",
        (
            Param(
                "map",
                "feature map",
                "edge_0",
                "Which map of the convolutional stage to zoom into (before its pooling); the "
                "zoomed square is where the map is most active.",
                kind="choice",
                choices=FILTER_IDS,
                choice_labels=tuple(FILTERS.values()),
            ),
        ),
    ),
    ViewSpec(
        "dense",
        "toy dense network",
        (
            Param(
                "network",
                "network",
                "toy",
                "toy: a small network with fixed random weights. trained: the network of the "
                "training run below (its real weights), the first neurons of each layer.",
                kind="choice",
                choices=("toy", "trained"),
            ),
            Param(
                "width",
                "neurons per layer",
                5,
                "Hidden neurons drawn in each layer.",
                kind="int",
                min=2,
                max=8,
                step=1,
            ),
            Param(
                "depth",
                "hidden layers",
                2,
                "Hidden layers of the toy network.",
                kind="int",
                min=1,
                max=3,
                step=1,
            ),
            Param(
                "dataset",
                "data set",
                "moons",
                "The 2-D classification problem: two classes, a small noisy training set and "
                "a larger test set from the same distribution.",
                kind="choice",
                choices=("moons", "circles", "xor", "spiral"),
                group="training",
            ),
            Param(
                "noise",
                "noise",
                0.35,
                "Standard deviation of the noise added to the points.",
                min=0.0,
                max=1.0,
                step=0.01,
                group="training",
            ),
            Param(
                "n_train",
                "training points",
                100,
                "Few points and a wide network: without dropout it learns them by heart.",
                kind="int",
                min=10,
                max=1000,
                step=10,
                group="training",
            ),
            Param(
                "train_width",
                "width",
                64,
                "Neurons in each hidden layer of the trained network.",
                kind="int",
                min=4,
                max=256,
                step=4,
                group="training",
            ),
            Param(
                "train_depth",
                "depth",
                2,
                "Hidden layers of the trained network.",
                kind="int",
                min=1,
                max=4,
                step=1,
                group="training",
            ),
            Param(
                "steps",
                "steps",
                500,
                "Full-batch training steps (Adam).",
                kind="int",
                min=50,
                max=5000,
                step=50,
                group="training",
            ),
            Param(
                "lr",
                "learning rate",
                0.01,
                "Adam's learning rate.",
                min=0.0005,
                max=0.1,
                step=0.0005,
                group="training",
            ),
        ),
    ),
    ViewSpec(
        "lstm",
        "LSTM over time",
        (
            Param(
                "length",
                "time steps",
                50,
                "Length of the sequence the LSTM runs over; every iteration is a new sequence "
                "with new masks.",
                kind="int",
                min=10,
                max=100,
                step=5,
            ),
            Param(
                "units",
                "units",
                32,
                "Units of the LSTM (the size of its cell state c and hidden state h): the "
                "heatmaps have a row per unit.",
                kind="int",
                min=4,
                max=64,
                step=4,
            ),
            Param(
                "memory_p",
                "drop probability p (every mode)",
                0.25,
                "The same p for every mode of the memory task (zoneout: the probability that a "
                "cell unit keeps its previous value).",
                min=0.05,
                max=0.75,
                step=0.05,
                group="memory",
            ),
            Param(
                "memory_k",
                "longest distance k",
                10,
                "The LSTM recalls, at every step, the symbols seen 1 to k steps earlier; "
                "sequences are 2k steps long.",
                kind="int",
                min=4,
                max=16,
                step=1,
                group="memory",
            ),
            Param(
                "memory_symbols",
                "symbols",
                4,
                "Size of the alphabet the sequences are drawn from (chance: 1 / symbols).",
                kind="int",
                min=2,
                max=8,
                step=1,
                group="memory",
            ),
            Param(
                "memory_steps",
                "training steps",
                500,
                "Adam steps on minibatches of 32 fresh sequences, per mode.",
                kind="int",
                min=100,
                max=2000,
                step=100,
                group="memory",
            ),
        ),
    ),
    ViewSpec(
        "uncertainty",
        "toy regression and classification",
        (
            Param(
                "task",
                "task",
                "regression",
                "regression: a noisy sine with no training points in the middle third. "
                "classification: the 2-D data sets of the dense view.",
                kind="choice",
                choices=("regression", "classification"),
                choice_labels=("1-D regression with a gap", "2-D classification"),
            ),
            Param(
                "n_train",
                "training points",
                40,
                "N, the training set's size (it enters τ = (1 − p) l² / (2Nλ)). "
                "A new value trains a new network.",
                kind="int",
                min=10,
                max=400,
                step=10,
            ),
            Param(
                "noise",
                "noise σ",
                0.1,
                "Standard deviation of the noise: on y (regression), on each coordinate "
                "(classification). τ⁻¹ should be near σ².",
                min=0.0,
                max=0.5,
                step=0.01,
                group="training",
            ),
            Param(
                "dataset",
                "data set",
                "moons",
                "The classification problem (as in the dense view).",
                kind="choice",
                choices=("moons", "circles", "xor", "spiral"),
                group="training",
            ),
            Param(
                "steps",
                "steps",
                1000,
                "Full-batch training steps (Adam).",
                kind="int",
                min=100,
                max=5000,
                step=100,
                group="training",
            ),
            Param(
                "log_weight_decay",
                "weight decay λ, log₁₀",
                -5.0,
                "λ = 10^value, of the loss MSE + λ Σ‖W‖² (Gal's code); it sets "
                "τ = (1 − p) l² / (2Nλ).",
                min=-7.0,
                max=-2.0,
                step=0.1,
                group="training",
            ),
            Param(
                "lengthscale",
                "length-scale l",
                0.3,
                "The prior length-scale l of τ = (1 − p) l² / (2Nλ); it changes the band's "
                "τ⁻¹, not the network.",
                min=0.05,
                max=5.0,
                step=0.05,
                group="training",
            ),
        ),
    ),
    ViewSpec(
        "compression",
        "dense net trained on a real data set",
        (
            Param(
                "dataset",
                "data set",
                "digits",
                "What the network learns: handwritten digits (8 × 8 pixels, 10 classes, shipped "
                "with the lab) or a 2-D problem of the dense view.",
                kind="choice",
                choices=("digits", "moons", "circles", "xor", "spiral"),
                choice_labels=(
                    "handwritten digits, 8 × 8",
                    "moons (2-D)",
                    "circles (2-D)",
                    "XOR (2-D)",
                    "spiral (2-D)",
                ),
            ),
            Param(
                "variant",
                "variant",
                "svdo",
                "Sparse VD: a dropout rate per weight, weights pruned (Molchanov et al.). "
                "Structured BP: a log-normal noise per neuron, whole neurons removed "
                "(Neklyudov et al.).",
                kind="choice",
                choices=("svdo", "sbp"),
                choice_labels=("sparse VD: weights", "structured BP: neurons"),
            ),
            Param(
                "snr",
                "SNR threshold (structured)",
                1.0,
                "Structured BP only: neurons whose noise has E[θ] / std θ at or below this are "
                "removed (1 in Neklyudov et al.). Sparse VD uses the log α threshold.",
                min=0.05,
                max=20.0,
                step=0.05,
            ),
            Param(
                "width",
                "width",
                100,
                "Neurons in each hidden layer.",
                kind="int",
                min=16,
                max=128,
                step=4,
                group="training",
            ),
            Param(
                "depth",
                "depth",
                2,
                "Hidden layers.",
                kind="int",
                min=1,
                max=3,
                step=1,
                group="training",
            ),
            Param(
                "epochs",
                "epochs",
                100,
                "Passes over the training set, in minibatches of 128 (Adam).",
                kind="int",
                min=10,
                max=400,
                step=10,
                group="training",
            ),
            Param(
                "lr",
                "learning rate",
                0.01,
                "Adam's learning rate at the start; it decays linearly to 0.",
                min=0.001,
                max=0.05,
                step=0.001,
                group="training",
            ),
            Param(
                "warmup",
                "KL warm-up",
                0.3,
                "Share of the run over which the weight of the KL term rises from 0 to 1 "
                "(the data term alone at first, then the whole ELBO).",
                min=0.0,
                max=1.0,
                step=0.05,
                group="training",
            ),
        ),
    ),
    ViewSpec(
        "residual",
        "residual stack",
        (
            Param(
                "blocks",
                "residual blocks L",
                8,
                "Residual blocks in the stack, each adding its branch to the shortcut; "
                "DropPath drops the branch, never the shortcut.",
                kind="int",
                min=1,
                max=16,
                step=1,
            ),
            Param(
                "batch",
                "samples in the batch",
                8,
                "Samples going through the stack together: patches of the picture (its most "
                "active squares). Row mode draws a gate per sample, batch mode one for all.",
                kind="int",
                min=1,
                max=16,
                step=1,
            ),
            Param(
                "rule",
                "drop rate over depth",
                "linear",
                "linear: block l of L drops its branch with probability (l / L) · p, p being the "
                "last block's (Huang et al.'s linear decay of the survival probability). "
                "constant: every block drops with p.",
                kind="choice",
                choices=("linear", "constant"),
                choice_labels=("linear decay: (l / L) · p", "constant: p for every block"),
            ),
        ),
    ),
)
VIEWS_BY_ID: dict[str, ViewSpec] = {view.id: view for view in VIEWS}
# The view a link that names none shows, where its method has it: the first of the table.
DEFAULT_VIEW: str = VIEWS[0].id
VIEW_LABELS: dict[View, str] = {view.id: view.label for view in VIEWS}


def get_view(view_id: str) -> ViewSpec:
    """The view with this id; ``KeyError`` naming the known ids otherwise."""
    try:
        return VIEWS_BY_ID[view_id]
    except KeyError:
        raise KeyError(f"unknown view {view_id!r}; known: {', '.join(VIEWS_BY_ID)}") from None


def validate_view_params(view: ViewSpec, values: Mapping[str, object]) -> dict[str, ParamValue]:
    """Check ``values`` against the view's own parameters and fill in the defaults."""
    return validate_values(view.params, values, f"the {view.id} view")
