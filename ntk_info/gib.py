"""The Gaussian information-bottleneck optimum: the best I(T;Y) at each I(T;X) for Gaussian (X, Y).

For jointly Gaussian X (d_x) and Y (d_y) the optimal encoders are noisy linear projections
T = A X + xi (Chechik, Globerson, Tishby & Weiss, JMLR 2005). With lambda_1 <= ... <= lambda_d
the eigenvalues of Sigma_{x|y} Sigma_x^{-1} (in [0, 1];
Sigma_{x|y} = Sigma_x - Sigma_xy Sigma_y^{-1} Sigma_yx), eigenvalue i becomes active at the
critical trade-off beta_i^c = 1 / (1 - lambda_i),
and with the n smallest eigenvalues active

    I_X(beta) = 1/2 sum_{i<=n} log((beta - 1)(1 - lambda_i) / lambda_i),
    I_Y(beta) = I_X(beta) - 1/2 sum_{i<=n} log(beta (1 - lambda_i)),

which, eliminating beta, gives the curve

    I_Y*(I_X) = I_X - (n/2) log( prod_i (1 - lambda_i)^{1/n} + e^{2 I_X/n} prod_i lambda_i^{1/n} ).

Scalar Y has one non-trivial eigenvalue lambda = e^{-2 I(X;Y)}:
I_Y*(I_X) = -1/2 log(lambda + (1 - lambda) e^{-2 I_X}). The supremum of the curve is
I(X;Y) = -1/2 sum_i log lambda_i.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ntk_info._checks import as_float_array

__all__ = [
    "gib_eigenvalues",
    "gib_critical_betas",
    "gib_critical_ix",
    "gib_curve",
    "gib_curve_from_dataset",
    "gib_supremum",
    "gib_parametric",
]

#: Eigenvalues above 1 - ACTIVE_TOL carry no information about Y and never become active.
ACTIVE_TOL = 1e-12


def _covariances(cov_x: Any, cov_xy: Any, cov_y: Any) -> tuple[np.ndarray, ...]:
    cov_x = as_float_array("cov_x", cov_x, ndim=(0, 2))
    cov_y = as_float_array("cov_y", cov_y, ndim=(0, 2))
    cov_x = np.atleast_2d(cov_x)
    cov_y = np.atleast_2d(cov_y)
    d_x, d_y = cov_x.shape[0], cov_y.shape[0]
    cov_xy = as_float_array("cov_xy", cov_xy, ndim=(0, 1, 2))
    if cov_xy.ndim < 2 and cov_xy.size == d_x * d_y:
        cov_xy = cov_xy.reshape(d_x, d_y)
    for name, matrix, shape in (
        ("cov_x", cov_x, (d_x, d_x)),
        ("cov_y", cov_y, (d_y, d_y)),
        ("cov_xy", cov_xy, (d_x, d_y)),
    ):
        if matrix.shape != shape:
            raise ValueError(f"`{name}` must have shape {shape}, got {matrix.shape}.")
    for name, matrix in (("cov_x", cov_x), ("cov_y", cov_y)):
        if not np.allclose(matrix, matrix.T, rtol=1e-10, atol=1e-12 * np.abs(matrix).max()):
            raise ValueError(f"`{name}` must be symmetric.")
        if np.linalg.eigvalsh(matrix).min() <= 0:
            raise ValueError(f"`{name}` must be positive definite.")
    joint = np.block([[cov_x, cov_xy], [cov_xy.T, cov_y]])
    if np.linalg.eigvalsh(0.5 * (joint + joint.T)).min() < -1e-10 * np.abs(joint).max():
        raise ValueError(
            "The joint covariance [[cov_x, cov_xy], [cov_xy^T, cov_y]] is not positive "
            "semi-definite; check `cov_xy`."
        )
    return cov_x, cov_xy, cov_y


def gib_eigenvalues(cov_x: Any, cov_xy: Any, cov_y: Any) -> np.ndarray:
    """Eigenvalues of Sigma_{x|y} Sigma_x^{-1}, ascending, in (0, 1].

    Computed as those of the symmetric Sigma_x^{-1/2} Sigma_{x|y} Sigma_x^{-1/2} (similar matrix).

    Args:
      cov_x: (d_x, d_x) covariance of X. cov_xy: (d_x, d_y) cross-covariance. cov_y: (d_y, d_y).

    Returns:
      (d_x,) float64, ascending.

    Raises:
      ValueError: shapes, non-PSD joint covariance, or Y a deterministic function of part of X
        (an eigenvalue 0: I(X;Y) infinite).

    Reference: Chechik et al., JMLR 6 (2005), Sec. 3.
    """
    cov_x, cov_xy, cov_y = _covariances(cov_x, cov_xy, cov_y)
    cond = cov_x - cov_xy @ np.linalg.solve(cov_y, cov_xy.T)
    w, v = np.linalg.eigh(cov_x)
    root_inv = (v / np.sqrt(w)) @ v.T
    sym = root_inv @ cond @ root_inv
    lam = np.clip(np.linalg.eigvalsh(0.5 * (sym + sym.T)), 0.0, 1.0)
    if lam.min() <= 1e-14:
        raise ValueError(
            "Sigma_{x|y} is singular: Y determines part of X exactly and I(X;Y) is infinite; "
            "add noise to Y."
        )
    return lam


def gib_critical_betas(cov_x: Any, cov_xy: Any, cov_y: Any) -> np.ndarray:
    """Critical trade-offs beta_i^c = 1 / (1 - lambda_i), ascending (inf for lambda_i = 1)."""
    lam = gib_eigenvalues(cov_x, cov_xy, cov_y)
    with np.errstate(divide="ignore"):
        return np.where(lam < 1 - ACTIVE_TOL, 1.0 / (1.0 - lam), np.inf)


def _active(lam: np.ndarray) -> np.ndarray:
    return lam[lam < 1 - ACTIVE_TOL]


def _segment_starts(lam: np.ndarray) -> np.ndarray:
    """I_X at which eigenvalue n + 1 becomes active, n = 0..d-1 (0 for n = 0)."""
    starts = [0.0]
    for n in range(1, lam.size):
        beta_minus_1 = lam[n] / (1.0 - lam[n])  # beta_{n+1}^c - 1
        starts.append(0.5 * float(np.sum(np.log(beta_minus_1 * (1.0 - lam[:n]) / lam[:n]))))
    return np.asarray(starts)


def gib_critical_ix(cov_x: Any, cov_xy: Any, cov_y: Any) -> np.ndarray:
    """I_X on the optimal curve at each critical beta_i^c (where eigenvalue i becomes active)."""
    return _segment_starts(_active(gib_eigenvalues(cov_x, cov_xy, cov_y)))


def _curve(lam: np.ndarray, ix: np.ndarray) -> np.ndarray:
    lam = _active(lam)
    if lam.size == 0:
        return np.zeros_like(ix)
    starts = _segment_starts(lam)
    n_active = np.searchsorted(starts, ix, side="right")  # 1..d
    out = np.empty_like(ix)
    for n in np.unique(n_active):
        sel = n_active == n
        head = lam[:n]
        a = np.exp(np.mean(np.log1p(-head)))  # prod (1 - lambda)^{1/n}
        b = np.exp(np.mean(np.log(head)))  # prod lambda^{1/n}
        # I_X - (n/2) log(a + e^{2 I_X / n} b), written stably for large I_X:
        u = 2.0 * ix[sel] / n
        out[sel] = ix[sel] - 0.5 * n * (u + np.log(b + a * np.exp(-u)))
    return out


def gib_curve(cov_x: Any, cov_xy: Any, cov_y: Any, ix: Any) -> np.ndarray:
    """Optimal Gaussian-IB curve I_Y*(I_X) at the given I_X values (nats).

    I_Y* = I_X - (n/2) log( prod_i (1 - lambda_i)^{1/n} + e^{2 I_X/n} prod_i lambda_i^{1/n} ),
    the products over the n active (smallest) eigenvalues at that I_X (segments start at
    `gib_critical_ix`).
    Increasing, concave, 0 at I_X = 0, tending to I(X;Y) (`gib_supremum`).

    Args:
      cov_x: (d_x, d_x); cov_xy: (d_x, d_y); cov_y: (d_y, d_y) (scalars for d = 1).
      ix: I(T;X) values >= 0, any shape (np.inf allowed).

    Returns:
      float64 array of the shape of `ix`.

    Reference: Chechik, Globerson, Tishby & Weiss, "Information Bottleneck for Gaussian
    Variables", JMLR 6:165-188 (2005), Sec. 5, eq. (15)-(16).
    """
    lam = gib_eigenvalues(cov_x, cov_xy, cov_y)
    ix_arr = np.asarray(ix, dtype=np.float64)
    if np.any(np.isnan(ix_arr)) or np.any(ix_arr < 0):
        raise ValueError("`ix` must be >= 0 (and not NaN): I(T;X) is non-negative.")
    flat = ix_arr.reshape(-1)
    finite = np.isfinite(flat)
    out = np.full(flat.shape, gib_supremum(cov_x, cov_xy, cov_y))
    out[finite] = _curve(lam, flat[finite])
    return out.reshape(ix_arr.shape)


def gib_parametric(cov_x: Any, cov_xy: Any, cov_y: Any, beta: Any) -> tuple[np.ndarray, ...]:
    """(I_X(beta), I_Y(beta)) of the optimal encoder at trade-off beta >= 1 (Chechik et al. eq. 15).

    Returns:
      (ix, iy), float64 arrays of the shape of `beta`.
    """
    lam = _active(gib_eigenvalues(cov_x, cov_xy, cov_y))
    beta = np.asarray(beta, dtype=np.float64)
    if np.any(beta < 1):
        raise ValueError("`beta` must be >= 1 (below 1 the optimal encoder is trivial).")
    b = beta[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        active = b > 1.0 / (1.0 - lam)
        ix_terms = np.where(active, 0.5 * np.log((b - 1.0) * (1.0 - lam) / lam), 0.0)
        iy_terms = ix_terms - np.where(active, 0.5 * np.log(b * (1.0 - lam)), 0.0)
    return ix_terms.sum(axis=-1), iy_terms.sum(axis=-1)


def gib_supremum(cov_x: Any, cov_xy: Any, cov_y: Any) -> float:
    """The curve's limit, I(X;Y) = -1/2 sum_i log lambda_i (nats)."""
    lam = gib_eigenvalues(cov_x, cov_xy, cov_y)
    return float(-0.5 * np.sum(np.log(lam)))


def gib_curve_from_dataset(dataset: Any, ix: Any) -> np.ndarray:
    """`gib_curve` for a Gaussian `Dataset` (data.gaussian), from its exact covariances."""
    info = getattr(dataset, "gaussian", None)
    if info is None:
        raise ValueError(
            "The dataset has no exact Gaussian covariances (dataset.gaussian is None); the "
            "Gaussian-IB optimum needs data.gaussian(...) or explicit covariances (gib_curve)."
        )
    return gib_curve(info.cov_x, info.cov_xy, info.cov_y, ix)
