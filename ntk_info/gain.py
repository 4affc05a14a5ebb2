"""The spectral functions of gradient flow on squared loss, with their limits, in one place.

Gradient flow on 0.5 |f(X) - Y|^2 with kernel M = V diag(lam) V^T moves the training outputs
by (I - e^{-tau M}) and the test outputs by M* M^{-1} (I - e^{-tau M}). In the eigenbasis every
quantity of the toolkit is a sum over eigenvalues of one of

    decay_tau(lam)  = exp(-tau lam)                  (1 at lam = 0, for every tau, inf included)
    growth_tau(lam) = 1 - exp(-tau lam)              (0 at lam = 0, for every tau, inf included)
    gain_tau(lam)   = (1 - exp(-tau lam)) / lam      (tau at lam = 0; 1/lam at tau = inf)

so that A_tau = M^{-1}(I - e^{-tau M}) = V diag(gain_tau) V^T. At lam = 0 the flow does not
move: that direction keeps its prior (decay 1, growth 0) and the gain grows like tau, without
bound. Every function takes tau (T,) in [0, inf] and lam (n,) >= 0 and returns (T, n) float64.

Reference: Lee et al. 2019 (eq. 10-11); information_ntk.md §2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["gain", "growth", "decay"]


def _grid(tau: Any, lam: Any) -> tuple[np.ndarray, np.ndarray]:
    tau = np.asarray(tau, dtype=np.float64).reshape(-1)[:, None]
    lam = np.asarray(lam, dtype=np.float64).reshape(-1)[None, :]
    return tau, lam


def gain(tau: Any, lam: Any) -> np.ndarray:
    """g_tau(lam) = (1 - exp(-tau lam)) / lam, stably, for every (tau, lam) pair.

    -expm1(-tau lam) / lam for lam > 0; the limit tau at lam = 0 (inf at tau = inf); 1/lam at
    tau = inf. For x = tau lam < 1e-8 the series tau (1 - x/2) (error x^2/6), which stays exact
    when x underflows to a denormal, where expm1(-x)/lam loses digits.

    Args:
      tau: (T,) dimensionless times in [0, inf].
      lam: (n,) eigenvalues >= 0.

    Returns:
      (T, n) float64.
    """
    tau, lam = _grid(tau, lam)
    positive = lam > 0
    safe_lam = np.where(positive, lam, 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        x = tau * safe_lam
        ratio = np.where(x < 1e-8, tau * (1 - 0.5 * x), -np.expm1(-x) / safe_lam)
    return np.where(positive, ratio, np.broadcast_to(tau, ratio.shape))


def growth(tau: Any, lam: Any) -> np.ndarray:
    """1 - exp(-tau lam) = lam g_tau(lam): 0 at lam = 0 (every tau), 1 at tau = inf (lam > 0).

    Args, Returns: as in `gain`.
    """
    tau, lam = _grid(tau, lam)
    positive = lam > 0
    with np.errstate(invalid="ignore"):
        out = -np.expm1(-tau * np.where(positive, lam, 0.0))
    return np.where(positive, out, 0.0)


def decay(tau: Any, lam: Any) -> np.ndarray:
    """exp(-tau lam): 1 at lam = 0 (every tau, inf included), 0 at tau = inf (lam > 0).

    Args, Returns: as in `gain`.
    """
    tau, lam = _grid(tau, lam)
    positive = lam > 0
    with np.errstate(invalid="ignore"):
        out = np.exp(-tau * np.where(positive, lam, 0.0))
    return np.where(positive, out, 1.0)
