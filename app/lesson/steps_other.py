"""The path, section 5: other uses of dropout. Monte Carlo dropout's uncertainty (Gal &
Ghahramani 2016) and compression by sparse variational dropout (Molchanov et al. 2017, after
Kingma et al. 2015)."""

from __future__ import annotations

from dropouts.lab.registry import Paper

from .path import Answer, Question, Section, Step

KINGMA = Paper(
    "D. Kingma, T. Salimans, M. Welling",
    2015,
    "Variational Dropout and the Local Reparameterization Trick",
    "NeurIPS",
    "https://arxiv.org/abs/1506.02557",
)

MC_DROPOUT = Step(
    id="mc",
    title="Monte Carlo dropout: uncertainty from the masks",
    embed="method=mc_dropout&view=uncertainty&task=regression&p=0.1&T=50&controls=T,p",
    paragraphs=(
        "Gal and Ghahramani (2016) showed that a network trained with dropout can be read as an "
        "approximate Bayesian model: every mask is a sample of the weights from an approximate "
        "posterior. Leave dropout on at test time and run the same input T times, and the T "
        "predictions differ; their mean is the prediction, and their spread says how unsure "
        "the model is.",
        "The predictive variance adds to that spread a constant τ⁻¹, the noise the model "
        "expects in the data, with τ = (1 − p)l²/(2Nλ) for a prior length-scale l, N training "
        "points and weight decay λ (the paper writes the keep probability where this has "
        "1 − p). The network beside this text was trained, in the server, on a noisy sine with "
        "no points in its middle third: its band is narrow on the data and widens in the gap "
        "and past the ends.",
        "Two mistakes are common. Calling <code>model.train()</code> to turn dropout on also "
        "puts BatchNorm in training mode: each batch of test inputs is then normalised with its "
        "own statistics, and a prediction depends on what else is in the batch. Turn on the "
        "dropout layers only. And <code>model.eval()</code> turns dropout off: the network then "
        "gives one deterministic answer and no band at all. The view draws both beside the "
        "correct estimate.",
    ),
    formula=r"\mathbb{E}[y^*] \approx \frac{1}{T}\sum_{t=1}^{T} \hat y_t,\quad "
    r"\mathrm{Var}[y^*] \approx \tau^{-1} + \frac{1}{T}\sum_t \hat y_t^2 - "
    r"\mathbb{E}[y^*]^2",
    question=Question(
        prompt="Of these five points, where is the predictive standard deviation largest?",
        kind="choice",
        choices=(
            ("0", "beyond the data, x = −4.5"),
            ("1", "in the data, x = −2"),
            ("2", "in the gap, x = 0"),
            ("3", "in the data, x = 2"),
            ("4", "beyond the data, x = 4.5"),
        ),
        answer=Answer("theory", "probes.expected_std", "highest"),
        why="Largest {answer}. Where there are training points, every thinned network was "
        "fitted to pass near them, so the passes agree; away from the points nothing ties them "
        "together, and they spread.",
    ),
    cites=("mc_dropout",),
    height=800,
)

SPARSE_VD = Step(
    id="sparsevd",
    title="Sparse variational dropout: dropout that prunes",
    embed="method=compression&view=compression&dataset=digits&variant=svdo&threshold=3"
    "&controls=threshold",
    paragraphs=(
        "Gaussian dropout multiplies a weight by noise of mean 1 and variance α. Kingma, "
        "Salimans and Welling (2015) learned α by variational inference instead of fixing it, "
        "but kept it at most 1. Molchanov, Ashukha and Vetrov (2017) let every weight learn its "
        "own α, with no upper limit. Training then drives the α of most weights very high: "
        "such a weight is mostly noise, and the network learns not to depend on it.",
        "After training, every weight whose log α is at or above a threshold, 3 in the paper "
        "(α ≈ 20, as if the weight were dropped 95 % of the time), is set to zero; the others "
        "are used at their mean θ, without noise. The slider moves the threshold on the "
        "trained network, without training it again.",
        "The network beside this text, a dense network for 8 × 8 handwritten digits, was "
        "trained this way in the server. The figures under it give the weights pruned, the "
        "compression factor and the test accuracy before and after pruning, next to the same "
        "network trained without this dropout.",
    ),
    formula=r"w_{ij} = \theta_{ij}\,\xi_{ij},\ \xi_{ij} \sim \mathcal{N}(1, \alpha_{ij}),"
    r"\quad \text{prune where } \log\alpha_{ij} \ge 3",
    question=Question(
        prompt="At this threshold, what share of the trained network's weights is pruned?",
        answer=Answer("theory", "final.pruned_share"),
        why="{answer} of the weights have a log α at or above the threshold and are set to "
        "zero. Lower the threshold and more of them go; the accuracy after pruning shows when "
        "the pruning starts to cost.",
        step=0.005,
        tolerance=0.02,
    ),
    cites=("compression",),
    papers=(KINGMA,),
)

SECTION = Section("other", "Other uses", (MC_DROPOUT, SPARSE_VD))
