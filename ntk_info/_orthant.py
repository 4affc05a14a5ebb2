"""The orthant probability P[g > 0], g ~ N(0, Sigma), by Botev's minimax exponential tilting.

Numerical core of `bounds.orthant_information` (Bernstein & Yue 2021): Botev's greedy variable
reordering and Cholesky factor, the convex minimax problem for the tilting parameter (Newton on
the gradient of psi, scipy's `root` as a fallback), sequential sampling of tilted one-sided
truncated normals in log space, and Bernstein & Yue's importance sampler for comparison.

Reference: Z. I. Botev, "The normal law under linear restrictions: simulation and estimation
via minimax tilting", JRSS-B 79 (2017); Bernstein & Yue, "Computing the information content of
trained neural networks", 2021.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, optimize, special

_LOG_2PI_HALF = 0.5 * math.log(2.0 * math.pi)


def inverse_mills(t: np.ndarray) -> np.ndarray:
    """phi(t) / (1 - Phi(t)) computed in log space (stable for all t)."""
    return np.exp(-0.5 * t**2 - _LOG_2PI_HALF - special.log_ndtr(-t))


def cholperm(sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Botev's greedy reordering for P[g > 0], g ~ N(0, sigma): (L, perm), L L^T = sigma[perm,perm].

    At step j the variable with the smallest conditional probability P[g_i > 0 | g_<j = z_<j]
    (z the truncated-normal means of the variables placed so far) is placed next.
    """
    d = sigma.shape[0]
    sig = sigma.copy()
    perm = np.arange(d)
    chol = np.zeros((d, d))
    z = np.zeros(d)
    tol = 1e-8 * float(np.max(np.diag(sigma)))
    for j in range(d):
        rest = slice(j, d)
        s = np.diag(sig)[rest] - np.einsum("ij,ij->i", chol[rest, :j], chol[rest, :j])
        s = np.sqrt(np.maximum(s, np.finfo(float).eps))
        tl = -(chol[rest, :j] @ z[:j]) / s
        k = j + int(np.argmin(special.log_ndtr(-tl)))
        if k != j:
            sig[[j, k], :] = sig[[k, j], :]
            sig[:, [j, k]] = sig[:, [k, j]]
            chol[[j, k], :] = chol[[k, j], :]
            perm[[j, k]] = perm[[k, j]]
        s = sig[j, j] - chol[j, :j] @ chol[j, :j]
        if s < -tol:
            raise ValueError("`kernel` is not positive semi-definite (negative pivot in Cholesky).")
        chol[j, j] = math.sqrt(max(s, np.finfo(float).eps))
        chol[j + 1 :, j] = (sig[j + 1 :, j] - chol[j + 1 :, :j] @ chol[j, :j]) / chol[j, j]
        t = -(chol[j, :j] @ z[:j]) / chol[j, j]
        z[j] = float(inverse_mills(np.asarray(t)))
    return chol, perm


def grad_psi(y: np.ndarray, chol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Jacobian of Botev's psi(x, mu) for the orthant l = 0, u = inf.

    `chol` is the scaled Cholesky factor with zero diagonal; y = (x_{1..d-1}, mu_{1..d-1}).
    """
    d = chol.shape[0]
    x = np.zeros(d)
    mu = np.zeros(d)
    x[: d - 1] = y[: d - 1]
    mu[: d - 1] = y[d - 1 :]
    lt = -mu - chol @ x
    pl = inverse_mills(lt)
    dfdx = -mu[: d - 1] + (pl @ chol)[: d - 1]
    dfdm = mu - x + pl
    grad = np.concatenate([dfdx, dfdm[: d - 1]])
    dp = -(pl**2) + lt * pl
    dl = dp[:, None] * chol
    mx = (-np.eye(d) + dl)[: d - 1, : d - 1]
    xx = (chol.T @ dl)[: d - 1, : d - 1]
    jac = np.block([[xx, mx.T], [mx, np.diag(1.0 + dp[: d - 1])]])
    return grad, jac


def tilting_parameter(chol: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Solves grad psi = 0 (Botev 2017, eq. 9) for the tilting parameter mu.

    Newton's method on the gradient with backtracking on |grad psi| (the saddle point of the
    convex-concave psi; from 0 it converges in a few steps), then MINPACK's hybrid Powell trust
    region (as Botev's `fsolve`) if Newton stalls.
    """
    d = chol.shape[0]
    if d == 1:
        return np.zeros(1)
    y = np.zeros(2 * (d - 1))
    grad, jac = grad_psi(y, chol)
    norm = float(np.linalg.norm(grad))
    for _ in range(max_iter):
        if norm < tol * math.sqrt(y.size):
            break
        try:
            step = np.linalg.solve(jac, -grad)
        except np.linalg.LinAlgError:
            break
        size = 1.0
        while size > 1e-6:
            candidate = y + size * step
            g_new, j_new = grad_psi(candidate, chol)
            n_new = float(np.linalg.norm(g_new))
            if np.isfinite(n_new) and n_new < norm:
                break
            size *= 0.5
        else:
            break
        y, grad, jac, norm = candidate, g_new, j_new, n_new
    if not norm < 1e-6 * math.sqrt(y.size):
        sol = optimize.root(grad_psi, y, args=(chol,), jac=True, method="hybr")
        if np.all(np.isfinite(sol.x)):
            y = sol.x
    mu = np.zeros(d)
    mu[: d - 1] = y[d - 1 :]
    return mu


def tilted_log_weights(
    chol: np.ndarray, mu: np.ndarray, n_samples: int, rng: np.random.Generator, block: int = 64
) -> np.ndarray:
    """Log importance weights of Botev's tilted sequential sampler, (n_samples,).

    Variable k is drawn as Z_k = mu_k + TN(lt_k, inf), lt_k = -mu_k - (L Z)_k, with log weight
    increment ln Phi(-lt_k) + mu_k^2 / 2 - mu_k Z_k (the last variable untilted). The
    contributions of earlier blocks of variables come from one matrix product per block.
    """
    d = chol.shape[0]
    zs = np.zeros((d, n_samples))
    logw = np.zeros(n_samples)
    for start in range(0, d, block):
        stop = min(start + block, d)
        col = (
            chol[start:stop, :start] @ zs[:start] if start else np.zeros((stop - start, n_samples))
        )
        for k in range(start, stop):
            c = col[k - start] + chol[k, start:k] @ zs[start:k]
            lt = -mu[k] - c
            lp = special.log_ndtr(-lt)
            # One-sided truncated normal on [lt, inf) by inverse CDF in log space.
            u = np.log(rng.uniform(size=n_samples))
            tn = -special.ndtri_exp(u + lp)
            tn = np.maximum(tn, lt)
            zs[k] = mu[k] + tn
            logw += lp + 0.5 * mu[k] ** 2 - mu[k] * zs[k]
    return logw


def log_mean_and_se(logw: np.ndarray) -> tuple[float, float]:
    """ln mean(w) by logsumexp and its delta-method standard error std(w) / (sqrt(N) mean(w))."""
    n = logw.shape[0]
    log_mean = float(special.logsumexp(logw) - math.log(n))
    ratio = np.exp(logw - log_mean)
    se = float(np.std(ratio, ddof=1) / math.sqrt(n)) if n > 1 else float("inf")
    return log_mean, se


def importance_log_weights(sigma: np.ndarray, n_samples: int, rng: np.random.Generator):
    """Bernstein & Yue's log weights ln(2^-n exp(-u^T M u / 2)), u = |g| in the D K D frame."""
    n = sigma.shape[0]
    chol = cholesky_pd(sigma)
    log_s = 2.0 * float(np.sum(np.log(np.diag(chol)))) / n
    logw = np.empty(n_samples)
    for start in range(0, n_samples, 4096):
        u = np.abs(rng.standard_normal((min(4096, n_samples - start), n)))
        # s u^T Sigma^{-1} u - u^T u with Sigma^{-1} via the Cholesky solve.
        w = linalg.solve_triangular(chol, u.T, lower=True)
        quad = math.exp(log_s) * np.sum(w**2, axis=0) - np.sum(u**2, axis=1)
        logw[start : start + u.shape[0]] = -0.5 * quad
    return logw - n * math.log(2.0)


def cholesky_pd(k: np.ndarray) -> np.ndarray:
    try:
        return linalg.cholesky(k, lower=True)
    except linalg.LinAlgError as error:
        raise ValueError(
            "`kernel` is not positive definite (Cholesky failed); it must be a symmetric PSD "
            "kernel matrix without duplicated points, or add a ridge, "
            "e.g. K + 1e-8 * mean(diag K) * I."
        ) from error
