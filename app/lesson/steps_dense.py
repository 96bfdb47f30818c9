"""The path, section 2: dropout in dense networks. Standard dropout and its two scalings
(Srivastava et al. 2014), DropConnect (Wan et al. 2013), Standout (Ba & Frey 2013) and Gaussian
dropout (Srivastava et al. 2014, section 10)."""

from __future__ import annotations

from .path import Answer, Question, Section, Step

STANDARD = Step(
    id="standard",
    title="Standard dropout: drop, then scale",
    embed="method=standard&view=image&p=0.5&controls=p,scaling",
    paragraphs=(
        "Every unit is kept with probability 1 − p and set to zero otherwise, independently of "
        "the others and anew at every step. A layer's output would then be, on average, 1 − p "
        "times what the full network gives at test time, so one of the two must be scaled.",
        "The paper trains without scaling and multiplies the weights by 1 − p at test time "
        "(Srivastava et al. 2014). Today's frameworks do the reverse, <em>inverted</em> "
        "dropout: the kept units are divided by 1 − p while training, and the network is left "
        "as it is at test time. Both give the same expected output; mixing them, inverted "
        "while training and ×(1 − p) at test, scales twice.",
        "The view drops pixels of the picture, the simplest place to see a mask: white pixels "
        "are kept, black ones dropped, and the output at training time shows the kept ones "
        "multiplied.",
    ),
    formula=r"y = \frac{m \odot x}{1-p},\quad m_i \sim \mathrm{Bernoulli}(1-p)",
    question=Question(
        prompt="With inverted scaling at this p, what is a kept pixel multiplied by?",
        answer=Answer("theory", "kept_value"),
        why="A kept unit is multiplied by {answer}: 1/(1 − p) with inverted scaling, 1 with the "
        "paper's scaling (which multiplies by 1 − p at test time instead).",
        low=1.0,
        high=5.0,
        step=0.05,
        tolerance=0.05,
        format="factor",
    ),
    cites=("standard",),
)

DROPCONNECT = Step(
    id="dropconnect",
    title="DropConnect: connections, not units",
    embed="method=dropconnect&view=dense&p=0.5&controls=p,inference",
    paragraphs=(
        "DropConnect masks the weights instead of the units: each connection of a layer is kept "
        "with probability 1 − p, the bias too, with a new mask for every example (Wan et al. "
        "2013). A unit loses some of its inputs rather than all of its output.",
        "At test time the paper does not simply use the mean weights. A unit's input is a sum "
        "of many masked terms, so it is close to a Gaussian whose mean and variance follow from "
        "the weights; the paper draws samples of that Gaussian, passes each through the "
        "activation and averages them (its Algorithm 2). Averaging after the nonlinearity is "
        "not the same as the nonlinearity of the average.",
    ),
    formula=r"r = a\big((M \odot W)\,v + m_b \odot b\big),\quad "
    r"M_{ij} \sim \mathrm{Bernoulli}(1-p)",
    question=Question(
        prompt="What share of the network's connections does one pass drop, on average?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="On average {answer} of the connections: each is dropped with probability p, "
        "independently of the others.",
    ),
    cites=("dropconnect",),
)

STANDOUT = Step(
    id="standout",
    title="Standout: the unit's own activation sets its odds",
    embed="method=standout&view=dense&controls=alpha,beta",
    paragraphs=(
        "In Standout the probability of keeping a unit is not a constant. A second, tied "
        "network computes it from the same input: the keep probability is a sigmoid of α "
        "times the unit's pre-activation plus β (Ba and Frey 2013). With α > 0, a unit that "
        "responds strongly is more likely to be kept.",
        "With α = 0 and β = 0 every unit is kept with probability ½: standard dropout at "
        "p = 0.5. At test time each unit is multiplied by its keep probability, its expected "
        "mask.",
        "How much is dropped therefore depends on the input and on the weights, not on a single "
        "slider.",
    ),
    formula=r"P(m_j = 1 \mid x) = \sigma\big(\alpha\,(Wx + b)_j + \beta\big)",
    question=Question(
        prompt="At these α and β, what share of the first layer's units does Standout drop on "
        "average for this input?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="{answer} on average: the mean over the units of 1 minus their keep probability, "
        "each computed from the unit's own pre-activation.",
    ),
    cites=("standout",),
)

GAUSSIAN = Step(
    id="gaussian",
    title="Gaussian dropout: noise with the same two moments",
    embed="method=gaussian&view=image&p=0.5&controls=p",
    paragraphs=(
        "Instead of zeros and a scaled one, each unit can be multiplied by Gaussian noise of "
        "mean 1. Srivastava and colleagues note that this works as well or better (section 10 "
        "of their paper). No unit is exactly zero any more.",
        "The noise's variance is chosen so that the output has the same mean and variance as "
        "with inverted dropout at p. A kept-or-dropped unit x/(1 − p) has variance "
        "x²·p/(1 − p), so σ² = p/(1 − p). The popular statement that σ is p(1 − p) is "
        "wrong.",
    ),
    formula=r"y = x \odot \xi,\quad \xi_i \sim \mathcal{N}(1, \sigma^2),\quad "
    r"\sigma^2 = \frac{p}{1-p}",
    question=Question(
        prompt="At this p, what is the variance σ² of the multiplicative noise?",
        answer=Answer("theory", "mask_variance"),
        why="σ² = p/(1 − p) = {answer}: the variance of inverted Bernoulli dropout's mask at the "
        "same p.",
        low=0.0,
        high=4.0,
        step=0.05,
        tolerance=0.05,
        format="number",
    ),
    cites=("gaussian",),
)

SECTION = Section("dense", "Dense networks", (STANDARD, DROPCONNECT, STANDOUT, GAUSSIAN))
