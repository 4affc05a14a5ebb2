"""Information quantities of an infinite ensemble over the training-time grid.

One module per family of quantities (spec `information_ntk.md` §3, C.1-C.7), each function
vectorised over an array of T times, float64:

  losses    mse, accuracy, loss_gibbs, loss_bayes, loss_bayes_joint            (C.1)
  izy       izy_lower (Barber-Agakov, proper decoder), izy_lower_paper,
            fit_decoder_variance, expected_log_decoder                          (C.2)
  izx       izx_bounds, izx_lower, izx_upper, izx_mc (Gaussian-mixture bounds)  (C.3)
  kl        kl_prior, kl_prior_joint (KL to the t = 0 prior)                   (C.4)
  weights   fisher_trace, parameter_energy, weight_information(_rate),
            kernel_scale_derivative                                             (C.5-C.7)
  plane     information_plane, information_plane_from_dataset, PlaneOptions

Conventions (DESIGN.md). `t` is neural-tangents' time, tau = learning_rate * t / (n k) the
dimensionless time; t = 0 is the prior, t = np.inf the converged ensemble. The predictive
distribution of the output on a point x is N(mu(x), s(x) I_k) (the k outputs share one
variance), and across points N(mu_c, Sigma_tau(X*, X*)) for each output column c.

Call convention. Prediction-level functions take a `Prediction` (from
`InfiniteEnsemble.predict`) and targets y (m, k), or an `InfiniteEnsemble` with `x=` and `t=`
(they then predict first). Weight-space functions take the ensemble and t. Return convention:
a deterministic quantity is a (T,) float64 array; a quantity with Monte Carlo error is a
`mixture.MIEstimate(value, se)` of (T,) float64 arrays. Options are `typing.Literal` strings
(`Labels`, `FitOn`, `Form`, `On`), checked by one helper. Randomness: every draw for a time
derives from (seed, t) alone, so the same (t, seed) gives the same numbers in any time grid.
"""

from __future__ import annotations

from ntk_info.information._inputs import (
    LABEL_KINDS,
    FitOn,
    Form,
    LabelKind,
    Labels,
    On,
    discrete_entropy,
    label_kind,
)
from ntk_info.information.izx import izx_bounds, izx_lower, izx_mc, izx_rows, izx_upper
from ntk_info.information.izy import (
    SIGMA2_RANGE,
    expected_log_decoder,
    fit_decoder_variance,
    izy_lower,
    izy_lower_paper,
)
from ntk_info.information.kl import JITTER, kl_prior, kl_prior_joint
from ntk_info.information.losses import (
    LOG_2PI,
    accuracy,
    loss_bayes,
    loss_bayes_joint,
    loss_gibbs,
    mse,
)
from ntk_info.information.plane import (
    PlaneOptions,
    information_plane,
    information_plane_from_dataset,
)
from ntk_info.information.weights import (
    fisher_trace,
    kernel_scale_derivative,
    parameter_energy,
    weight_information,
    weight_information_rate,
)

__all__ = [
    "LABEL_KINDS",
    "label_kind",
    "discrete_entropy",
    "mse",
    "accuracy",
    "loss_gibbs",
    "loss_bayes",
    "loss_bayes_joint",
    "kl_prior",
    "kl_prior_joint",
    "izx_bounds",
    "izx_lower",
    "izx_upper",
    "izx_mc",
    "fit_decoder_variance",
    "expected_log_decoder",
    "izy_lower",
    "izy_lower_paper",
    "fisher_trace",
    "parameter_energy",
    "kernel_scale_derivative",
    "weight_information",
    "weight_information_rate",
    "information_plane",
    "information_plane_from_dataset",
    # new with the package
    "PlaneOptions",
    "izx_rows",
    "Labels",
    "LabelKind",
    "FitOn",
    "Form",
    "On",
    "SIGMA2_RANGE",
    "JITTER",
    "LOG_2PI",
]
