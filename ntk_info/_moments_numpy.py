"""The ensemble's linear algebra on the host: LAPACK eigh, BLAS products (backend 'numpy').

Fastest on CPUs: scipy's syevr runs in place (O(n) workspace) and each per-time product is
written into reused buffers, with no allocation per time. `_moments_jax` is the same interface
on a JAX device. Notation as in `ensemble`: P = Theta* V (or K* V), Q = K* V, K~ = V^T K V,
W = P diag(g) and one (m x n)(n x n) product per time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Budget for the per-chunk (times x m x n) work arrays.
CHUNK_BYTES = 256 * 2**20


def eigh(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (n,) float64 and eigenvectors (n, n) of a symmetric matrix, destroying it.

    LAPACK syevr in place: the transpose is the Fortran-ordered view of the symmetric matrix,
    so nothing is copied; O(n) workspace against 2 n^2 for syevd.
    """
    import scipy.linalg

    evals, evecs = scipy.linalg.eigh(matrix.T, overwrite_a=True, check_finite=False, driver="evr")
    return np.asarray(evals, dtype=np.float64), evecs


def to_backend(array: np.ndarray, dtype: Any) -> np.ndarray:
    return np.asarray(array, dtype=dtype)


def to_numpy(array: Any) -> np.ndarray:
    return np.asarray(array, dtype=np.float64)


def add_to_diagonal(matrix: np.ndarray, value: float) -> np.ndarray:
    matrix[np.diag_indices(matrix.shape[0])] += value
    return matrix


def rotate(matrix: np.ndarray, evecs: np.ndarray) -> np.ndarray:
    """M V: (m, n) @ (n, n)."""
    return matrix.astype(evecs.dtype, copy=False) @ evecs


def sandwich(matrix: np.ndarray, evecs: np.ndarray) -> np.ndarray:
    """V^T M V, symmetrised, for a symmetric (n, n) M."""
    out = evecs.T @ rotate(matrix, evecs)
    out += out.T
    out *= 0.5
    return out


def rotated_diagonal(matrix: np.ndarray, evecs: np.ndarray) -> np.ndarray:
    """diag(V^T M V), (n,), with one product."""
    return np.einsum("ia,ia->a", evecs, rotate(np.asarray(matrix), evecs))


def take_rows(evecs: np.ndarray, rows: Any) -> np.ndarray:
    return evecs[rows]


def zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def _project_mean(gm: np.ndarray, proj: np.ndarray, proj_y: np.ndarray) -> np.ndarray:
    """mean[t] = P diag(gm[t]) (V^T Y): (T, m, k), as T (m x n)(n x k) products."""
    return np.matmul(proj[None], gm[:, :, None] * proj_y[None])


def _variance_ntk(gv, proj, k_rot, q, kdiag):
    """var = kdiag + rowsum((W K~) * W) - 2 (P * Q) gv, W = P diag(gv), in two reused buffers."""
    w, wk = np.empty_like(proj), np.empty_like(proj)
    var = np.repeat(kdiag[None], gv.shape[0], axis=0)
    if q is not None:
        var -= 2 * ((proj * q) @ gv.T).T
    for row, g in enumerate(gv):
        np.multiply(proj, g, out=w)
        np.matmul(w, k_rot, out=wk)
        var[row] += np.einsum("mn,mn->m", wk, w)
    return var


def _covariance_ntk(gv, proj, k_rot, q, ktt):
    """Sigma[t] = K** + W K~ W^T - (W Q^T + Q W^T), W = P diag(gv[t])."""
    times, (m, n) = gv.shape[0], proj.shape
    w = proj[None] * gv[:, None, :]
    wk = (w.reshape(times * m, n) @ k_rot).reshape(times, m, n)
    out = wk @ np.swapaxes(w, 1, 2)
    if ktt is not None:
        out += ktt[None]
    if q is not None:
        cross = w @ q.T
        out -= cross + np.swapaxes(cross, 1, 2)
    return out


def _covariance_nngp(gv, proj, ktt):
    """Sigma[t] = K** + R diag(gv[t]) R^T."""
    out = (proj[None] * gv[:, None, :]) @ proj.T
    return out if ktt is None else out + ktt[None]


def evaluate(
    mode: str, gm: np.ndarray, gv: np.ndarray, arrays: dict[str, Any], full_cov: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Moments at all T times, `CHUNK_BYTES` of work arrays at a time.

    Args:
      mode: 'ntk' or 'nngp'.
      gm, gv: (T, n) spectral weights of the mean and of the variance.
      arrays: proj (m, n), proj_y (n, k), kdiag (m,), and k_rot (n, n), q (m, n) or None,
        ktt (m, m) or None (None stands for a zero matrix).
      full_cov: also the (T, m, m) covariance.

    Returns:
      mean (T, m, k), var (T, m) (clamped at 0), cov (T, m, m) or None; float64.
    """
    proj, proj_y, kdiag = arrays["proj"], arrays["proj_y"], arrays["kdiag"]
    gm, gv = gm.astype(proj.dtype, copy=False), gv.astype(proj.dtype, copy=False)
    m, n = proj.shape
    per_time = 3 * m * n * 8 + (3 * m * m * 8 if full_cov else 0)
    chunk = int(max(1, min(len(gv), CHUNK_BYTES // per_time)))
    means, variances, covariances = [], [], []
    for start in range(0, len(gv), chunk):
        rows = slice(start, start + chunk)
        means.append(_project_mean(gm[rows], proj, proj_y))
        if mode == "ntk":
            variances.append(_variance_ntk(gv[rows], proj, arrays["k_rot"], arrays["q"], kdiag))
            if full_cov:
                covariances.append(
                    _covariance_ntk(gv[rows], proj, arrays["k_rot"], arrays["q"], arrays["ktt"])
                )
        else:
            variances.append(kdiag[None] + ((proj * proj) @ gv[rows].T).T)
            if full_cov:
                covariances.append(_covariance_nngp(gv[rows], proj, arrays["ktt"]))
    mean = np.concatenate(means).astype(np.float64, copy=False)
    var = np.maximum(np.concatenate(variances), 0.0).astype(np.float64, copy=False)
    cov = np.concatenate(covariances).astype(np.float64, copy=False) if full_cov else None
    return mean, var, cov
