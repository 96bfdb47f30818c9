"""The path, section 3: dropout in convolutional networks. Why pixel dropout fails on images
(Tompson et al. 2015), max-pooling dropout (Wu & Gu 2015), spatial dropout (Tompson et al.
2015), Cutout (DeVries & Taylor 2017), Max-Drop and stochastic dropout (Park & Kwak 2016) and
DropBlock (Ghiasi et al. 2018)."""

from __future__ import annotations

from .path import Answer, Question, Section, Step

PIXELS = Step(
    id="pixels",
    title="Why dropping pixels barely hides a picture",
    embed="method=standard&view=image&p=0.5&controls=p",
    paragraphs=(
        "Dropout was designed for fully connected layers, where every unit carries its own "
        "piece of information. The units of a picture, or of a convolutional feature map, are "
        "different: objects and their colours cover many pixels, so a pixel is nearly always "
        "close in value to the pixels around it.",
        "When one pixel is zeroed, its neighbours still tell what it was. The cat beside this "
        "text stays a cat with half of its pixels gone, and a network can learn to fill each "
        "hole from the kept pixels around it. Tompson et al. (2015) made the same observation "
        "about feature maps: when neighbouring activations are strongly correlated, dropping "
        "each one independently hardly regularises the network and mostly acts like a lower "
        "learning rate.",
        "The lab measures this (the study under the image view, in the lab): at the same "
        "dropped share, the missing pixels are rebuilt as a weighted average of the kept ones "
        "nearby (the formula) and compared with the original. Single pixels are by far the "
        "easiest to rebuild; the next steps drop whole regions or whole maps, which the "
        "neighbours cannot fill in.",
    ),
    formula=r"\hat x_u = \frac{\sum_{v} w_{uv}\, m_v\, x_v}{\sum_{v} w_{uv}\, m_v},\quad "
    r"m_v \sim \mathrm{Bernoulli}(1-p)",
    question=Question(
        prompt="At this p, what share of the cat's pixels is black in a frame, on average?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="{answer}: every pixel is dropped with probability p, independently of the others. "
        "A dropped pixel loses all eight of its neighbours only with probability p⁸, so the "
        "cat stays readable long after half of its pixels are gone.",
    ),
    cites=("standard", "spatial"),
)

MAXPOOL = Step(
    id="maxpool",
    title="Max-pooling dropout: which unit of the window wins",
    embed="method=maxpool&view=pooling&p=0.5&kernel_size=2&controls=p",
    paragraphs=(
        "Dropout is often placed just before a max-pooling layer. Wu and Gu (2015) worked out "
        "what that does: the pool returns the largest of the units that survived, so its output "
        "is not always the window's maximum any more. Sort the n units of a window from the "
        "largest down: the largest wins when it is kept, with probability 1 − p; the second "
        "when the largest is dropped and it is kept, (1 − p)p; and so on. With probability pⁿ "
        "all of them are dropped and the output is zero.",
        "Training therefore picks one value of each window at random, with these "
        "probabilities, which the paper describes as sampling from a multinomial distribution. "
        "At test time Wu and Gu replace the max by its expectation, <em>probabilistic weighted "
        "pooling</em>: each sorted value times its probability of winning. The usual "
        "shortcut, the plain maximum times 1 − p, does not match what training saw. (The paper "
        "writes p for the probability of keeping a unit; here p drops it.)",
        "The view zooms into one feature map cut into 2 × 2 windows and shows, at each "
        "iteration, which rank won in each window.",
    ),
    formula=r"y_j = \max_{i \in R_j} m_i a_i,\quad \text{test: } "
    r"y_j = \sum_{i=1}^{n} (1-p)\,p^{\,n-i}\, a'_i,\quad a'_1 \le \dots \le a'_n",
    question=Question(
        prompt="Across the windows of this map, which unit is the pooled output most often?",
        kind="choice",
        choices=(
            ("0", "the largest unit of the window"),
            ("1", "the second largest"),
            ("2", "the third largest"),
            ("3", "the smallest"),
            ("4", "none: all four are dropped and the output is 0"),
        ),
        answer=Answer("theory", "expected_rank_counts", "highest"),
        why="Most often: {answer}. The largest unit wins with probability 1 − p, the k-th "
        "largest with (1 − p)pᵏ⁻¹, and a window loses all four units with probability p⁴, "
        "which is the likeliest outcome once p is above about 0.72.",
    ),
    cites=("maxpool",),
)

SPATIAL = Step(
    id="spatial",
    title="Spatial dropout: whole feature maps",
    embed="method=spatial&view=feature_maps&p=0.5&controls=p,scaling",
    paragraphs=(
        "Training a convolutional network to locate human joints, Tompson and colleagues "
        "replaced the mask per activation by a mask per feature map: each map of each example "
        "is either kept whole or zeroed whole, with probability p (Tompson et al. 2015). A "
        "dropped map takes its neighbours in space with it, so nothing nearby can stand in for "
        "it; the network has to make do with the other maps.",
        "The mask has one entry per example and channel and is broadcast over the height and "
        "the width: <code>nn.Dropout2d</code> in PyTorch, <code>SpatialDropout2D</code> in "
        "Keras. Tompson's Torch7 layer did not scale while training and multiplied by 1 − p at "
        "test time; the frameworks use inverted scaling instead.",
        "The view runs a fixed convolutional stage on the cat and drops its eight maps.",
    ),
    formula=r"y_{c} = \frac{m_c\, x_{c}}{1-p},\quad m_c \sim \mathrm{Bernoulli}(1-p)"
    r"\text{ per channel}",
    question=Question(
        prompt="At this p, what share of all the activations of the eight maps does one pass "
        "zero, on average?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="{answer}: the same share as dropping every activation with probability p, but in "
        "pieces of a whole map. One pass may zero none of the maps or all of them, so the share "
        "varies far more from pass to pass than with dropout per activation.",
    ),
    cites=("spatial",),
)

CUTOUT = Step(
    id="cutout",
    title="Cutout: a square hole in the input",
    embed="method=cutout&view=image&size=96&n_holes=1&controls=size",
    paragraphs=(
        "DeVries and Taylor (2017) drop one contiguous region of the input instead of "
        "scattered units: a square of side L, placed at random, is set to zero in every "
        "channel of a training image. It is a data augmentation, with no scaling and nothing "
        "at test time. A network that cannot count on any one part of an object being visible "
        "learns to use all of it, as it would have to with a partly hidden object.",
        "Their code cuts the hole after the image is normalised, so a zero is the data set's "
        "mean colour rather than black. The centre of the square is drawn uniformly over the "
        "whole image, borders included, so part of a hole often lies outside the picture. On "
        "the 32 × 32 images of CIFAR-10 they used L = 16.",
    ),
    formula=r"y = x \odot M,\quad M = 0 \text{ on } L\times L \text{ squares around "
    r"uniform centres}",
    question=Question(
        prompt="What share of the cat does one hole of this size drop, on average?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="{answer} of the pixels on average: at most L²/(H·W), the share of one whole "
        "square, and less as soon as the hole can hang over the border, since its centre may "
        "fall anywhere in the picture.",
    ),
    cites=("cutout",),
)

MAXDROP = Step(
    id="maxdrop",
    title="Max-Drop: dropping the strongest responses",
    embed="method=maxdrop&view=feature_maps&p=0.2&mode=feature&window=1&controls=p,mode",
    paragraphs=(
        "Park and Kwak (2016) studied what dropout does inside convolutional layers and "
        "proposed to drop the largest activations rather than random ones. Feature-wise, each "
        "feature map loses its maximum with probability p; channel-wise, at each position, the "
        "channel holding the largest value there is zeroed with probability p.",
        "Removing the strongest response makes the network rely on weaker ones as well. "
        "What is removed is always large, so the output is lower on average than without "
        "Max-Drop, by an amount that depends on the input; the authors' code rescales at most "
        "by the expected number of zeroed units, and does nothing at test time.",
        "The details here follow the authors' public Caffe code, which can also zero a small "
        "square around each maximum instead of the maximum alone.",
    ),
    formula=r"y = x \odot M,\quad M = 0 \text{ at } \mathrm{arg\,max} \text{ (each map or "
    r"each position) with probability } p",
    question=Question(
        prompt="At this p, what share of all the activations does Max-Drop zero, on average?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="{answer}. Feature-wise, a map loses a single activation, its maximum, with "
        "probability p: p/(H·W) of its activations. Channel-wise, each position loses its "
        "largest channel with probability p: p/C of them. Far less than p either way, but "
        "always the strongest responses.",
        high=0.2,
        step=0.001,
        tolerance=0.005,
    ),
    cites=("maxdrop",),
)

STOCHASTIC = Step(
    id="stochastic",
    title="Stochastic dropout: a new p at every iteration",
    embed="method=stochastic&view=feature_maps&mu=0.02&sigma=0.225&controls=mu,sigma",
    paragraphs=(
        "In the same paper Park and Kwak (2016) make the drop rate itself random: at every "
        "training iteration a new p is drawn, from a normal distribution N(μ, σ) or a uniform "
        "one, and the layer applies ordinary dropout with it. Some iterations drop almost "
        "nothing, others a lot.",
        "The authors' code adds three rules: a negative draw means no dropout at that "
        "iteration (its absolute value when μ = 0), a draw above 0.7 is cut to 0.7, and a kept "
        "unit is multiplied by 1/(1 − p) but never by more than 1.5. Here σ is the normal "
        "distribution's standard deviation, not its variance.",
    ),
    formula=r"p_t \sim \mathcal{N}(\mu, \sigma),\quad y = \min\!\big(\tfrac{1}{1-p_t}, "
    r"1.5\big)\, m \odot x,\ m_i \sim \mathrm{Bernoulli}(1-p_t)",
    question=Question(
        prompt="Over many iterations, what share of the activations is dropped on average "
        "with this μ and σ?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="{answer}: the mean of the p actually used. Draws below zero become 0 (|p| when "
        "μ = 0) and draws above 0.7 become 0.7, so the mean equals μ only when σ is small "
        "next to μ and to 0.7 − μ.",
        high=0.7,
        step=0.005,
        tolerance=0.02,
    ),
    cites=("stochastic",),
)

DROPBLOCK = Step(
    id="dropblock",
    title="DropBlock: contiguous blocks, and the share they really drop",
    embed="method=dropblock&view=image&p=0.2&block_size=31&controls=p,block_size",
    paragraphs=(
        "Ghiasi, Lin and Le (2018) drop square blocks of a feature map rather than single "
        "units, so that the kept neighbours cannot fill the gap. Block centres are drawn with a "
        "small probability γ among the positions where a whole b × b block fits. It is close "
        "to Cutout, but on feature maps, wherever in the network it is placed.",
        "The parameter is a target drop rate p (1 − keep_prob in the paper), and γ is derived "
        "from it so that the blocks would cover a share p of the map if no two of them ever "
        "overlapped. They do overlap, so the share really dropped is lower, much lower for a "
        "large p with big blocks. The kept units are then scaled by the number of units over "
        "the number kept in the mask actually drawn, not by 1/(1 − p).",
        "On ResNet-50 the paper used 7 × 7 blocks, and it did not start at the final rate: "
        "keep_prob went down linearly from 1 to 0.9 during training.",
    ),
    formula=r"\gamma = \frac{p\,HW}{b^2\,(H-b+1)(W-b+1)},\quad \mathbb{E}[\text{dropped}] "
    r"= \frac{1}{HW}\sum_{u}\big(1-(1-\gamma)^{n_u}\big) \le p",
    question=Question(
        prompt="With this p and block size, what share of the cat does DropBlock really drop?",
        answer=Answer("theory", "expected_dropped_fraction"),
        why="{answer} on average, never more than p: γ counts every block in full, but "
        "overlapping blocks cover some pixels twice (nᵤ is the number of possible blocks "
        "covering pixel u). Only blocks of a single pixel reach p exactly.",
    ),
    cites=("dropblock",),
)

SECTION = Section(
    "cnn",
    "Convolutional networks",
    (PIXELS, MAXPOOL, SPATIAL, CUTOUT, MAXDROP, STOCHASTIC, DROPBLOCK),
)
