"""The path, section 1: why dropout. A wide network on a few noisy points learns them by heart;
the same network trained with dropout does not (Hinton et al. 2012; Srivastava et al. 2014)."""

from __future__ import annotations

from .path import Answer, Question, Section, Step

OVERFITTING = Step(
    id="why",
    title="Why dropout: a network that learns its points by heart",
    embed="method=standard&view=dense&p=0.5&panel=1&controls=p",
    paragraphs=(
        "A network with many more weights than training points can fit those points exactly, "
        "noise included. Its training loss keeps falling while its loss on new points, the "
        "<em>test loss</em>, stops falling and climbs: the network has <em>overfitted</em>.",
        "Hinton and colleagues traced part of the problem to <em>co-adaptation</em>: a hidden "
        "unit becomes useful only together with particular other units, and their joint "
        "detail fits the training set rather than the task. Dropout removes each hidden unit "
        "at random, with probability p, at every training step, so that no unit can rely on "
        "another being there (Hinton et al. 2012).",
        "Each step therefore trains a different thinned network, and the thinned networks share "
        "their weights: with n units there are 2<sup>n</sup> of them. At test time the full "
        "network, its weights scaled, stands in for their average (Srivastava et al. 2014).",
        "Beside this text the same network is trained twice in the server, from the same "
        "initial weights on the same few noisy points: once with dropout at the p of the "
        "slider, once without any.",
    ),
    formula=r"y = \frac{m \odot x}{1-p},\quad m_i \sim \mathrm{Bernoulli}(1-p)",
    question=Question(
        prompt="When both runs have finished, which network has the lower test loss?",
        kind="choice",
        choices=(
            ("dropout", "the network trained with dropout"),
            ("baseline", "the network without dropout"),
        ),
        answer=Answer("run", "final", "lowest"),
        why="Lower at the last step: {answer}, on these points with this seed. Move p or the "
        "training settings and the runs train again; the answer follows them.",
    ),
    cites=("standard",),
    height=820,
)

SECTION = Section("why", "Why dropout", (OVERFITTING,))
