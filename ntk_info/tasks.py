"""Ground-truth mutual-information tasks with the benchmark-mi (bmi) duck-typed protocol.

Every task has `sample(n_points, seed) -> (x, z)` (float64 arrays (n, dim_x), (n, dim_y)),
`dim_x`, `dim_y`, `mutual_information` (the true I(X;Z) in nats), `name` and `params`; this is
bmi's `Task` (`bmi/benchmark/task.py`: `sample(n_samples, seed)`, properties `dim_x`, `dim_y`,
`mutual_information`) and, since `mutual_information` is a float that can also be called,
its `ISampler` (`mutual_information()`). bmi is not imported.

Tasks (spec `estimators.md` F.1, A2):
  - `GaussianTask`, `correlated_gaussian`, `gp_values`: jointly Gaussian (X, Z), exact
    I = 1/2 log(det S_XX det S_ZZ / det S).
  - `GaussianChannelTask`, `ensemble_channel`, `hidden_layer_channel`, `noisy_network_channel`:
    X uniform over N points, Z | x_i ~ N(mu_i, s_i I_k); I(X;Z) is a Gaussian-mixture MI,
    computed by the mixture engine's Monte Carlo (`mixture.mc_estimate`) to a requested
    standard error, exposed as `mutual_information_se`.
  - `image_task` (in `ntk_info._task_images`): Butakov et al.'s rasterised Gaussians and
    rectangles from correlated latents; MI is that of the latents (injective maps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ntk_info._checks import as_float_array, check_count, check_nonnegative, check_positive

__all__ = [
    "TrueMI",
    "Task",
    "ImageTask",
    "GaussianTask",
    "GaussianChannelTask",
    "correlated_gaussian",
    "gp_values",
    "ensemble_channel",
    "hidden_layer_channel",
    "noisy_network_channel",
    "image_task",
    "gaussian_mi",
]


class TrueMI(float):
    """A task's true I(X;Z) in nats: a float that can also be called (bmi's `ISampler` form)."""

    def __call__(self) -> float:
        return float(self)


def gaussian_mi(covariance: Any, dim_x: int) -> float:
    """Exact I(X;Z) of a jointly Gaussian (X, Z) with covariance S, X the first dim_x coordinates.

    I = 1/2 [log det S_XX + log det S_ZZ - log det S] (Cover & Thomas, eq. 8.56).

    Args:
      covariance: (d, d) symmetric positive-definite joint covariance.
      dim_x: number of leading coordinates that form X (1 <= dim_x < d).

    Returns:
      float, nats.
    """
    cov = as_float_array("covariance", covariance, ndim=2)
    d = cov.shape[0]
    if cov.shape != (d, d) or not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"`covariance` must be a symmetric square matrix, got shape {cov.shape}.")
    dim_x = check_count("dim_x", dim_x, 1, "coordinates of X")
    if dim_x >= d:
        raise ValueError(f"`dim_x` must be < {d} (the covariance's size) so that Z is not empty.")
    logdets = []
    for block in (cov, cov[:dim_x, :dim_x], cov[dim_x:, dim_x:]):
        sign, logdet = np.linalg.slogdet(block)
        if sign <= 0 or np.linalg.eigvalsh(block)[0] <= 1e-12 * np.abs(block).max():
            raise ValueError(
                "`covariance` is not positive definite (a singular joint has infinite MI); "
                "add a small noise variance (`noise=`) to its diagonal."
            )
        logdets.append(logdet)
    return float(max(0.5 * (logdets[1] + logdets[2] - logdets[0]), 0.0))


class Task:
    """Shared parts: name, params, dimensions, the true MI and the checked `sample`."""

    name: str
    params: dict[str, Any]
    dim_x: int
    dim_y: int
    mutual_information: TrueMI
    mutual_information_se: float = 0.0

    def sample(self, n_points: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """n_points i.i.d. draws (x, z) of the task's joint, float64 (n, dim_x), (n, dim_y)."""
        n_points = check_count("n_points", n_points, 1, "samples to draw")
        seed = check_count("seed", seed, 0, "a seed of numpy.random.default_rng")
        return self.draw(n_points, np.random.default_rng(seed))

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n draws (x, z) from a numpy Generator (`sample` checks its inputs and calls this)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, dim_x={self.dim_x}, dim_y={self.dim_y}, "
            f"mutual_information={float(self.mutual_information):.6g} nats)"
        )


class GaussianTask(Task):
    """(X, Z) jointly Gaussian with zero mean and covariance S; exact MI.

    I = 1/2 log(det S_XX det S_ZZ / det S) (`gaussian_mi`).

    Args:
      covariance: (dim_x + dim_y, dim_x + dim_y) positive-definite joint covariance.
      dim_x: number of leading coordinates forming X.
      name: the task's name; params: its parameters, for tidy tables.
    """

    def __init__(
        self, covariance: Any, dim_x: int, *, name: str = "gaussian", params: dict | None = None
    ) -> None:
        self.mutual_information = TrueMI(gaussian_mi(covariance, dim_x))
        self.covariance = np.asarray(covariance, dtype=np.float64)
        self.dim_x = int(dim_x)
        self.dim_y = self.covariance.shape[0] - self.dim_x
        self.name = name
        self.params = dict(params or {})
        eigenvalues, vectors = np.linalg.eigh(self.covariance)
        self._root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        joint = rng.standard_normal((n, self._root.shape[0])) @ self._root.T
        return joint[:, : self.dim_x], joint[:, self.dim_x :]


def _random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def correlated_gaussian(
    dim: int, mi: float, *, dim_z: int | None = None, mix: bool = True, seed: int = 0
) -> GaussianTask:
    """Gaussian (X, Z) with I(X;Z) = mi spread evenly over min(dim, dim_z) correlated pairs.

    Pair j: corr(X_j, Z_j) = rho = sqrt(1 - exp(-2 mi / p)), p = min(dim, dim_z), so that
    I = -p/2 log(1 - rho^2) = mi; other coordinates independent N(0, 1). With `mix=True`
    each side is rotated by a random orthogonal matrix (MI unchanged), as in Butakov et al.

    Args:
      dim: dim_x. dim_z: dim_y (default `dim`). mi: the true MI in nats (>= 0).
      mix: rotate each side by a seeded random orthogonal matrix.
      seed: seed of the rotations.

    Returns:
      `GaussianTask` named 'gaussian'.

    Reference: Butakov et al., arXiv 2305.08013, synthetic tests (`utils/dependent_norm.py`).
    """
    dim = check_count("dim", dim, 1, "coordinates of X")
    dim_z = dim if dim_z is None else check_count("dim_z", dim_z, 1, "coordinates of Z")
    mi = check_nonnegative("mi", mi)
    pairs = min(dim, dim_z)
    rho = np.sqrt(-np.expm1(-2.0 * mi / pairs))
    if rho >= 1.0 - 1e-15:
        raise ValueError(f"`mi` = {mi} is too large for {pairs} pairs in float64; lower it.")
    cov = np.eye(dim + dim_z)
    idx = np.arange(pairs)
    cov[idx, dim + idx] = cov[dim + idx, idx] = rho
    if mix:
        rng = np.random.default_rng(check_count("seed", seed, 0, "a rotation seed"))
        rotation = np.zeros_like(cov)
        rotation[:dim, :dim] = _random_orthogonal(dim, rng)
        rotation[dim:, dim:] = _random_orthogonal(dim_z, rng)
        cov = rotation @ cov @ rotation.T
        cov = 0.5 * (cov + cov.T)
    params = dict(dim=dim, dim_z=dim_z, mi=mi, mix=mix, seed=seed)
    return GaussianTask(cov, dim, name="gaussian", params=params)


def gp_values(
    kernel: Any, x_a: Any, x_b: Any, *, noise: float = 0.0, name: str = "gp_values"
) -> GaussianTask:
    """Function values of a GP prior on two sets of inputs: X = f(X_A), Z = f(X_B), exact MI.

    f ~ GP(0, K) (an NNGP kernel), (f(X_A), f(X_B)) ~ N(0, K + noise I), and
    I(f(X_A); f(X_B)) = 1/2 log(det K_AA det K_BB / det K).

    Args:
      kernel: a neural-tangents `kernel_fn` or stax triple (its NNGP kernel is used), or a
        precomputed (n_a + n_b, n_a + n_b) kernel matrix of the stacked inputs.
      x_a: (n_a, ...features) inputs of X; x_b: (n_b, ...features) inputs of Z (with a
        matrix `kernel`, only their lengths are used).
      noise: variance added to the diagonal (needed when two inputs coincide).
      name: the task's name.

    Returns:
      `GaussianTask` with dim_x = n_a, dim_y = n_b.
    """
    x_a = as_float_array("x_a", x_a, min_ndim=1)
    x_b = as_float_array("x_b", x_b, min_ndim=1)
    noise = check_nonnegative("noise", noise)
    n_a, n_b = x_a.shape[0], x_b.shape[0]
    if n_a < 1 or n_b < 1:
        raise ValueError("`x_a` and `x_b` must each hold at least one input.")
    if callable(kernel) or isinstance(kernel, tuple | list):
        from ntk_info.architectures import as_kernel_fn
        from ntk_info.kernels import kernel_matrices

        inputs = np.concatenate([x_a, x_b], axis=0)
        matrix = kernel_matrices(as_kernel_fn(kernel), inputs, get=("nngp",))["nngp"]
    else:
        matrix = as_float_array("kernel", kernel, ndim=2)
        if matrix.shape != (n_a + n_b, n_a + n_b):
            raise ValueError(
                f"`kernel` must be ({n_a + n_b}, {n_a + n_b}) for {n_a} + {n_b} inputs, "
                f"got {matrix.shape}."
            )
    cov = 0.5 * (matrix + matrix.T) + noise * np.eye(n_a + n_b)
    return GaussianTask(cov, n_a, name=name, params=dict(n_a=n_a, n_b=n_b, noise=noise))


class GaussianChannelTask(Task):
    """X uniform over N points, Z | x_i ~ N(mu_i, s_i I_k): a Gaussian-mixture channel.

    I(X;Z) = H(Z) - (1/N) sum_i (k/2) log(2 pi e s_i), H(Z) by the mixture engine's Monte Carlo
    (`mixture.mc_estimate`, pointwise form), with more replicas until its standard
    error is <= `mi_se` (or `max_samples` is reached; then the se is what it is and is exposed).

    Args:
      points: (N, ...features) the inputs; a sample's x is the flattened input.
      means: (N, k) mu_i; variances: (N,) s_i > 0.
      mi_se: target standard error of the true MI, nats (make it >= 20x smaller than the
        estimator errors being measured).
      seed: seed of the Monte Carlo (the sampling seed is `sample`'s).
      max_samples: cap on the Monte Carlo samples.
      name, params: for tidy tables.

    Attributes:
      mutual_information: `TrueMI`, nats; mutual_information_se: its MC standard error.
      means, variances: the channel; points: (N, d) flattened inputs.
    """

    def __init__(
        self,
        points: Any,
        means: Any,
        variances: Any,
        *,
        mi_se: float = 1e-3,
        seed: int = 0,
        max_samples: int = 2**22,
        name: str = "gaussian_channel",
        params: dict | None = None,
    ) -> None:
        points = as_float_array("points", points, min_ndim=1)
        self.points = points.reshape(points.shape[0], -1)
        self.means = as_float_array("means", means, ndim=2)
        self.variances = as_float_array("variances", variances, ndim=1)
        n = self.points.shape[0]
        if self.means.shape[0] != n or self.variances.shape[0] != n:
            raise ValueError(
                f"`points` ({n}), `means` ({self.means.shape[0]}) and `variances` "
                f"({self.variances.shape[0]}) must have the same number of rows."
            )
        if np.any(self.variances <= 0):
            raise ValueError(
                "`variances` must be > 0 (a deterministic channel has I = H(X)); "
                "add observation noise (`noise=` beta^2)."
            )
        self.dim_x, self.dim_y = self.points.shape[1], self.means.shape[1]
        self.name = name
        self.params = dict(params or {})
        value, se = self._true_mi(check_positive("mi_se", mi_se), seed, max_samples)
        self.mutual_information = TrueMI(value)
        self.mutual_information_se = se

    def _true_mi(self, target: float, seed: int, max_samples: int) -> tuple[float, float]:
        """16-replica pilot, then power-of-two replica counts (few jit shapes) to se <= target."""
        from ntk_info.mixture import mc_estimate

        n = self.points.shape[0]
        replicas = 16
        while True:
            est = mc_estimate(
                self.means,
                self.variances,
                seed=seed,
                n_samples=replicas * n,
                control_variate=True,
            )
            if est.se <= target or replicas * n >= max_samples:
                return float(est.value), float(est.se)
            needed = replicas * 1.2 * (float(est.se) / target) ** 2
            replicas = min(2 ** int(np.ceil(np.log2(needed))), max(max_samples // n, 2))

    @property
    def noise_std(self) -> float | None:
        """sqrt(s) when every s_i equals s (T = f(X) + N(0, s I)), else None."""
        s = self.variances
        return float(np.sqrt(s[0])) if np.all(s == s[0]) else None

    def sample_indexed(self, n_points: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As `sample`, plus the (n,) indices of the points drawn (means[i]: clean outputs)."""
        n_points = check_count("n_points", n_points, 1, "samples to draw")
        seed = check_count("seed", seed, 0, "a seed of numpy.random.default_rng")
        return self._draw_indexed(n_points, np.random.default_rng(seed))

    def _draw_indexed(self, n: int, rng: np.random.Generator):
        idx = rng.integers(0, self.points.shape[0], size=n)
        noise = rng.standard_normal((n, self.dim_y))
        z = self.means[idx] + np.sqrt(self.variances[idx])[:, None] * noise
        return self.points[idx].copy(), z, idx

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x, z, _ = self._draw_indexed(n, rng)
        return x, z

    def representation(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Every point once with one z_i ~ N(mu_i, s_i I): (points (N, d), z (N, k)).

        For an ensemble channel this is the layer of one network of the ensemble on the
        dataset, the input of the information-plane estimators of the literature.
        """
        rng = np.random.default_rng(check_count("seed", seed, 0, "a numpy seed"))
        noise = rng.standard_normal(self.means.shape)
        return self.points.copy(), self.means + np.sqrt(self.variances)[:, None] * noise


def ensemble_channel(
    ensemble: Any,
    x: Any,
    t: float,
    *,
    noise: float = 0.0,
    copies: int = 1,
    mi_se: float = 1e-3,
    seed: int = 0,
    name: str = "ensemble_output",
) -> GaussianChannelTask:
    """The output Z = f_t(X) + N(0, noise I) of an infinite ensemble at time t, X uniform on x.

    Z | x_i ~ N(mean_t(x_i), (var_t(x_i) + noise) I_k) from `InfiniteEnsemble.predict`; with
    `copies` = r the k outputs are repeated r times with independent draws (r k i.i.d. units of
    the same marginal), which multiplies the dimension without changing the channel's form.

    Args:
      ensemble: an `InfiniteEnsemble`.
      x: (N, ...features) the points X is uniform over.
      t: one training time (0 = prior, np.inf = converged).
      noise: beta^2 added to every variance (needed on training points at large t).
      copies: r >= 1 independent read-outs of each output.
      mi_se, seed: as in `GaussianChannelTask`.
      name: the task's name.

    Returns:
      `GaussianChannelTask` with dim_x = prod(features), dim_y = r k.
    """
    noise = check_nonnegative("noise", noise)
    copies = check_count("copies", copies, 1, "independent read-outs")
    if np.size(t) != 1:
        raise ValueError(f"`t` must be one time (a channel per time), got shape {np.shape(t)}.")
    t = float(np.asarray(t, dtype=np.float64).reshape(()))
    pred = ensemble.predict(x, np.array([t]))
    means = np.tile(pred.mean[0], (1, copies))
    variances = pred.var[0] + noise
    params = dict(t=t, noise=noise, copies=copies, mode=ensemble.mode)
    return GaussianChannelTask(
        x, means, variances, mi_se=mi_se, seed=seed, name=name, params=params
    )


def hidden_layer_channel(
    x_train: Any,
    y_train: Any,
    x: Any,
    t: float,
    *,
    layer: int,
    width_std: tuple[float, float] = (2.0**0.5, 0.1),
    activation: str = "relu",
    mode: str = "ntk",
    noise: float = 0.0,
    copies: int = 1,
    diag_reg: float = 0.0,
    mi_se: float = 1e-3,
    seed: int = 0,
) -> GaussianChannelTask:
    """Hidden layer `layer` of an infinite fc net, read out through k i.i.d. units, at time t.

    The sub-network Dense-act x `layer` followed by a Dense read-out (`architectures.fc(layer +
    1)`) has, at t = 0, outputs whose covariance over inputs is the NNGP kernel of layer
    `layer`'s activations (W_std^2 E[phi phi'] + b_std^2); its infinite ensemble trained by
    gradient flow on (x_train, y_train) gives Z | x ~ N(mean_t(x), var_t(x) I_k) at time t.
    `layer` = 0 reads out the input (a linear model).

    Args:
      x_train, y_train: (n, d), (n, k) training data of the ensemble.
      x: (N, d) the points X is uniform over.
      t: one training time.
      layer: number of hidden Dense-activation layers before the read-out (>= 0).
      width_std: (W_std, b_std). activation: as in `architectures.fc`.
      mode: 'ntk' or 'nngp'. diag_reg: as in `InfiniteEnsemble`.
      noise, copies, mi_se, seed: as in `ensemble_channel`.

    Returns:
      `GaussianChannelTask` named 'hidden_layer'.
    """
    from ntk_info.architectures import fc
    from ntk_info.ensemble import InfiniteEnsemble

    layer = check_count("layer", layer, 0, "hidden layers before the read-out")
    y_train = as_float_array("y_train", y_train, ndim=2)
    w_std, b_std = width_std
    net = fc(layer + 1, activation=activation, W_std=w_std, b_std=b_std, out_dim=y_train.shape[1])
    ensemble = InfiniteEnsemble(net, x_train, y_train, mode=mode, diag_reg=diag_reg)
    task = ensemble_channel(
        ensemble, x, t, noise=noise, copies=copies, mi_se=mi_se, seed=seed, name="hidden_layer"
    )
    task.params.update(layer=layer, activation=activation, W_std=w_std, b_std=b_std)
    return task


def noisy_network_channel(
    apply_fn: Any,
    params: Any,
    x: Any,
    beta: float,
    *,
    mi_se: float = 1e-3,
    seed: int = 0,
    name: str = "noisy_network",
) -> GaussianChannelTask:
    """T = f(X) + N(0, beta^2 I) for a finite network f, X uniform over the points x.

    I(X;T) = h(T) - (d/2) log(2 pi e beta^2) (Goldfeld et al., ICML 2019, sec. 2): a uniform
    Gaussian mixture with means f(x_i) and variance beta^2.

    Args:
      apply_fn: the network, `apply_fn(params, x) -> (N, d)` (e.g. a stax apply_fn).
      params: its parameters.
      x: (N, ...features) the points.
      beta: the noise standard deviation (> 0).
      mi_se, seed, name: as in `GaussianChannelTask`.

    Returns:
      `GaussianChannelTask`; its `means` are the clean outputs f(x_i) (the input of the SP
      estimator).
    """
    beta = check_positive("beta", beta)
    x = as_float_array("x", x, min_ndim=1)
    outputs = np.asarray(apply_fn(params, x), dtype=np.float64)
    outputs = as_float_array("apply_fn(params, x)", outputs.reshape(x.shape[0], -1), ndim=2)
    variances = np.full(x.shape[0], beta**2)
    return GaussianChannelTask(
        x, outputs, variances, mi_se=mi_se, seed=seed, name=name, params=dict(beta=beta)
    )


# Imported last: the image tasks build on `Task` and `correlated_gaussian` above.
from ntk_info._task_images import ImageTask, image_task  # noqa: E402
