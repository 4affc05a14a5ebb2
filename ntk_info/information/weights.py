"""Weight space (spec C.5-C.7): Fisher trace, parameter energy, information in the weights.

These need only the training kernels, through the ensemble's public `spectrum` (mode 'ntk'):
Theta_dyn = V diag(lam) V^T, the NTK that the gradient flow uses (Theta(X, X) plus the ridge
`diag_reg`, equal to Theta(X, X) when diag_reg = 0), diag(V^T K V), V^T Y and Tr Theta_dyn.
In the eigenbasis every quantity is a sum over eigenvalues of the spectral functions of
`ntk_info.gain` (gain g, growth 1 - e^{-tau lam}, decay e^{-tau lam}), which carry the
lam = 0 and tau = inf limits. Each function takes the ensemble and times t (T,) and returns
(T,) float64; `weight_columns` is the information plane's builder for this family.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ntk_info import gain as spectral
from ntk_info._checks import as_float_array
from ntk_info.ensemble import InfiniteEnsemble
from ntk_info.information._inputs import Form, as_ensemble, check_option

__all__ = [
    "fisher_trace",
    "parameter_energy",
    "kernel_scale_derivative",
    "weight_information",
    "weight_information_rate",
    "check_dk_dscale",
    "weight_columns",
]


def fisher_trace(ensemble: InfiniteEnsemble, t: Any) -> np.ndarray:
    """Trace of the Fisher information of the linearised net, Tr F = k Tr Theta_dyn.

    Theta_dyn is the training NTK that the dynamics use (`ensemble.spectrum.trace`: Theta(X, X)
    plus the ridge of `diag_reg`; Tr Theta(X, X) itself when diag_reg = 0), the same trace as
    the volume term k tau Tr Theta_dyn of `weight_information`, whose rate tends to Tr F.
    Constant in t (spec C.5); the training NTK, not the test-by-train block.

    Args:
      ensemble: `InfiniteEnsemble` (mode 'ntk').
      t: (T,) times.

    Returns:
      (T,) float64, all equal to k Tr Theta_dyn.

    Reference: Shwartz-Ziv & Alemi (2019), App. C.5.
    """
    tau = as_ensemble(ensemble, ntk=True).tau(t)
    return _fisher(ensemble, tau)


def parameter_energy(ensemble: InfiniteEnsemble, t: Any) -> np.ndarray:
    """Fisher-metric path energy E int_0^tau |J theta_dot|^2 ds of the gradient flow (per unit tau).

    E = 1/2 [ k Tr(K Theta (I - e^{-2 tau Theta})) + sum_c Y_c^T Theta (I - e^{-2 tau Theta}) Y_c ]
      = 1/2 sum_a lam_a growth_{2 tau}(lam_a) [ k (V^T K V)_aa + |(V^T Y)_a|^2 ],
    finite at tau = inf. The paper calls it a squared path length; it is the energy
    (E[L]^2 <= tau E, spec C.6 [fix]).

    Args:
      ensemble: `InfiniteEnsemble` (mode 'ntk').
      t: (T,) times.

    Returns:
      (T,) float64.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (15-18).
    """
    tau = as_ensemble(ensemble, ntk=True).tau(t)
    return _energy(ensemble, tau)


def weight_information(
    ensemble: InfiniteEnsemble, t: Any, *, form: Form = "paper", dk_dscale: Any = None
) -> np.ndarray:
    """Upper bound on the information in the weights I(theta;D) <= KL(p(theta_tau|D) || p_0).

    paper:  I = k Tr(K Theta^{-1}(I - e^{-tau Theta})^2)
                + sum_c Y_c^T Theta^{-1}(I - e^{-tau Theta})^2 Y_c + k tau Tr Theta
              = E|Delta theta|^2 + k tau Tr Theta,
            in the eigenbasis with (1 - e^{-tau lam})^2 / lam = growth_tau(lam)^2 / lam
            (`ntk_info.gain`; 0 at lam = 0 for every tau).
    corrected: the KL itself, with the cross term the paper drops (its eq. 23-26):
            KL = E[theta_0^T Delta theta] + 1/2 E|Delta theta|^2 + k tau Tr Theta,
            E[theta_0^T Delta theta] = -(k/2) Tr(A_tau dK_s/ds|_{s=1}),
            A_tau = Theta^{-1}(I - e^{-tau Theta}).
    Theta is Theta_dyn, the NTK the dynamics use (`ensemble.spectrum`; Theta(X, X) plus the ridge
    of `diag_reg`), everywhere, the volume term included: its rate k Tr Theta_dyn is
    `fisher_trace`.
    Derivation: Delta theta_tau = -J^T A_tau (z_0 - Y) per output column, so
      E[theta_0^T Delta theta] = -sum_c E[(J theta_0)_c^T A_tau (z_0,c - Y_c)]
      = -k Tr(A_tau C)  (E[J theta_0] = 0),  C(x, x') = E[(J theta_0)(x) f_0(x')];
    in the NTK parameterisation J theta_0 = d/ds f(x; s theta_0)|_{s=1}, so C + C^T = dK_s/ds with
    K_s the NNGP kernel with every std scaled by s, and Tr(A C) = Tr(A (C + C^T)) / 2 since A is
    symmetric. The log-density term: along the linear flow div(theta_dot) = -k Tr Theta, so
    log p_tau(theta_tau) = log p_0(theta_0) + k tau Tr Theta. Bias-free ReLU nets of depth L have
    K_s = s^{2L} K, hence a cross term -k L Tr(A_tau K).

    Args:
      ensemble: `InfiniteEnsemble` (mode 'ntk').
      t: (T,) times; t = inf gives inf (the k tau Tr Theta term).
      form: 'paper' or 'corrected' (`Form`).
      dk_dscale: (n, n) dK_s/ds at s = 1 on the training inputs (`kernel_scale_derivative`);
        required for form='corrected'.

    Returns:
      (T,) float64, nats.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (19-27) (spec C.7 with its fixes).
    """
    tau = as_ensemble(ensemble, ntk=True).tau(t)
    dk_diag = check_dk_dscale(ensemble, form, dk_dscale)
    return _information(ensemble, tau, dk_diag)


def weight_information_rate(
    ensemble: InfiniteEnsemble, t: Any, *, form: Form = "paper", dk_dscale: Any = None
) -> np.ndarray:
    """dI(theta;D)/dtau, the rate of `weight_information` per unit of dimensionless time tau.

    paper:  2k Tr(K (I - e^{-tau Theta}) e^{-tau Theta})
            + 2 sum_c Y_c^T (I - e^{-tau Theta}) e^{-tau Theta} Y_c + k Tr Theta
            -> k Tr Theta = `fisher_trace` as tau -> inf;
    corrected: -(k/2) Tr(e^{-tau Theta} dK_s/ds) + half the first two paper terms + k Tr Theta.
    Theta = Theta_dyn as in `weight_information`. Per unit t multiply by learning_rate / (n k).

    Args, Returns: as in `weight_information`; nats per unit tau.
    """
    tau = as_ensemble(ensemble, ntk=True).tau(t)
    dk_diag = check_dk_dscale(ensemble, form, dk_dscale)
    return _rate(ensemble, tau, dk_diag)


def kernel_scale_derivative(
    make_kernel_fn: Callable[[float], Any], x: Any, h: float = 1e-4
) -> np.ndarray:
    """dK_s/ds at s = 1: NNGP kernel with all W_std and b_std scaled by s, central difference.

    (K_{1+h}(x, x) - K_{1-h}(x, x)) / (2h), error O(h^2). In the NTK parameterisation
    J theta_0 = d/ds f(x; s theta_0)|_{s=1} and f(x; s theta_0) has the law of the network with
    every std scaled by s, so dK_s/ds = C + C^T with C(x, x') = E[(J theta_0)(x) f_0(x')].

    Args:
      make_kernel_fn: s -> kernel_fn (or stax triple) of the architecture with W_std, b_std
        multiplied by s, e.g. `lambda s: fc(3, W_std=1.5 * s, b_std=0.1 * s)`.
      x: (n, ...features) inputs (the training inputs for `weight_information`).
      h: step of the central difference.

    Returns:
      (n, n) float64.
    """
    from ntk_info.architectures import as_kernel_fn
    from ntk_info.kernels import kernel_matrices

    x = as_float_array("x", x, min_ndim=2)
    if not 0 < h < 0.5:
        raise ValueError(f"`h` must be in (0, 0.5), got {h}.")
    plus = kernel_matrices(as_kernel_fn(make_kernel_fn(1.0 + h)), x, get=("nngp",))["nngp"]
    minus = kernel_matrices(as_kernel_fn(make_kernel_fn(1.0 - h)), x, get=("nngp",))["nngp"]
    out = (plus - minus) / (2.0 * h)
    return 0.5 * (out + out.T)


def check_dk_dscale(ensemble: InfiniteEnsemble, form: Any, dk_dscale: Any) -> np.ndarray | None:
    """Checks `form` and `dk_dscale`: diag(V^T dK_s/ds V) (n,) for form='corrected', else None."""
    if check_option("form", form, Form) == "paper":
        return None
    if dk_dscale is None:
        raise ValueError(
            "form='corrected' needs `dk_dscale`, the derivative dK_s/ds at s = 1 of the training "
            "NNGP kernel when every W_std and b_std is scaled by s: compute it with "
            "kernel_scale_derivative(lambda s: <architecture with stds * s>, ensemble.x_train)."
        )
    n = ensemble.n_train
    dk = as_float_array("dk_dscale", dk_dscale, ndim=2)
    if dk.shape != (n, n):
        raise ValueError(f"`dk_dscale` must have shape ({n}, {n}), got {dk.shape}.")
    return np.asarray(ensemble.rotated_diagonal(dk), dtype=np.float64)


def weight_columns(
    ensemble: InfiniteEnsemble, tau: np.ndarray, dk_diag: np.ndarray | None
) -> dict[str, Any]:
    """The information plane's weight-space columns (mode 'ntk'), each (T,): fisher_trace,
    parameter_energy, weight_information, weight_information_rate_per_tau. `dk_diag` comes from
    `check_dk_dscale` (None for the paper form)."""
    return dict(
        fisher_trace=_fisher(ensemble, tau),
        parameter_energy=_energy(ensemble, tau),
        weight_information=_information(ensemble, tau, dk_diag),
        weight_information_rate_per_tau=_rate(ensemble, tau, dk_diag),
    )


# ----------------------------------------------------------------------------------------------
# Cores: an ensemble in mode 'ntk' and validated tau (T,) in, (T,) out.
# ----------------------------------------------------------------------------------------------


def _moments(ensemble: InfiniteEnsemble) -> tuple[np.ndarray, np.ndarray, int, float]:
    """lam (n,), k diag(V^T K V) + sum_c (V^T Y_c)^2 (n,), k, Tr Theta_dyn."""
    spectrum = ensemble.spectrum
    k = ensemble.n_outputs
    weight = k * np.asarray(spectrum.k_rot_diag) + np.sum(np.asarray(spectrum.y_rot) ** 2, axis=1)
    return np.asarray(spectrum.eigenvalues), weight, k, float(spectrum.trace)


def _fisher(ensemble: InfiniteEnsemble, tau: np.ndarray) -> np.ndarray:
    return np.full(tau.shape, ensemble.n_outputs * float(ensemble.spectrum.trace))


def _energy(ensemble: InfiniteEnsemble, tau: np.ndarray) -> np.ndarray:
    lam, weight, _, _ = _moments(ensemble)
    return 0.5 * spectral.growth(2.0 * tau, lam) @ (lam * weight)


def _information(ensemble: InfiniteEnsemble, tau: np.ndarray, dk_diag: Any) -> np.ndarray:
    lam, weight, k, trace = _moments(ensemble)
    # E|Delta theta|^2 = sum_a growth_a^2 / lam_a [...]_a; growth = 0 where lam = 0, any tau.
    growth = spectral.growth(tau, lam)
    delta_sq = (growth**2 / np.where(lam > 0, lam, 1.0)) @ weight
    volume = k * tau * trace
    if dk_diag is None:
        return delta_sq + volume
    return -0.5 * k * (spectral.gain(tau, lam) @ dk_diag) + 0.5 * delta_sq + volume


def _rate(ensemble: InfiniteEnsemble, tau: np.ndarray, dk_diag: Any) -> np.ndarray:
    lam, weight, k, trace = _moments(ensemble)
    decay = spectral.decay(tau, lam)
    delta_rate = (2.0 * spectral.growth(tau, lam) * decay) @ weight
    if dk_diag is None:
        return delta_rate + k * trace
    return -0.5 * k * (decay @ dk_diag) + 0.5 * delta_rate + k * trace
