"""The path, section 4: dropout in recurrent networks. Why a fresh mask on the cell state at
every step makes an LSTM forget (Zaremba et al. 2014), RNNDrop (Moon et al. 2015), recurrent
dropout (Semeniuta et al. 2016), variational RNN dropout (Gal & Ghahramani 2016) and zoneout
(Krueger et al. 2017)."""

from __future__ import annotations

from dropouts.lab.registry import Paper

from .path import Answer, Question, Section, Step

ZAREMBA = Paper(
    "W. Zaremba, I. Sutskever, O. Vinyals",
    2014,
    "Recurrent Neural Network Regularization",
    "arXiv:1409.2329",
    "https://arxiv.org/abs/1409.2329",
)

NAIVE = Step(
    id="naive",
    title="Why naive dropout makes an LSTM forget",
    embed="method=rnndrop&view=lstm&memory_p=0.25&panel=1&controls=memory_p",
    paragraphs=(
        "An LSTM keeps what it has read in its cell state c. The forget gate f, close to 1, "
        "lets the state pass from one step to the next almost unchanged, so that a symbol "
        "written at one step can still be read many steps later. Ordinary dropout on that "
        "state, with a new mask at every step, breaks this: a unit zeroed at any single step "
        "between the write and the read has lost what it held.",
        "With drop probability p, a unit carries a value through k steps only with probability "
        "(1 − p)ᵏ: under 6 % for p = 0.25 and k = 10. This is why Zaremba et al. (2014) applied "
        "dropout only to the connections between layers and never to the recurrent ones, and "
        "why the methods of the next steps either fix the mask for a whole sequence or keep it "
        "away from the memory.",
        "Beside this text the same small LSTM learns a memory task once per dropout method, in "
        "the server: at every step it must name the symbols it saw 1 to k steps earlier. The "
        "chart shows its test accuracy against the distance k.",
    ),
    formula=r"c_t = m_t \odot (f_t \odot c_{t-1} + i_t \odot g_t),\quad m_t \text{ drawn anew "
    r"at every step}",
    question=Question(
        prompt="When the runs have finished, which network recalls worst over the longest "
        "distances?",
        kind="choice",
        choices=(
            ("none", "no dropout"),
            ("naive", "naive dropout (a new mask on c at every step)"),
            ("rnndrop", "RNNDrop"),
            ("recurrent", "recurrent dropout"),
            ("variational", "variational RNN dropout"),
            ("zoneout", "zoneout"),
        ),
        answer=Answer("run", "final.long_accuracy", "lowest"),
        why="Lowest over the three longest distances: {answer}. Naive dropout's new mask on c "
        "lets a symbol survive k steps in a unit only with probability (1 − p)ᵏ; the other "
        "methods fix their mask for the whole sequence, mask only the update, or hold the state "
        "instead of erasing it.",
    ),
    cites=(),
    papers=(ZAREMBA,),
    height=820,
)

RNNDROP = Step(
    id="rnndrop",
    title="RNNDrop: one mask for the whole sequence",
    embed="method=rnndrop&view=lstm&p=0.25&controls=p",
    paragraphs=(
        "Moon et al. (2015), working on speech recognition, kept the mask on the cell state "
        "but drew it once per sequence: the same units are off at every step. A kept unit "
        "carries its memory undisturbed from the first step to the last; a dropped unit is off "
        "for the whole sequence, so each sequence trains a thinner LSTM, much as dropout thins "
        "a feed-forward network.",
        "In the view, rows are units and columns are time steps: RNNDrop's mask is made of "
        "whole rows, next to the naive mask drawn again at every step.",
        "Scaling needs care here. If the mask inside the loop carried the usual factor "
        "1/(1 − p), a kept unit would be multiplied by it again at every step, as if its forget "
        "gate were f/(1 − p), and its state would grow like (1 − p)⁻ᵗ. The lab keeps the mask "
        "0/1 inside the recurrence and scales the layer's output h instead.",
    ),
    formula=r"c_t = m \odot (f_t \odot c_{t-1} + i_t \odot g_t),\quad m \text{ drawn once "
    r"per sequence}",
    question=Question(
        prompt="With a 0/1 mask inside the loop, by what factor is the layer's output scaled "
        "while training?",
        answer=Answer("theory", "output_scale"),
        why="×{answer} = 1/(1 − p), applied once, to the output: the expected output of "
        "inverted dropout, without a factor that compounds from step to step.",
        low=1.0,
        high=10.0,
        step=0.05,
        tolerance=0.05,
        format="factor",
    ),
    cites=("rnndrop",),
    height=900,
)

RECURRENT = Step(
    id="recurrent",
    title="Recurrent dropout: mask the update, not the memory",
    embed="method=recurrent&view=lstm&p=0.25&per_sequence=false&controls=p,per_sequence",
    paragraphs=(
        "Semeniuta, Severyn and Barth (2016) moved the mask from the state to what is written "
        "into it: only the candidate update g is dropped, and the carried memory f ⊙ c is left "
        "alone. A dropped unit of g writes nothing new at that step, but keeps what it already "
        "holds: hence the paper's title, recurrent dropout <em>without memory loss</em>.",
        "Since the mask touches only the current contribution, a new mask at every step does "
        "no harm, and inverted scaling is safe: the factor applies once to each write and does "
        "not compound through c. The paper considers masks drawn per step and per sequence; "
        "the switch beside the view chooses between them.",
        "Keras's <code>recurrent_dropout</code> is not this method: it masks the previous "
        "hidden state, as in the next step.",
    ),
    formula=r"c_t = f_t \odot c_{t-1} + i_t \odot \frac{m_t \odot g_t}{1-p},\quad "
    r"m_t \sim \mathrm{Bernoulli}(1-p)",
    question=Question(
        prompt="What share of the update's units switches between dropped and kept from one "
        "step to the next, on average?",
        answer=Answer("theory", "expected_changed_fraction"),
        why="{answer}. With a new mask at every step a unit switches when it is kept at one "
        "step and dropped at the next, or the reverse: 2p(1 − p). With one mask per sequence "
        "nothing switches. Either way c itself is never masked.",
    ),
    cites=("recurrent",),
    height=900,
)

VARIATIONAL = Step(
    id="variational",
    title="Variational RNN dropout: the same masks at every step",
    embed="method=variational_rnn&view=lstm&p=0.25&p_input=0.25&controls=p,p_input",
    paragraphs=(
        "Gal and Ghahramani (2016) derived dropout for recurrent networks from approximate "
        "Bayesian inference. Dropping a unit's input is the same as drawing weights with that "
        "column set to zero, and an RNN uses the same weights at every step, so the same units "
        "must be dropped at every step of a sequence. Their masks are drawn once per sequence "
        "and applied to the input x and to the previous hidden state h where they enter the "
        "gates' matrix products, and to the outputs between layers.",
        "The cell state is never masked directly, and inverted scaling is safe: the factor "
        "scales an input of a matrix product, not a state carried along. For language models "
        "the paper also drops whole words, rows of the embedding matrix, at all their "
        "positions in a sequence.",
        "This is what Keras's <code>recurrent_dropout</code> does, and what awd-lstm's "
        "<code>LockedDropout</code> does between layers. PyTorch's "
        "<code>nn.LSTM(dropout=…)</code> is ordinary dropout between stacked layers, new at "
        "every step, with nothing on the recurrent path.",
    ),
    formula=r"(i,f,o,g) = \mathrm{act}\big(W (x_t \odot z_x) + U (h_{t-1} \odot z_h) + "
    r"b\big),\quad z_x, z_h \text{ drawn once per sequence}",
    question=Question(
        prompt="Besides the input x, which part of the LSTM does variational dropout mask?",
        kind="choice",
        choices=(
            ("h", "the previous hidden state, where it enters the gates"),
            ("c", "the cell state"),
            ("g", "the update written into the cell state"),
        ),
        answer=Answer("theory", "masks.1.acts_on"),
        why="{answer}: the mask zₕ multiplies hₜ₋₁ before the products with U that compute "
        "every gate, with the same mask at every step, so no unit of c is ever zeroed by it.",
    ),
    cites=("variational_rnn",),
    height=900,
)

ZONEOUT = Step(
    id="zoneout",
    title="Zoneout: keep the old value instead of a zero",
    embed="method=zoneout&view=lstm&zoneout_c=0.5&zoneout_h=0.05&controls=zoneout_c,zoneout_h",
    paragraphs=(
        "Krueger et al. (2017) replace dropping by holding: at each step, each unit of the cell "
        "state keeps its previous value with probability z_c instead of taking the new one, "
        "and each unit of the hidden state does the same with probability z_h. Nothing is set "
        "to zero; a unit that is zoned out simply skips one update.",
        "A held unit passes its value, and its gradient, unchanged through that step, like an "
        "identity connection in time; this helps both travel over long distances. The idea is "
        "close to stochastic depth, a later step of this path, applied along time instead of "
        "across layers.",
        "At test time the masks are replaced by their expectation: each unit takes z of its "
        "previous value and 1 − z of the new one. The paper's character-level Penn Treebank "
        "model used z_c = 0.5 and z_h = 0.05, the values on screen.",
    ),
    formula=r"c_t = d^c \odot c_{t-1} + (1-d^c) \odot \tilde c_t,\quad "
    r"h_t = d^h \odot h_{t-1} + (1-d^h) \odot \tilde h_t",
    question=Question(
        prompt="Counting the cell and the hidden units together, what share of them keeps its "
        "previous value at a step, on average?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="{answer}: the mean of z_c and z_h, since c and h have as many units each. These "
        "units are not dropped: they are held.",
    ),
    cites=("zoneout",),
    height=900,
)

SECTION = Section("rnn", "Recurrent networks", (NAIVE, RNNDROP, RECURRENT, VARIATIONAL, ZONEOUT))
