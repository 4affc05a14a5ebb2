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
from types import ModuleType
from typing import Any, Literal

import numpy as np

from ntk_info import _moments_jax, _moments_numpy
from ntk_info._checks import as_float_array, as_times, check_nonnegative, check_positive
from ntk_info._jax import float64, on_accelerator
from ntk_info.architectures import as_kernel_fn
from ntk_info.gain import decay, gain, growth
from ntk_info.kernels import kernel_diagonal, kernel_matrices

__all__ = ["InfiniteEnsemble", "Prediction", "Spectrum", "gain", "MODES", "BACKENDS"]

MODES = ("ntk", "nngp")
BACKENDS = ("auto", "numpy", "jax")
Backend = Literal["auto", "numpy", "jax"]


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


@dataclass(frozen=True)
class Spectrum:
    """The eigendecomposition M = V diag(lam) V^T of the inverted training kernel, and the
    rotated quantities from which every training-set quantity follows in O(n) per time.

    M is Theta (mode 'ntk') or K (mode 'nngp'), with `diag_reg` added: the kernel the dynamics
    use.

    Attributes:
      eigenvalues: (n,) lam, float64 NumPy, ascending, clamped at 0.
      eigenvectors: (n, n) V; a NumPy array on backend 'numpy', a jax.Array on the device on
        backend 'jax' (use `InfiniteEnsemble.rotated_diagonal` rather than pulling it over).
      y_rot: (n, k) V^T Y, float64 NumPy.
      k_rot_diag: (n,) diag(V^T K V), the NNGP kernel in the eigenbasis of Theta (mode 'ntk';
        None in mode 'nngp', where it equals lam).
      trace: Tr M, the trace of the regularised inverted kernel (the dynamics' kernel).
      theta_trace: Tr Theta(X, X), unregularised.
    """

    eigenvalues: np.ndarray
    eigenvectors: Any
    y_rot: np.ndarray
    k_rot_diag: np.ndarray | None
    trace: float
    theta_trace: float


def resolve_backend(backend: str) -> str:
    """'numpy' or 'jax' for a `backend` option; 'auto' is 'jax' on a GPU or TPU default device."""
    if backend not in BACKENDS:
        raise ValueError(f"`backend` must be one of {BACKENDS}, got {backend!r}.")
    if backend != "auto":
        return backend
    return "jax" if on_accelerator() else "numpy"


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
      backend: 'numpy' (LAPACK/BLAS on the host: fastest on CPUs), 'jax' (eigendecomposition
        and per-time products jitted on the default JAX device) or 'auto' (default: 'jax' when
        that device is a GPU or TPU). Results are NumPy arrays either way; the backends agree
        to ~1e-10.

    Attributes:
      spectrum: the public `Spectrum` (eigenvalues, eigenvectors, V^T Y, diag(V^T K V), traces).
      eigenvalues: (n,) eigenvalues (clamped at 0) of the inverted kernel, regularised.
      theta_trace: Tr Theta(X, X) of the training inputs (the kernels themselves are not
        kept, to hold memory at 3 n^2 numbers; `kernels.kernel_matrices` recomputes them).
      backend: 'numpy' or 'jax', as resolved.

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
        backend: Backend = "auto",
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
        self.backend = resolve_backend(backend)
        self._engine: ModuleType = _moments_jax if self.backend == "jax" else _moments_numpy
        self._dtype = np.float64 if self.use_float64 else np.float32
        self._test_cache: tuple[str, dict[str, Any]] | None = None
        with float64(self.use_float64):
            self._setup()

    # ----------------------------------------------------------------------------- set-up
    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.y_train.shape[1]

    @property
    def eigenvalues(self) -> np.ndarray:
        return self.spectrum.eigenvalues

    @property
    def theta_trace(self) -> float:
        return self.spectrum.theta_trace

    def _setup(self) -> None:
        engine, dtype, n = self._engine, self._dtype, self.n_train
        kernels = kernel_matrices(
            self.kernel_fn,
            self.x_train,
            None,
            get=("nngp", "ntk"),
            batch_size=self.batch_size,
            use_float64=self.use_float64,
        )
        k_train, theta_train = kernels.pop("nngp"), kernels.pop("ntk")
        theta_trace = float(np.trace(theta_train))
        inverted = theta_train if self.mode == "ntk" else k_train
        del theta_train
        trace = float(np.trace(inverted))
        scale = self.diag_reg if self.diag_reg_absolute_scale else self.diag_reg * trace / n
        if inverted.dtype != dtype:
            inverted = inverted.astype(dtype)
        # In mode 'nngp' K itself is inverted and not needed afterwards: regularised in place.
        inverted = engine.add_to_diagonal(engine.to_backend(inverted, dtype), scale)
        evals, evecs = engine.eigh(inverted)
        del inverted
        self._check_spectrum(evals)
        self._evecs = evecs
        self._proj_y = evecs.T @ engine.to_backend(self.y_train, dtype)
        y_rot = engine.to_numpy(self._proj_y)
        self._k_rot = None
        k_rot_diag = None
        if self.mode == "ntk":
            # K~ = V^T K V: the NNGP kernel in the eigenbasis of Theta.
            self._k_rot = engine.sandwich(k_train, evecs)
            del k_train
            k_rot_diag = engine.to_numpy(self._k_rot.diagonal())
        self.spectrum = Spectrum(
            eigenvalues=np.maximum(evals, 0.0),
            eigenvectors=evecs,
            y_rot=y_rot,
            k_rot_diag=k_rot_diag,
            trace=trace + n * scale,
            theta_trace=theta_trace,
        )

    def _check_spectrum(self, evals: np.ndarray) -> None:
        n = self.n_train
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

    def rotated_diagonal(self, matrix: Any) -> np.ndarray:
        """diag(V^T M V), (n,) float64, for an (n, n) matrix M on the training points.

        Computed on the ensemble's backend with one (n x n)(n x n) product.
        """
        n = self.n_train
        matrix = as_float_array("matrix", matrix, ndim=2)
        if matrix.shape != (n, n):
            raise ValueError(f"`matrix` must have shape ({n}, {n}), got {matrix.shape}.")
        with float64(self.use_float64):
            return self._engine.rotated_diagonal(matrix, self._evecs)

    def clear_cache(self) -> None:
        """Drops the cached kernels of the last test inputs (m x n numbers, on the device for
        backend 'jax'); the next `predict` recomputes them."""
        self._test_cache = None

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
            if not full_cov or cached.get("ktt") is not None:
                return cached
        else:
            cached = {}
        kwargs = dict(batch_size=self.batch_size, use_float64=self.use_float64)
        engine, dtype = self._engine, self._dtype
        if "proj" not in cached:
            k_td = kernel_matrices(self.kernel_fn, x, self.x_train, **kwargs)
            kdiag = kernel_diagonal(self.kernel_fn, x, **kwargs)
            cached["kdiag"] = engine.to_backend(kdiag, dtype)
            if self.mode == "ntk":
                cached["proj"] = engine.rotate(k_td["ntk"], self._evecs)
                cached["q"] = engine.rotate(k_td["nngp"], self._evecs)
            else:
                cached["proj"] = engine.rotate(k_td["nngp"], self._evecs)
            del k_td
        if full_cov:
            ktt = kernel_matrices(self.kernel_fn, x, None, get=("nngp",), **kwargs)["nngp"]
            cached["ktt"] = engine.to_backend(0.5 * (ktt + ktt.T), dtype)
        self._test_cache = (key, cached)
        return cached

    # -------------------------------------------------------------------------- prediction
    def predict(self, x: Any, t: Any, *, full_cov: bool = False) -> Prediction:
        """Predictive mean (T, m, k), marginal variance (T, m) and optionally cov (T, m, m).

        NTK: mean = Theta* A_tau Y, Sigma = K** + Theta* A K A Theta*^T - (Theta* A K*^T + h.c.)
        with A_tau = V diag(gain_tau) V^T; NNGP: mean = K* V diag(gain_tau) V^T Y,
        Sigma = K** - K* V diag(gain_2tau) V^T K*^T.

        Args:
          x: (m, ...features) inputs.
          t: scalar or (T,) times >= 0 in neural-tangents units; 0 is the prior, np.inf the
            converged ensemble.
          full_cov: also return the (T, m, m) covariance across inputs.

        Returns:
          `Prediction` (NumPy float64 arrays).
        """
        x = self._check_x(x)
        times = as_times(t)
        tau = self.tau(times)
        lam = self.eigenvalues
        gm = gain(tau, lam)
        gv = gm if self.mode == "ntk" else -gain(2 * tau, lam)
        with float64(self.use_float64):
            quantities = self._test_quantities(x, full_cov)
            return self._evaluate(times, tau, gm, gv, quantities, full_cov)

    def predict_train(self, t: Any, *, rows: Any = None, full_cov: bool = False) -> Prediction:
        """Predictive distribution on the training inputs (or the subset `rows` of them).

        NTK: mean = (I - e^{-tau Theta}) Y, Sigma = e^{-tau Theta} K e^{-tau Theta};
        NNGP: mean = (I - e^{-tau K}) Y, Sigma = K e^{-2 tau K}. Both vanish in variance at
        t = inf: the ensemble interpolates. For s rows the cost is O(s n^2) per time.

        Args:
          t: scalar or (T,) times.
          rows: None (all n training points), a slice, or an integer index array.
          full_cov: also return the (T, s, s) covariance.

        Returns:
          `Prediction` on the selected training points.
        """
        times = as_times(t)
        tau = self.tau(times)
        lam = self.eigenvalues
        rows = self._check_rows(rows)
        s = self.n_train if rows is None else len(np.arange(self.n_train)[rows])
        gm = growth(tau, lam)
        gv = decay(tau, lam) if self.mode == "ntk" else lam[None, :] * decay(2 * tau, lam)
        with float64(self.use_float64):
            engine = self._engine
            proj = self._evecs if rows is None else engine.take_rows(self._evecs, rows)
            quantities = {"proj": proj, "kdiag": engine.zeros((s,), self._dtype)}
            return self._evaluate(times, tau, gm, gv, quantities, full_cov)

    def _check_rows(self, rows: Any) -> Any:
        if rows is None or isinstance(rows, slice):
            return rows
        index = np.asarray(rows)
        if index.ndim != 1 or not np.issubdtype(index.dtype, np.integer) or index.size == 0:
            raise ValueError(
                f"`rows` must be None, a slice or a non-empty 1-D integer array, got {rows!r}."
            )
        if index.min() < -self.n_train or index.max() >= self.n_train:
            raise ValueError(f"`rows` must index the {self.n_train} training points.")
        return index

    def _evaluate(self, times, tau, gm, gv, quantities, full_cov) -> Prediction:
        arrays = dict(quantities, proj_y=self._proj_y, k_rot=self._k_rot)
        arrays.setdefault("q", None)
        arrays.setdefault("ktt", None)
        mean, var, cov = self._engine.evaluate(self.mode, gm, gv, arrays, full_cov)
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
            f"diag_reg={self.diag_reg}, backend={self.backend!r})"
        )
