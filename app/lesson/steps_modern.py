"""The path, section 6: modern relatives the article does not cover. AlphaDropout for SELU
networks (Klambauer et al. 2017), DropPath or stochastic depth (Huang et al. 2016; Larsson et al.
2017), and EfficientNet's "drop connect", which is DropPath (Tan & Le 2019), not DropConnect
(Wan et al. 2013)."""

from __future__ import annotations

from dropouts.lab.registry import Paper

from .path import Answer, Question, Section, Step

LARSSON = Paper(
    "G. Larsson, M. Maire, G. Shakhnarovich",
    2017,
    "FractalNet: Ultra-Deep Neural Networks without Residuals",
    "ICLR",
    "https://arxiv.org/abs/1605.07648",
)
TAN_LE = Paper(
    "M. Tan, Q. Le",
    2019,
    "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
    "ICML",
    "https://arxiv.org/abs/1905.11946",
)

ALPHA = Step(
    id="alpha",
    title="AlphaDropout: dropout for self-normalising networks",
    embed="method=alpha&view=dense&p=0.1&controls=p",
    paragraphs=(
        "Klambauer et al. (2017) built <em>self-normalising</em> networks: with the SELU "
        "activation and suitably initialised weights, the activations keep a mean near 0 and a "
        "variance near 1 from layer to layer, with no batch normalisation. Ordinary dropout "
        "breaks this. Zero is where a ReLU unit rests when it is inactive, but a SELU unit rests "
        "at its negative saturation, −λα ≈ −1.758, and the 1/(1 − p) scaling changes the "
        "variance.",
        "AlphaDropout therefore sets a dropped unit to α′ = −λα rather than to zero, then "
        "applies an affine map a·x + b to every unit, with a and b chosen so that the mean "
        "stays 0 and the variance 1 (the formula). The paper recommends low rates, such as "
        "0.05 or 0.1.",
        "At test time it is the identity. It belongs with SELU: in a ReLU network, use "
        "ordinary dropout. In the lab, the histograms under the view compare the "
        "activations with AlphaDropout and with ordinary dropout at the same p.",
    ),
    formula=r"y = a\,(x \odot d + \alpha'(1-d)) + b,\quad a = ((1-p)(1+p\alpha'^2))^{-1/2},"
    r"\quad b = -a\alpha' p",
    question=Question(
        prompt="At this p, what value does a dropped unit take after the affine correction?",
        answer=Answer("theory", "histograms.dropped_value"),
        why="{answer} = a·α′ + b: α′ moved by the same affine map as the kept units. The "
        "larger p, the closer it gets to 0, since a and b must then correct more.",
        low=-2.0,
        high=0.0,
        step=0.01,
        tolerance=0.03,
        format="number",
    ),
    cites=("alpha",),
)

DROPPATH = Step(
    id="droppath",
    title="DropPath: skipping whole residual branches",
    embed="method=droppath&view=residual&p=0.2&rule=linear&blocks=8&mode=row"
    "&controls=p,rule,blocks",
    paragraphs=(
        "A residual block adds a branch f(x) to a shortcut that carries x unchanged. Huang et "
        "al. (2016) drop the branch as a whole during training and keep the shortcut, so that "
        "the block passes its input straight through: every training step uses a network of "
        "random depth, shorter on average than the real one, which also makes training "
        "faster. They called it stochastic depth; the name DropPath comes from FractalNet "
        "(Larsson et al. 2017), which drops paths through its fractal blocks.",
        "Huang et al. let the survival probability fall linearly with depth: the first blocks, "
        "whose low-level features all later blocks use, are nearly always kept, and the last "
        "block survives half of the time in their ResNets. Their gate is one draw for the whole "
        "mini-batch; timm and torchvision draw one per sample and divide a kept branch by its "
        "survival probability, so that nothing changes at test time.",
    ),
    formula=r"H_l = H_{l-1} + \frac{b_l}{s_l} f_l(H_{l-1}),\quad b_l \sim "
    r"\mathrm{Bernoulli}(s_l),\quad s_l = 1 - p \;\text{or}\; 1 - \frac{l}{L}\,p",
    question=Question(
        prompt="On average, how many of the residual branches does one sample go through?",
        answer=Answer("theory", "expected_depth"),
        why="{answer} on average: the sum of the blocks' survival probabilities sₗ. Under the "
        "linear rule the early blocks are nearly always kept, so the expected depth is never "
        "below that of the constant rule at the same p.",
        low=0.0,
        high=16.0,
        step=0.1,
        tolerance=0.15,
        format="number",
    ),
    cites=("droppath",),
    papers=(LARSSON,),
    height=660,
)

EFFICIENTNET = Step(
    id="efficientnet",
    title="EfficientNet's “drop connect” is DropPath",
    embed="method=droppath&view=residual&p=0.2&rule=linear&mode=row&controls=p,mode",
    paragraphs=(
        "EfficientNet's reference code (Tan and Le 2019) has a parameter "
        "<code>drop_connect_rate</code>, 0.2 by default, and a function "
        "<code>drop_connect</code>. Despite the name, the function touches no weight: for each "
        "example of the batch it draws one number and either keeps the whole output of a "
        "block's branch, divided by the survival probability, or zeroes all of it, just before "
        "the branch is added to the shortcut. That is DropPath, with a gate per sample.",
        "The rate grows with depth there too: block i of n drops with "
        "<code>drop_connect_rate</code> · i/n, and only blocks with an identity shortcut "
        "(stride 1, as many channels out as in) are dropped at all. timm's EfficientNets take "
        "the same number as <code>drop_path_rate</code>; older versions called it "
        "<code>drop_connect_rate</code>.",
        "Wan et al.'s DropConnect (2013) is another method: an independent mask on every "
        "single weight of a layer, drawn anew for every example. A gate per sample on a whole "
        "branch and a mask per weight share only the idea of dropping something.",
    ),
    formula=r"x_l = x_{l-1} + \frac{b_l}{s_l}\, f_l(x_{l-1}),\quad b_l \sim "
    r"\mathrm{Bernoulli}(s_l)\ \text{per sample},\quad s_l = 1 - r\,\frac{l}{L}",
    question=Question(
        prompt="In EfficientNet's drop_connect, what does one random draw remove?",
        kind="choice",
        choices=(
            ("connection", "one weight of a layer, as in Wan et al.'s DropConnect"),
            ("neuron", "one unit of a layer"),
            ("branch", "the whole residual branch, for one sample"),
        ),
        answer=Answer("theory", "unit"),
        why="{answer}: in EfficientNet's code one draw per sample keeps or removes the whole "
        "branch f(x) of a block, never the shortcut. That is stochastic depth with a gate per "
        "sample, whatever the parameter is called; the gate switch beside the view also shows "
        "Huang et al.'s single draw for the whole batch.",
    ),
    cites=("droppath", "dropconnect"),
    papers=(TAN_LE,),
    height=660,
)

SECTION = Section("modern", "Modern relatives", (ALPHA, DROPPATH, EFFICIENTNET))
