"""Generalization bounds: NTK norm, orthant information, PAC-Bayes, input compression, Xu-Raginsky.

Every bound is a small function of numbers or arrays (NumPy / SciPy, float64) with its formula,
its source and its confidence convention in the docstring. With probability >= 1 - delta over
the draw of the n training points, the test error (or generalization gap) is at most the value
returned. Information is in nats.

Reference: spec/information_ntk.md §5, §8.5; spec/estimators.md C, D, E2, E4.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import linalg, optimize, special

from ntk_info._checks import as_float_array, check_nonnegative, check_positive
from ntk_info._orthant import (
    cholesky_pd,
    cholperm,
    importance_log_weights,
    log_mean_and_se,
    tilted_log_weights,
    tilting_parameter,
)
from ntk_info.mixture import MIEstimate

__all__ = [
    "ntk_norm",
    "orthant_information",
    "orthant_jensen_upper",
    "pac_bayes_kl_inverse",
    "pac_bayes_mcallester",
    "pac_bayes_realizable",
    "input_compression",
    "xu_raginsky",
    "generalization_table",
    "gibbs_error",
    "BOUNDED_QUANTITY",
    "BINARY_ONLY",
]

ORTHANT_METHODS = ("tilting", "importance")


# ----------------------------------------------------------------------------------------------
# Validation at the boundary.
# ----------------------------------------------------------------------------------------------


def _check_delta(delta: float) -> float:
    delta = float(delta)
    if not (0.0 < delta < 1.0):
        raise ValueError(f"`delta` (the failure probability) must lie in (0, 1), got {delta}.")
    return delta


def _check_n(n: float, minimum: int = 1) -> float:
    n = float(n)
    if not np.isfinite(n) or n < minimum:
        raise ValueError(f"`n` (the number of training points) must be >= {minimum}, got {n}.")
    return n


def _check_error(train_error: float) -> float:
    q = float(train_error)
    if not (0.0 <= q <= 1.0):
        raise ValueError(f"`train_error` must lie in [0, 1], got {q}.")
    return q


def _check_kernel_labels(kernel: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    k = as_float_array("kernel", kernel, ndim=2)
    n = k.shape[0]
    if k.shape != (n, n) or n == 0:
        raise ValueError(f"`kernel` must be a square (n, n) matrix, got shape {k.shape}.")
    scale = float(np.max(np.abs(k))) or 1.0
    if np.max(np.abs(k - k.T)) > 1e-10 * scale:
        raise ValueError("`kernel` is not symmetric; pass (K + K.T) / 2 if it is a rounding issue.")
    c = as_float_array("labels", labels, ndim=(1, 2)).reshape(-1)
    if c.shape[0] != n:
        raise ValueError(
            f"`labels` must have one entry per kernel row ({n}), got {c.shape[0]} entries."
        )
    if not np.all(np.abs(c) == 1.0):
        raise ValueError("`labels` must be +1 or -1; map {0, 1} labels with 2 * y - 1.")
    return 0.5 * (k + k.T), c


# ----------------------------------------------------------------------------------------------
# NTK norm.
# ----------------------------------------------------------------------------------------------


def ntk_norm(ensemble: Any) -> float:
    """NTK data-dependent complexity sqrt(2 sum_k y_k^T Theta^{-1} y_k / n).

    With the public spectrum Theta = V diag(lam) V^T of the ensemble's training NTK,
    y_k^T Theta^{-1} y_k = sum_a (V^T y_k)_a^2 / lam_a. The eigenvalues include the ensemble's
    `diag_reg` (the kernel the dynamics invert), so a ridge lowers the norm. Arora et al. bound
    the test error of a 2-layer ReLU net by this quantity plus O(sqrt(log(n / delta) / n)); it is
    returned without the confidence term (a complexity measure, no delta).

    Args:
      ensemble: an `InfiniteEnsemble` in mode 'ntk' with targets y (n, k).

    Returns:
      The norm as a float.

    Reference: Arora, Du, Hu, Li, Wang, "Fine-grained analysis of optimization and generalization
    for overparameterized two-layer neural networks", ICML 2019, Thm 5.1.
    """
    if getattr(ensemble, "mode", None) != "ntk":
        raise ValueError(
            "`ntk_norm` needs an ensemble in mode 'ntk' (it inverts the NTK Theta); "
            f"got mode {getattr(ensemble, 'mode', None)!r}."
        )
    lam = np.asarray(ensemble.spectrum.eigenvalues, dtype=np.float64)
    y_rot = np.asarray(ensemble.spectrum.y_rot, dtype=np.float64)
    if np.any(lam <= 0):
        raise ValueError("The ensemble's NTK is singular; build it with `diag_reg` > 0.")
    quad = float(np.sum(y_rot**2 / lam[:, None]))
    return math.sqrt(2.0 * quad / lam.shape[0])


# ----------------------------------------------------------------------------------------------
# Orthant information ln 1/p (Bernstein & Yue 2021).
# ----------------------------------------------------------------------------------------------


def orthant_information(
    kernel: Any,
    labels: Any,
    *,
    method: str = "tilting",
    n_samples: int = 10_000,
    seed: int = 0,
) -> MIEstimate:
    """Information in the labels relative to a GP prior, ln 1/p, p = P_{f~N(0,K)}[sign f = c].

    With D = diag(c), P[c_i f_i > 0 for all i] = P[g > 0], g ~ N(0, D K D) (an orthant
    probability). Methods:

    - 'tilting' (default): Botev's minimax exponential tilting. The variables are reordered
      greedily (smallest conditional probability first) while forming the Cholesky factor L of
      D K D; the tilting parameter mu solves the convex-concave minimax problem grad psi(x, mu) = 0
      (MINPACK trust region); samples are drawn sequentially from tilted one-sided truncated
      normals in log space. p = mean(w), ln(1/p) = ln N - logsumexp(ln w), and
      se = std(w) / (sqrt(N) mean(w)) (delta method on the log of the mean). Low variance even
      for ill-conditioned kernels and n in the thousands.
    - 'importance': Bernstein & Yue's sampler with proposal N(0, s I) on the orthant,
      s = det(K)^{1/n}, M = s K^{-1} - I, u = c * |g|, g ~ N(0, I_n):
      ln(1/p) = n ln 2 - ln E_g[exp(-u^T M u / 2)]. Kept for comparison: its weights are
      heavy-tailed on ill-conditioned kernels, and the estimate is then biased upwards (the
      mean of the weights is under-estimated) with an optimistic standard error.

    Args:
      kernel: (n, n) symmetric PSD prior covariance of f on the training inputs (e.g. NNGP K).
      labels: (n,) labels c in {+1, -1}.
      method: 'tilting' or 'importance'.
      n_samples: number of Monte Carlo samples.
      seed: seed of the NumPy generator.

    Returns:
      `MIEstimate(value, se)`: ln(1/p) in nats and its Monte Carlo standard error.

    Reference: Bernstein & Yue, "Computing the information content of trained neural networks",
    2021 (arXiv 2103.01045); Botev, "The normal law under linear restrictions: simulation and
    estimation via minimax tilting", JRSS-B 79 (2017) 125-148.
    """
    k, c = _check_kernel_labels(kernel, labels)
    if method not in ORTHANT_METHODS:
        raise ValueError(f"`method` must be one of {ORTHANT_METHODS}, got {method!r}.")
    n_samples = int(n_samples)
    if n_samples < 2:
        raise ValueError(f"`n_samples` must be >= 2, got {n_samples}.")
    rng = np.random.default_rng(seed)
    sigma = c[:, None] * k * c[None, :]
    if method == "importance":
        logw = importance_log_weights(sigma, n_samples, rng)
    else:
        eig_min, eig_max = linalg.eigvalsh(sigma, subset_by_index=[0, 0])[0], np.max(np.diag(k))
        if eig_min < -1e-8 * eig_max:
            raise ValueError(
                f"`kernel` is not positive semi-definite (smallest eigenvalue {eig_min:.3g})."
            )
        chol, _ = cholperm(sigma)
        diag = np.diag(chol).copy()
        chol = chol / diag[:, None] - np.eye(chol.shape[0])
        mu = tilting_parameter(chol)
        logw = tilted_log_weights(chol, mu, n_samples, rng)
    log_p, se = log_mean_and_se(logw)
    return MIEstimate(np.float64(-log_p), np.float64(se))


def orthant_jensen_upper(kernel: Any, labels: Any) -> float:
    """Closed-form Jensen upper bound on ln 1/p (Bernstein & Yue 2021).

    With the importance identity ln(1/p) = n ln 2 - ln E[exp(-u^T M u / 2)] (see
    `orthant_information`, method 'importance'), Jensen (ln E e^{-X} >= -E X) gives
    ln(1/p) <= n ln 2 + E[u^T M u] / 2. With E[u_i u_j] = c_i c_j 2/pi (i != j), E[u_i^2] = 1,
    tr M = s tr K^{-1} - n and c^T M c = s c^T K^{-1} c - n:

        ln(1/p) <= n (ln 2 - 1/2) + s [ (1/2 - 1/pi) tr K^{-1} + (1/pi) c^T K^{-1} c ],

    s = det(K)^{1/n}. (entropix rounds n (ln 2 - 1/2) ~ 0.193 n up to n / 5; this is exact.)

    Args:
      kernel: (n, n) symmetric positive definite prior covariance.
      labels: (n,) labels in {+1, -1}.

    Returns:
      The upper bound on ln(1/p) in nats, a deterministic float.

    Reference: Bernstein & Yue, arXiv 2103.01045 (2021), Sec. 3.
    """
    k, c = _check_kernel_labels(kernel, labels)
    n = k.shape[0]
    chol = cholesky_pd(k)
    s = math.exp(2.0 * float(np.sum(np.log(np.diag(chol)))) / n)
    inv = linalg.cho_solve((chol, True), np.eye(n))
    quad = float(c @ inv @ c)
    return n * (math.log(2.0) - 0.5) + s * ((0.5 - 1.0 / math.pi) * np.trace(inv) + quad / math.pi)


# ----------------------------------------------------------------------------------------------
# PAC-Bayes.
# ----------------------------------------------------------------------------------------------


def _bernoulli_kl(q: float, p: float) -> float:
    """kl(q || p) = q ln(q/p) + (1-q) ln((1-q)/(1-p)), with 0 ln 0 = 0."""
    return float(
        special.xlogy(q, q)
        - special.xlogy(q, p)
        + special.xlogy(1 - q, 1 - q)
        - special.xlogy(1 - q, 1 - p)
    )


def _pac_bayes_budget(train_error: float, kl: float, n: float, delta: float) -> tuple[float, float]:
    q = _check_error(train_error)
    kl = check_nonnegative("kl", kl)
    n = _check_n(n)
    delta = _check_delta(delta)
    return q, (kl + math.log(2.0 * math.sqrt(n) / delta)) / n


def pac_bayes_kl_inverse(train_error: float, kl: float, n: float, delta: float) -> float:
    """PAC-Bayes-kl bound: sup{p in [q, 1] : kl(q || p) <= (KL + ln(2 sqrt(n) / delta)) / n}.

    With probability >= 1 - delta, for every posterior Q the expected test error of the Gibbs
    classifier is at most the returned p, q its training error and KL = KL(Q || P) in nats.
    kl(q || .) increases on [q, 1], so the root is bracketed and found by Brent's method to
    1e-12 (1 when even p -> 1 satisfies the constraint, i.e. q = 1).

    Args:
      train_error: empirical (Gibbs) error q in [0, 1].
      kl: KL(posterior || prior) >= 0, nats.
      n: number of training points (>= 1).
      delta: failure probability in (0, 1).

    Returns:
      The bound on the test error, in [q, 1].

    Reference: Langford & Seeger 2001; Maurer, "A note on the PAC Bayesian theorem", 2004.
    """
    q, budget = _pac_bayes_budget(train_error, kl, n, delta)
    if q >= 1.0:
        return 1.0
    top = 1.0 - 1e-15
    if _bernoulli_kl(q, top) <= budget:
        return 1.0
    return float(
        optimize.brentq(lambda p: _bernoulli_kl(q, p) - budget, q, top, xtol=1e-14, rtol=1e-15)
    )


def pac_bayes_mcallester(train_error: float, kl: float, n: float, delta: float) -> float:
    """McAllester's PAC-Bayes bound q + sqrt((KL + ln(2 sqrt(n) / delta)) / (2 n)).

    Follows from `pac_bayes_kl_inverse` by Pinsker's inequality kl(q || p) >= 2 (p - q)^2, so it is
    never smaller. Not clipped at 1 (a value >= 1 is vacuous).

    Args:
      train_error: q in [0, 1]; kl: KL(Q || P) >= 0 in nats; n >= 1; delta in (0, 1).

    Returns:
      The bound on the expected test error.

    Reference: McAllester, "PAC-Bayesian model averaging", COLT 1999; Maurer 2004 (the
    ln(2 sqrt(n) / delta) term).
    """
    q, budget = _pac_bayes_budget(train_error, kl, n, delta)
    return q + math.sqrt(budget / 2.0)


def pac_bayes_realizable(information: float, n: float, delta: float) -> float:
    """Realizable PAC-Bayes bound 1 - exp(-(I + ln(2 n / delta)) / (n - 1)).

    For a posterior that is the prior restricted to the functions fitting the training labels
    (zero training error), KL(Q || P) = ln 1/P(fit) = I, the orthant information of
    `orthant_information`. With probability >= 1 - delta, the Gibbs test error is at most this.

    Args:
      information: I = ln 1/p >= 0, nats.
      n: number of training points (>= 2).
      delta: failure probability in (0, 1).

    Returns:
      The bound on the test error, in (0, 1].

    Reference: Valle-Perez, Camargo & Louis, ICLR 2019 (Thm 1, after Langford & Seeger); used by
    Bernstein & Yue 2021 with delta = 0.01.
    """
    information = check_nonnegative("information", information)
    n = _check_n(n, minimum=2)
    delta = _check_delta(delta)
    return -math.expm1(-(information + math.log(2.0 * n / delta)) / (n - 1.0))


# ----------------------------------------------------------------------------------------------
# Input compression and Xu-Raginsky.
# ----------------------------------------------------------------------------------------------


def input_compression(izx: float, n: float, delta: float = 0.05) -> float:
    """Input-compression bound (ICB) sqrt((2^{I(X;Z) in bits} + ln(1/delta)) / (2 n)).

    2^{I in bits} = exp(I in nats), so with `izx` in nats the bound is
    sqrt((exp(izx) + ln(1/delta)) / (2 n)). With probability >= 1 - delta the generalization
    error is at most this; it is vacuous unless I(X;Z) <~ log2(n) bits. Returns inf when
    exp(izx) overflows.

    Args:
      izx: I(X;Z) >= 0 in nats (e.g. the leave-one-out upper bound of `ntk_info.mixture`).
      n: number of training points (>= 1).
      delta: failure probability in (0, 1), 0.05 by default (the paper's 95% level).

    Returns:
      The bound on the generalization error.

    Reference: Galloway et al., "Bounding generalization error with input compression: an
    empirical study with infinite-width networks", TMLR 2023, eq. 3 (after Shwartz-Ziv, Painsky &
    Tishby 2018). The delta term is ln(1/delta) as in that paper's statement.
    """
    izx = check_nonnegative("izx", izx)
    n = _check_n(n)
    delta = _check_delta(delta)
    if izx > 700.0:
        return math.inf
    return math.sqrt((math.exp(izx) + math.log(1.0 / delta)) / (2.0 * n))


def xu_raginsky(mutual_information: float, n: float, sigma: float) -> float:
    """Xu-Raginsky bound on the expected generalization gap: sqrt(2 sigma^2 I(theta; D) / n).

    For a loss that is sigma-sub-Gaussian under the data distribution for every hypothesis,
    |E[test loss - train loss]| <= sqrt(2 sigma^2 I / n), I the mutual information between the
    training set and the learned parameters (or function) in nats. A bound in expectation: no
    delta.

    Args:
      mutual_information: I(theta; D) >= 0 in nats.
      n: number of training points (>= 1).
      sigma: sub-Gaussian parameter of the loss (> 0); e.g. 1/2 for a loss in [0, 1].

    Returns:
      The bound on the expected generalization gap.

    Reference: Xu & Raginsky, "Information-theoretic analysis of generalization capability of
    learning algorithms", NeurIPS 2017, Thm 1.
    """
    information = check_nonnegative("mutual_information", mutual_information)
    n = _check_n(n)
    sigma = check_positive("sigma", sigma)
    return math.sqrt(2.0 * sigma**2 * information / n)


# ----------------------------------------------------------------------------------------------
# All bounds over the training-time grid: implemented in _bounds_table.py (it calls the bounds
# above), re-exported here.
# ----------------------------------------------------------------------------------------------

from ntk_info._bounds_table import (  # noqa: E402
    BINARY_ONLY,
    BOUNDED_QUANTITY,
    generalization_table,
    gibbs_error,
)
