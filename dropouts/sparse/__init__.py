"""Model compression via dropout: sparse variational dropout and structured Bayesian pruning.

``LinearSVDO`` is the dense layer of sparse variational dropout (Molchanov, Ashukha & Vetrov,
"Variational Dropout Sparsifies Deep Neural Networks", ICML 2017): every weight carries its own
Gaussian multiplicative noise ``w = θ ⊙ ξ``, ``ξ ~ N(1, α)``; weights whose learnt ``log α``
exceeds a threshold carry no signal and are pruned at test time.

``SBPDropout`` is the noise layer of structured Bayesian pruning (Neklyudov, Molchanov, Ashukha &
Vetrov, "Structured Bayesian Pruning via Log-Normal Multiplicative Noise", NeurIPS 2017): one
multiplicative factor ``θ`` per channel with ``log θ`` a normal truncated to ``[-20, 0]``;
channels whose signal-to-noise ratio ``E[θ] / std(θ)`` falls to 1 or below are removed.

Both layers expose ``kl()``; ``total_kl`` sums it over a model and ``elbo_loss`` builds the
per-example negative ELBO. Reference code: ``bayesgroup/variational-dropout-sparsifies-dnn``
(SVDO) and ``necludov/group-sparsity-sbp:nets/layers.py`` (SBP).

The package, one concern a module: :mod:`.svdo` (``LinearSVDO`` and its KL, ``svdo_kl``),
:mod:`.sbp` (``SBPDropout``), :mod:`._truncated_normal` (the truncated-normal closed forms and
sampler SBP rests on, in float64 and log space) and :mod:`.losses` (``total_kl``,
``elbo_loss``). Every name is re-exported here.
"""

from .losses import elbo_loss, total_kl
from .sbp import SBPDropout
from .svdo import LinearSVDO, svdo_kl

__all__ = [
    "LinearSVDO",
    "SBPDropout",
    "elbo_loss",
    "svdo_kl",
    "total_kl",
]
