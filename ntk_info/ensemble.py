"""Infinite ensembles of infinitely-wide networks trained by gradient flow on squared loss.

The output z(x, t) of an infinite ensemble is Gaussian at every training time t
(Shwartz-Ziv & Alemi 2019, eq. 1-6; Lee et al. 2019). With Theta = V diag(lam) V^T the NTK of
the n training points, tau = learning_rate * t / (n k) and the gain

    g_tau(lam) = (1 - exp(-tau lam)) / lam        (-> tau as lam -> 0; 1/lam at tau = inf),
    A_tau = V diag(g_tau) V^T = Theta^{-1} (I - exp(-tau Theta)),

the NTK-regime predictive distribution on test inputs X* is

    mean_tau(X*)     = Theta* A_tau Y,
    Sigma_tau(X*,X*) = K** + Theta* A_tau K A_tau Theta*^T - (Theta* A_tau K*^T + h.c.),

and on the training inputs mean = (I - exp(-tau Theta)) Y,
Sigma = exp(-tau Theta) K exp(-tau Theta).
The NNGP regime (readout-only training, neural-tangents `get='nngp'`) has
mean = K* K^{-1} (I - exp(-tau K)) Y and Sigma = K** - K* K^{-1} (I - exp(-2 tau K)) K*^T.

`InfiniteEnsemble` computes the kernels and one eigendecomposition once; every prediction is
then a few matrix products per time. Writing P = Theta* V, Q = K* V and K~ = V^T K V, the
marginal variance at one time is

    var_i = K**_ii + sum_ab W_ia K~_ab W_ib - 2 sum_a W_ia Q_ia,     W = P diag(g_tau),

one (m x n)(n x n) product per time, evaluated in chunks of times so that memory does not grow
with the number of times. Conventions follow neural-tangents `predict.gradient_descent_mse_ensemble`
exactly (time units, `diag_reg` relative to the mean eigenvalue, regularising only the kernel that
is inverted); see information_ntk.md §2.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ntk_info._checks import as_float_array, as_times, check_nonnegative, check_positive
from ntk_info.architectures import as_kernel_fn
from ntk_info.kernels import kernel_diagonal, kernel_matrices

__all__ = ["InfiniteEnsemble", "Prediction", "gain", "MODES"]

MODES = ("ntk", "nngp")

# Budget for the per-chunk (times x m x n) work arrays.
_CHUNK_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Prediction:
    """Gaussian predictive marginals of an infinite ensemble at T times on m inputs.

    Attributes:
      t: (T,) training times as given.
      tau: (T,) dimensionless times learning_rate * t / (n k).
      mean: (T, m, k) predictive means.
      var: (T, m) marginal variances (shared by the k outputs).
      cov: (T, m, m) covariance across the m inputs, or None unless `full_cov=True`.
    """

    t: np.ndarray
    tau: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    cov: np.ndarray | None = None


def gain(tau: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """g_tau(lam) = (1 - exp(-tau lam)) / lam, stably, for every (tau, lam) pair.

    Uses -expm1(-tau lam) / lam for lam > 0, the limit tau for lam = 0, and 1/lam at tau = inf;
    for x = tau lam < 1e-8 the series tau (1 - x / 2) (error x^2 / 6), which stays exact to
    rounding when x underflows to a denormal, where expm1(-x) / lam loses digits.

    Args:
      tau: (T,) dimensionless times in [0, inf].
      lam: (n,) eigenvalues >= 0.

    Returns:
      (T, n) array.
    """
    tau = np.asarray(tau, dtype=np.float64)[:, None]
    lam = np.asarray(lam, dtype=np.float64)[None, :]
    positive = lam > 0
    safe_lam = np.where(positive, lam, 1.0)
    with np.errstate(invalid="ignore"):
        x = tau * safe_lam
        ratio = np.where(x < 1e-8, tau * (1 - 0.5 * x), -np.expm1(-x) / safe_lam)
    return np.where(positive, ratio, np.broadcast_to(tau, ratio.shape))


def _decay(tau: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """exp(-tau lam), (T, n), with exp(-inf * 0) = 1."""
    tau = np.asarray(tau, dtype=np.float64)[:, None]
    lam = np.asarray(lam, dtype=np.float64)[None, :]
    with np.errstate(invalid="ignore"):
        out = np.exp(-tau * lam)
    return np.where(lam > 0, out, 1.0)


def _project_mean(gm: np.ndarray, proj: np.ndarray, proj_y: np.ndarray) -> np.ndarray:
    """mean[t] = P diag(gm[t]) (V^T Y): (T, m, k), as T (m x n)(n x k) products."""
    return np.matmul(proj[None], gm[:, :, None] * proj_y[None])


def _marginals_ntk(gm, gv, proj, proj_y, k_rot, q, kdiag):
    """mean = P diag(gm) V^T Y; var = kdiag + rowsum((W K~) * W) - 2 (P * Q) gv, W = P diag(gv).

    One (m x n)(n x n) product per time, written into two reused (m, n) buffers: the floor of
    the arithmetic, with no allocation (and no page faults) per time.
    """
    w, wk = np.empty_like(proj), np.empty_like(proj)
    var = kdiag[None] - 2 * ((proj * q) @ gv.T).T
    for row, g in enumerate(gv):
        np.multiply(proj, g, out=w)
        np.matmul(w, k_rot, out=wk)
        var[row] += np.einsum("mn,mn->m", wk, w)
    return _project_mean(gm, proj, proj_y), np.maximum(var, 0.0)


def _covariance_ntk(gv, proj, k_rot, q, ktt):
    """Sigma[t] = K** + W K~ W^T - (W Q^T + Q W^T), W = P diag(gv[t])."""
    times, (m, n) = gv.shape[0], proj.shape
    w = proj[None] * gv[:, None, :]
    wk = (w.reshape(times * m, n) @ k_rot).reshape(times, m, n)
    cross = w @ q.T
    return ktt[None] + wk @ np.swapaxes(w, 1, 2) - cross - np.swapaxes(cross, 1, 2)


def _marginals_nngp(gm, gv, proj, proj_y, kdiag):
    """mean = R diag(gm) U^T Y; var = kdiag + (R * R) gv^T."""
    var = kdiag[None] + ((proj * proj) @ gv.T).T
    return _project_mean(gm, proj, proj_y), np.maximum(var, 0.0)


def _covariance_nngp(gv, proj, ktt):
    """Sigma[t] = K** + R diag(gv[t]) R^T."""
    return ktt[None] + (proj[None] * gv[:, None, :]) @ proj.T


class InfiniteEnsemble:
    """Predictive distribution of an infinite ensemble of infinitely-wide networks at any time.

    Computes the training kernels K, Theta once in float64, eigendecomposes the one that is
    inverted (Theta for mode='ntk', K for mode='nngp') once, and evaluates the Gaussian
    predictive N(mean, cov) at any array of times, 0 (the prior) and np.inf included.

    Args:
      kernel_fn: a neural-tangents `kernel_fn`, or a stax triple (init_fn, apply_fn, kernel_fn).
      x_train: (n, ...features) training inputs.
      y_train: (n, k) training targets.
      mode: 'ntk' (gradient descent on all layers, the papers' setting) or 'nngp' (readout only).
      learning_rate: eta; the dimensionless time is tau = eta * t / (n k).
      diag_reg: ridge added to the inverted kernel, diag_reg * mean eigenvalue * I (as in
        neural-tangents); with `diag_reg_absolute_scale=True` it is added as is.
      diag_reg_absolute_scale: see `diag_reg`.
      batch_size: block size of the kernel computation (`nt.batch` above it).
      use_float64: float64 everywhere (default); False computes in float32.

    Attributes:
      eigenvalues: (n,) eigenvalues (clamped at 0) of the inverted kernel, regularised.
      theta_trace: Tr Theta(X, X) of the training inputs (the kernels themselves are not
        kept, to hold memory at 3 n^2 numbers; `kernels.kernel_matrices` recomputes them).

    Raises:
      ValueError: NaN/inf or mis-shaped data, diag_reg < 0, or a numerically singular kernel
        (rank below n, e.g. duplicated training points) with diag_reg == 0.

    Reference: Lee et al., "Wide neural networks of any depth evolve as linear models", 2019;
      Shwartz-Ziv & Alemi, AABI 2019, eq. 1-6; information_ntk.md §2.
    """

    def __init__(
        self,
        kernel_fn: Any,
        x_train: Any,
        y_train: Any,
        *,
        mode: str = "ntk",
        learning_rate: float = 1.0,
        diag_reg: float = 0.0,
        diag_reg_absolute_scale: bool = False,
        batch_size: int = 512,
        use_float64: bool = True,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}, got {mode!r}.")
        self.kernel_fn = as_kernel_fn(kernel_fn)
        self.x_train = as_float_array("x_train", x_train, min_ndim=2)
        self.y_train = as_float_array("y_train", y_train, ndim=2)
        n = self.x_train.shape[0]
        if self.y_train.shape[0] != n:
            raise ValueError(
                f"`y_train` has {self.y_train.shape[0]} rows but `x_train` has {n}; "
                "they must describe the same n training points."
            )
        if n < 1:
            raise ValueError("`x_train` is empty; pass at least one training point.")
        self.mode = mode
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.diag_reg = check_nonnegative("diag_reg", diag_reg)
        self.diag_reg_absolute_scale = bool(diag_reg_absolute_scale)
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1, got {batch_size}.")
        self.use_float64 = bool(use_float64)
        self._test_cache: tuple[str, dict[str, Any]] | None = None
        self._setup()

    # ----------------------------------------------------------------------------- set-up
    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.y_train.shape[1]

    def _setup(self) -> None:
        import scipy.linalg

        kernels = kernel_matrices(
            self.kernel_fn,
            self.x_train,
            None,
            get=("nngp", "ntk"),
            batch_size=self.batch_size,
            use_float64=self.use_float64,
        )
        k_train, theta_train = kernels.pop("nngp"), kernels.pop("ntk")
        self.theta_trace = float(np.trace(theta_train))
        inverted = theta_train if self.mode == "ntk" else k_train
        del theta_train
        n = self.n_train
        scale = self.diag_reg
        if not self.diag_reg_absolute_scale:
            scale *= float(np.trace(inverted)) / n
        dtype = np.float64 if self.use_float64 else np.float32
        if inverted.dtype != dtype:
            inverted = inverted.astype(dtype)
        inverted[np.diag_indices(n)] += scale
        # LAPACK syevr in place (the transpose is the Fortran-ordered view of the symmetric
        # matrix, so nothing is copied): O(n) workspace, against 2 n^2 for syevd. With K and
        # V this keeps the peak at 3 n^2 numbers.
        evals, evecs = scipy.linalg.eigh(
            inverted.T, overwrite_a=True, check_finite=False, driver="evr"
        )
        del inverted
        evals = np.asarray(evals, dtype=np.float64)
        if not np.all(np.isfinite(evals)):
            raise ValueError(
                "The training kernel has non-finite entries; check `x_train` and the "
                "architecture's parameters (W_std, b_std)."
            )
        largest = max(float(evals.max()), 0.0)
        threshold = largest * n * np.finfo(np.float64).eps
        if largest == 0.0 or evals.min() <= threshold:
            name = "Theta (NTK)" if self.mode == "ntk" else "K (NNGP)"
            rank = int(np.sum(evals > threshold))
            raise ValueError(
                f"The training {name} kernel is numerically singular (rank {rank} < n = "
                f"{n}; smallest/largest eigenvalue {evals.min():.3g}/{largest:.3g}), "
                "e.g. from duplicated training points or a nearly linear network. Pass "
                "`diag_reg` > 0 (e.g. 1e-6) to regularise it, or remove duplicates."
            )
        self.eigenvalues = np.maximum(evals, 0.0)
        # The products below run in numpy (BLAS), faster than XLA's CPU matmul in float64.
        self._evecs = np.asarray(evecs, dtype=dtype)
        del evecs
        self._proj_y = self._evecs.T @ self.y_train.astype(dtype)
        if self.mode == "ntk":
            # K~ = V^T K V: the NNGP kernel in the eigenbasis of Theta.
            k_v = k_train.astype(dtype, copy=False) @ self._evecs
            del k_train
            k_rot = self._evecs.T @ k_v
            del k_v
            k_rot += k_rot.T
            k_rot *= 0.5
            self._k_rot = k_rot

    # ------------------------------------------------------------------------------ times
    def tau(self, t: Any) -> np.ndarray:
        """Dimensionless time tau = learning_rate * t / (n k) of neural-tangents' t."""
        return self.learning_rate * as_times(t) / (self.n_train * self.n_outputs)

    def time_from_tau(self, tau: Any) -> np.ndarray:
        """Inverse of `tau`: t = tau * n k / learning_rate."""
        return as_times(tau) * (self.n_train * self.n_outputs) / self.learning_rate

    # ---------------------------------------------------------------------------- kernels
    def _check_x(self, x: Any) -> np.ndarray:
        x = as_float_array("x", x, min_ndim=2)
        if x.shape[1:] != self.x_train.shape[1:]:
            raise ValueError(
                f"`x` has feature shape {x.shape[1:]} but the training inputs have "
                f"{self.x_train.shape[1:]}; inputs must have the same features."
            )
        if x.shape[0] < 1:
            raise ValueError("`x` is empty; pass at least one input.")
        return x

    def _test_quantities(self, x: np.ndarray, full_cov: bool) -> dict[str, Any]:
        """Test kernels projected on the eigenbasis; the last input's are cached."""
        key = hashlib.sha1(x.tobytes() + str(x.shape).encode()).hexdigest()
        if self._test_cache is not None and self._test_cache[0] == key:
            cached = self._test_cache[1]
            if not full_cov or "ktt" in cached:
                return cached
        else:
            cached = {}
        kwargs = dict(batch_size=self.batch_size, use_float64=self.use_float64)
        dtype = self._evecs.dtype
        if "proj" not in cached:
            k_td = kernel_matrices(self.kernel_fn, x, self.x_train, **kwargs)
            cached["kdiag"] = kernel_diagonal(self.kernel_fn, x, **kwargs).astype(dtype)
            if self.mode == "ntk":
                cached["proj"] = k_td["ntk"].astype(dtype, copy=False) @ self._evecs
                cached["q"] = k_td["nngp"].astype(dtype, copy=False) @ self._evecs
            else:
                cached["proj"] = k_td["nngp"].astype(dtype, copy=False) @ self._evecs
            del k_td
        if full_cov:
            ktt = kernel_matrices(self.kernel_fn, x, None, get=("nngp",), **kwargs)["nngp"]
            cached["ktt"] = (0.5 * (ktt + ktt.T)).astype(dtype, copy=False)
        self._test_cache = (key, cached)
        return cached

    # -------------------------------------------------------------------------- prediction
    def predict(self, x: Any, t: Any, *, full_cov: bool = False) -> Prediction:
        """Predictive mean (T, m, k), marginal variance (T, m) and optionally cov (T, m, m).

        Args:
          x: (m, ...features) inputs.
          t: scalar or (T,) times >= 0 in neural-tangents units; 0 is the prior, np.inf the
            converged ensemble.
          full_cov: also return the (T, m, m) covariance across inputs.

        Returns:
          `Prediction`.
        """
        x = self._check_x(x)
        times = as_times(t)
        tau = self.tau(times)
        quantities = self._test_quantities(x, full_cov)
        lam = self.eigenvalues
        if self.mode == "ntk":
            g = gain(tau, lam)
            gm, gv = g, g
        else:
            gm, gv = gain(tau, lam), -gain(2 * tau, lam)
        return self._evaluate(times, tau, gm, gv, quantities, full_cov)

    def predict_train(self, t: Any, *, full_cov: bool = False) -> Prediction:
        """Predictive distribution on the training inputs.

        NTK: mean = (I - e^{-tau Theta}) Y, Sigma = e^{-tau Theta} K e^{-tau Theta};
        NNGP: mean = (I - e^{-tau K}) Y, Sigma = K e^{-2 tau K}. Both vanish in variance at
        t = inf: the ensemble interpolates.
        """
        times = as_times(t)
        tau = self.tau(times)
        lam = self.eigenvalues
        n = self.n_train
        quantities: dict[str, Any] = {
            "proj": self._evecs,
            "kdiag": np.zeros(n),
            "ktt": np.zeros((n, n)) if full_cov else None,
        }
        if self.mode == "ntk":
            quantities["q"] = np.zeros((n, n))
            gm, gv = -np.expm1(-np.outer(tau, lam)), _decay(tau, lam)
        else:
            gm = -np.expm1(-np.outer(tau, lam))
            gv = lam[None, :] * _decay(2 * tau, lam)
        gm = np.where(np.isnan(gm), 1.0, gm)
        return self._evaluate(times, tau, gm, gv, quantities, full_cov)

    def _evaluate(self, times, tau, gm, gv, quantities, full_cov) -> Prediction:
        """Moments at all times, `_CHUNK_BYTES` of work arrays at a time (numpy BLAS)."""
        dtype = np.float64 if self.use_float64 else np.float32
        arrays = {
            name: np.asarray(value, dtype=dtype)
            for name, value in quantities.items()
            if value is not None
        }
        proj, proj_y = arrays["proj"], np.asarray(self._proj_y, dtype=dtype)
        k_rot = np.asarray(self._k_rot, dtype=dtype) if self.mode == "ntk" else None
        gm, gv = np.asarray(gm, dtype=dtype), np.asarray(gv, dtype=dtype)
        m, n = proj.shape
        per_time = 3 * m * n * 8 + (3 * m * m * 8 if full_cov else 0)
        chunk = int(max(1, min(len(times), _CHUNK_BYTES // per_time)))
        means, variances, covariances = [], [], []
        for start in range(0, len(times), chunk):
            rows = slice(start, start + chunk)
            if self.mode == "ntk":
                mean, var = _marginals_ntk(
                    gm[rows], gv[rows], proj, proj_y, k_rot, arrays["q"], arrays["kdiag"]
                )
                if full_cov:
                    cov = _covariance_ntk(gv[rows], proj, k_rot, arrays["q"], arrays["ktt"])
            else:
                mean, var = _marginals_nngp(gm[rows], gv[rows], proj, proj_y, arrays["kdiag"])
                if full_cov:
                    cov = _covariance_nngp(gv[rows], proj, arrays["ktt"])
            means.append(mean)
            variances.append(var)
            if full_cov:
                covariances.append(cov)
        mean = np.concatenate(means).astype(np.float64, copy=False)
        var = np.concatenate(variances).astype(np.float64, copy=False)
        cov = np.concatenate(covariances).astype(np.float64, copy=False) if full_cov else None
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
            raise FloatingPointError(
                "Non-finite predictive moments: the kernel is too ill-conditioned for the "
                "requested times; pass `diag_reg` > 0."
            )
        return Prediction(t=times, tau=tau, mean=mean, var=var, cov=cov)

    def __repr__(self) -> str:
        return (
            f"InfiniteEnsemble(mode={self.mode!r}, n_train={self.n_train}, "
            f"n_outputs={self.n_outputs}, learning_rate={self.learning_rate}, "
            f"diag_reg={self.diag_reg})"
        )
