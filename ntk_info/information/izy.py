"""I(Z;Y) (spec C.2): the Barber-Agakov lower bound with a proper decoder, and its fit.

I(Z;Y) >= H(Y) + E_{x,y} E_{z ~ p(z|x,D)} log q(y|z) for every decoder q chosen without the
evaluation points (Barber & Agakov 2003). Decoders, with one variance sigma^2 per time:

  - labels (one-hot or +-1): q(c|z) proportional to exp(-|z - e_c|^2 / 2 sigma^2) over the label
    codes e_c, i.e. softmax(z / sigma^2) for one-hot and sigmoid(2 y z / sigma^2) for +-1;
  - regression: q(y|z) = N(y; z, sigma^2 I_k) (sigma^2 = 1 is the paper's decoder).

E_z is exact for regression, a 24-node Gauss-Hermite rule for k = 1 labels, and a Monte Carlo
average over `n_draws` standard-normal draws for k > 1 labels. The draws are drawn once, from
`seed`, and shared by every time: the same (t, seed) gives the same numbers in any time grid.
`izy_columns` is the information plane's builder for this family.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ntk_info.ensemble import InfiniteEnsemble, Prediction
from ntk_info.information._inputs import (
    FitOn,
    Labels,
    as_ensemble,
    as_prediction,
    check_count,
    check_option,
    label_kind,
    resolve_entropy_y,
    resolve_labels,
    targets,
)
from ntk_info.information.losses import gibbs

if TYPE_CHECKING:
    from ntk_info.mixture import MIEstimate

__all__ = [
    "SIGMA2_RANGE",
    "fit_decoder_variance",
    "expected_log_decoder",
    "izy_lower",
    "izy_lower_paper",
    "decoder_fit",
    "izy_columns",
    "check_decoder",
]

#: Default bounded range of the fitted decoder variance sigma^2.
SIGMA2_RANGE = (1e-2, 1e2)

#: Gauss-Hermite nodes for E_z with k = 1.
_HERMITE_NODES = 24


def fit_decoder_variance(
    source: Any,
    y: Any,
    *,
    labels: Labels = "auto",
    n_draws: int = 8,
    seed: int = 0,
    sigma2_range: tuple[float, float] = SIGMA2_RANGE,
    x: Any = None,
    t: Any = None,
) -> np.ndarray:
    """Decoder variance sigma^2 per time maximising the mean E_z log q(y|z) over the points given.

    Labels: 1-D bounded maximisation in log sigma^2 (a 17-point grid, then 24 golden-section
    steps), with common draws of z for k > 1. Regression: the closed form
    sigma^2 = mean_i (|y_i - mu_i|^2 + k s_i) / k. Clipped to `sigma2_range`. Any sigma^2 chosen
    without the evaluation points gives a valid bound (e.g. fitted on training points).

    Args:
      source: `Prediction` (T, n, k) on the fitting points (e.g. `ensemble.predict_train(t)`),
        or an ensemble with `x`, `t`.
      y: (n, k) their targets.
      labels: 'auto', 'onehot', 'parity' or 'regression' (`Labels`).
      n_draws, seed: Monte Carlo draws of z for k > 1.
      sigma2_range: bounded range (low, high) of sigma^2.

    Returns:
      (T,) float64 sigma^2.
    """
    pred = as_prediction(source, x, t)
    y = targets(y, pred)
    kind = resolve_labels(labels, y)
    low, high = _check_range(sigma2_range)
    n_draws = check_count("n_draws", n_draws, 2, "the standard error needs two draws of z")
    return _fit(pred, y, kind, n_draws, check_count("seed", seed, 0, "a PRNG seed"), low, high)


def expected_log_decoder(
    source: Any,
    y: Any,
    sigma2: Any,
    *,
    labels: Labels = "auto",
    n_draws: int = 8,
    seed: int = 0,
    x: Any = None,
    t: Any = None,
) -> MIEstimate:
    """Mean over points of E_{z ~ N(mu_i, s_i I)} log q(y_i | z), with its standard error.

    q as in `fit_decoder_variance` with the given sigma^2, (T,) or a scalar. Regression is
    exact: -(|y - mu|^2 + k s) / (2 sigma^2) - (k/2) log(2 pi sigma^2), se = 0. Labels with
    k = 1: 24-node Gauss-Hermite, se = 0; k > 1: Monte Carlo over `n_draws` draws of z,
    se = std over draws / sqrt(n_draws).

    Returns:
      `mixture.MIEstimate(value, se)`, each (T,) float64, nats.
    """
    pred = as_prediction(source, x, t)
    y = targets(y, pred)
    kind = resolve_labels(labels, y)
    s2 = _check_sigma2(sigma2, pred.mean.shape[0])
    if isinstance(s2, str):
        raise ValueError("`sigma2` must be a number or a (T,) array here, not 'fit'.")
    n_draws = check_count("n_draws", n_draws, 2, "the standard error needs two draws of z")
    return _expected(pred, y, kind, s2, n_draws, check_count("seed", seed, 0, "a PRNG seed"))


def izy_lower(
    source: Any,
    y: Any,
    *,
    entropy_y: float | None = None,
    labels: Labels = "auto",
    sigma2: Any = None,
    fit_on: FitOn = "eval",
    ensemble: InfiniteEnsemble | None = None,
    n_fit: int | None = 512,
    n_draws: int = 8,
    seed: int = 0,
    sigma2_range: tuple[float, float] = SIGMA2_RANGE,
    x: Any = None,
    t: Any = None,
) -> MIEstimate:
    """Barber-Agakov lower bound on I(Z;Y): H(Y) + E_{x,y} E_{z~p(z|x,D)} log q(y|z).

    Valid for any decoder q chosen without the evaluation points (Barber & Agakov 2003).
      - Continuous y: q(y|z) = N(y; z, sigma^2 I_k), sigma^2 = 1 by default (the paper's
        decoder), with the exact differential H(Y) (`entropy_y`, required).
      - One-hot / +-1 labels: the paper's Gaussian decoder is not a distribution over the
        classes (its bound is vacuous, see `izy_lower_paper`); here q(c|z) is proportional to
        exp(-|z - e_c|^2 / 2 sigma^2) over the label set, sigma^2 fitted per time
        (`fit_decoder_variance`, see `fit_on`), and H(Y) is the discrete empirical entropy of
        y unless given.

    Args:
      source: `Prediction` on the evaluation points (T, m, k), or an ensemble with `x`, `t`.
      y: (m, k) targets of the evaluation points.
      entropy_y: H(Y) in nats (required for continuous y).
      labels: 'auto', 'onehot', 'parity' or 'regression' (`Labels`).
      sigma2: decoder variance, scalar or (T,), or 'fit'; default 1 for regression and 'fit'
        for labels.
      fit_on: where 'fit' maximises E log q (`FitOn`). 'eval' (default): the evaluation points
        themselves, with draws of z independent of those of the bound; the bound is then valid
        for the empirical joint over the evaluation points (X uniform over them, as for the
        I(Z;X) bounds), and the one fitted scalar biases it for the population by O(1/m) at
        most. 'train': `n_fit` training points at the same time, so q is independent
        of the evaluation points; but at late times the ensemble interpolates the training
        points (s -> 0, mu -> y), the fit runs to the lower end of `sigma2_range` and the
        over-confident decoder makes the bound very negative.
      ensemble: the ensemble whose training points fit sigma^2 (default `source` if it is one).
      n_fit: points used for the fit, a seeded random subset (seed + 1, sorted) of the
        evaluation points (fit_on='eval') or of the training points (fit_on='train',
        O(n_fit n^2) per time); None or n_fit >= their number: all.
      n_draws, seed: Monte Carlo draws of z (k > 1 labels); the fit uses seed + 1.
      sigma2_range: bounded range of the fitted sigma^2.

    Returns:
      `mixture.MIEstimate(value (T,), se (T,))`, nats; value <= H(Y) for labels.

    Reference: Barber & Agakov, NIPS 2003; Shwartz-Ziv & Alemi (2019), eq. (11) with the
    inequality fixed (spec C.2).
    """
    if isinstance(source, InfiniteEnsemble) and ensemble is None:
        ensemble = source
    pred = as_prediction(source, x, t)
    y = targets(y, pred)
    kind = resolve_labels(labels, y)
    decoder = check_decoder(sigma2, fit_on, ensemble, pred, kind, n_fit, sigma2_range)
    n_draws = check_count("n_draws", n_draws, 2, "the standard error needs two draws of z")
    seed = check_count("seed", seed, 0, "a PRNG seed")
    return _bound(
        pred, y, kind, resolve_entropy_y(entropy_y, y, kind), decoder, ensemble, n_draws, seed
    )


def izy_lower_paper(
    source: Any, y: Any, *, entropy_y: float | None = None, x: Any = None, t: Any = None
) -> np.ndarray:
    """The paper's I(Z;Y) bound: H(Y) + E log N(y; z, I_k) = H(Y) - loss_gibbs.

    A valid lower bound for continuous y; for discrete labels the Gaussian "decoder" does not
    sum to one over the label set and the value is vacuous (typically negative for one-hot).
    H(Y) as in `izy_lower` (discrete empirical entropy for labels unless given).

    Returns:
      (T,) float64, nats.

    Reference: Shwartz-Ziv & Alemi (2019), eq. (11).
    """
    pred = as_prediction(source, x, t)
    y = targets(y, pred)
    return resolve_entropy_y(entropy_y, y, label_kind(y)) - gibbs(pred, y)


def decoder_fit(sigma2: Any, fit_on: str, kind: str) -> str:
    """How the decoder variance is chosen: `fit_on` ('eval' or 'train') if fitted, else 'fixed'."""
    fitted = (isinstance(sigma2, str) and sigma2 == "fit") or (
        sigma2 is None and kind != "regression"
    )
    return fit_on if fitted else "fixed"


def izy_columns(
    pred: Prediction,
    y: np.ndarray,
    kind: str,
    h_y: float,
    decoder: dict[str, Any],
    ensemble: InfiniteEnsemble,
    n_draws: int,
    seed: int,
) -> dict[str, Any]:
    """The information plane's I(Z;Y) columns from a validated prediction.

    izy_lower, izy_lower_se, izy_lower_paper, entropy_y, decoder_sigma2; each (T,). `decoder`
    comes from `check_decoder`.
    """
    sigma2 = _decoder_variance(pred, y, kind, decoder, ensemble, n_draws, seed + 1)
    bound = _expected(pred, y, kind, sigma2, n_draws, seed)
    n_times = pred.mean.shape[0]
    return dict(
        izy_lower=h_y + bound.value,
        izy_lower_se=bound.se,
        izy_lower_paper=h_y - gibbs(pred, y),
        entropy_y=np.full(n_times, h_y),
        decoder_sigma2=np.broadcast_to(sigma2, (n_times,)).copy(),
    )


# ----------------------------------------------------------------------------------------------
# Validation of the decoder options.
# ----------------------------------------------------------------------------------------------


def _check_range(sigma2_range: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in sigma2_range)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`sigma2_range` must be (low, high), got {sigma2_range!r}.") from error
    if not (0 < low < high < np.inf):
        raise ValueError(
            f"`sigma2_range` must be (low, high) with 0 < low < high, got {sigma2_range}."
        )
    return low, high


def _check_sigma2(sigma2: Any, n_times: int) -> np.ndarray | str:
    if isinstance(sigma2, str):
        return check_option("sigma2", sigma2, ("fit",))
    s2 = np.asarray(sigma2, dtype=np.float64)
    if s2.ndim > 1 or (s2.ndim == 1 and s2.shape != (n_times,)):
        raise ValueError(f"`sigma2` must be a scalar or ({n_times},), got shape {s2.shape}.")
    if np.any(~np.isfinite(s2)) or np.any(s2 <= 0):
        raise ValueError("`sigma2` must be finite and > 0.")
    return np.broadcast_to(s2, (n_times,))


def check_decoder(sigma2, fit_on, ensemble, pred, kind, n_fit, sigma2_range) -> dict[str, Any]:
    """The decoder options, validated once: sigma2 ('fit' or a (T,) array) and the fit's set-up."""
    if sigma2 is None:
        sigma2 = 1.0 if kind == "regression" else "fit"
    decoder: dict[str, Any] = dict(sigma2=_check_sigma2(sigma2, pred.mean.shape[0]))
    decoder["fit_on"] = check_option("fit_on", fit_on, FitOn)
    decoder["range"] = _check_range(sigma2_range)
    if n_fit is not None:
        n_fit = check_count("n_fit", n_fit, 1, "points to fit the decoder on")
    decoder["n_fit"] = n_fit
    if isinstance(decoder["sigma2"], str) and decoder["fit_on"] == "train":
        if ensemble is None:
            raise ValueError(
                "Fitting the decoder variance on the training points needs `ensemble=`; or "
                "pass fit_on='eval' or a fixed `sigma2=`."
            )
        as_ensemble(ensemble)
    return decoder


# ----------------------------------------------------------------------------------------------
# Cores.
# ----------------------------------------------------------------------------------------------


def _bound(pred, y, kind, h_y, decoder, ensemble, n_draws, seed) -> MIEstimate:
    from ntk_info.mixture import MIEstimate

    sigma2 = _decoder_variance(pred, y, kind, decoder, ensemble, n_draws, seed + 1)
    value, se = _expected(pred, y, kind, sigma2, n_draws, seed)
    return MIEstimate(h_y + value, se)


def _decoder_variance(pred, y, kind, decoder, ensemble, n_draws, seed) -> np.ndarray:
    """sigma^2 (T,): as given, or fitted on the evaluation ('eval') or training ('train') points."""
    if not isinstance(decoder["sigma2"], str):
        return decoder["sigma2"]
    low, high = decoder["range"]
    n_fit = decoder["n_fit"]
    if decoder["fit_on"] == "eval":
        rows = _fit_rows(pred.mean.shape[1], n_fit, seed)
        subset = Prediction(t=pred.t, tau=pred.tau, mean=pred.mean[:, rows], var=pred.var[:, rows])
        return _fit(subset, y[rows], kind, n_draws, seed, low, high)
    rows = _fit_rows(ensemble.n_train, n_fit, seed)
    train = ensemble.predict_train(pred.t, rows=rows)
    y_train = ensemble.y_train[rows]
    return _fit(train, y_train, kind, n_draws, seed, low, high)


def _fit_rows(total: int, n_fit: int | None, seed: int) -> np.ndarray:
    """The points that fit the decoder: all, or a seeded random subset of n_fit (sorted)."""
    if n_fit is None or n_fit >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, n_fit, replace=False))


def _fit(pred, y, kind, n_draws, seed, low, high) -> np.ndarray:
    if kind == "regression":
        k = y.shape[1]
        sq = np.sum((y[None] - pred.mean) ** 2, axis=-1) + k * pred.var
        return np.clip(np.mean(sq, axis=1) / k, low, high)
    m, k = y.shape
    nodes, weights, _ = _nodes(k, m, n_draws, seed)
    codebook, target = _codebook(kind, k), _class_index(y, kind)

    def objective(log_s2: np.ndarray) -> np.ndarray:
        return _log_decoder(pred.mean, pred.var, target, codebook, nodes, log_s2) @ weights

    return np.exp(_maximise_log_s2(objective, math.log(low), math.log(high), pred.mean.shape[0]))


def _expected(pred, y, kind, s2, n_draws, seed) -> MIEstimate:
    from ntk_info.mixture import MIEstimate

    n_times = pred.mean.shape[0]
    m, k = y.shape
    if kind == "regression":
        sq = np.sum((y[None] - pred.mean) ** 2, axis=-1) + k * pred.var
        value = -np.mean(sq, axis=1) / (2 * s2) - 0.5 * k * np.log(2 * np.pi * s2)
        return MIEstimate(value, np.zeros(n_times))
    nodes, weights, sampled = _nodes(k, m, n_draws, seed)
    codebook, target = _codebook(kind, k), _class_index(y, kind)
    draws = _log_decoder(pred.mean, pred.var, target, codebook, nodes, np.log(s2)[:, None])[:, 0]
    value = draws @ weights
    if not sampled:
        return MIEstimate(value, np.zeros(n_times))
    return MIEstimate(value, draws.std(axis=1, ddof=1) / math.sqrt(draws.shape[1]))


def _codebook(kind: str, k: int) -> np.ndarray:
    """Class codes e_c (C, k): the one-hot rows, or -1 and +1 for parity."""
    return np.eye(k) if kind == "onehot" else np.array([[-1.0], [1.0]])


def _class_index(y: np.ndarray, kind: str) -> np.ndarray:
    return np.argmax(y, axis=1) if kind == "onehot" else (y[:, 0] > 0).astype(np.int64)


def _nodes(k: int, m: int, n_draws: int, seed: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Standard-normal nodes (D, m, k) and weights (D,): Gauss-Hermite for k = 1, else MC.

    The Monte Carlo draws depend on (seed, m, k, n_draws) only, so every time shares them.
    """
    if k == 1:
        x, w = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)
        return np.broadcast_to(x[:, None, None], (_HERMITE_NODES, m, 1)), w / w.sum(), False
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_draws, m, k)), np.full(n_draws, 1.0 / n_draws), True


def _log_decoder_draws(mean, var, target, codebook, nodes, log_s2):
    """Per-node mean over points of log q(c_i|z), q(c|z) = softmax_c((z.e_c - |e_c|^2/2)/sigma^2).

    With d_c = (score_c - score_{c_i}) / sigma^2 (d_{c_i} = 0) and M = max_c d_c >= 0,
    log q = -log sum_c e^{d_c} = -(M + log1p(expm1(-M) + sum_{c != c_i} e^{d_c - M})): accurate
    to relative precision even where q -> 1 (log q ~ -e^{-margin/sigma^2}, far below the rounding
    of a logsumexp difference), so the fit of sigma^2 does not follow rounding noise.

    mean (T, m, k), var (T, m), target (m,), codebook (C, k), nodes (D, m, k), log_s2 (T, G).
    Returns (T, G, D).
    """
    import jax
    import jax.numpy as jnp

    half_norm = 0.5 * jnp.sum(codebook**2, axis=1)
    others = jnp.arange(codebook.shape[0])[None, :] != target[:, None]  # (m, C)

    def one_time(args):
        mu, s, ls2 = args
        z = mu[None] + jnp.sqrt(s)[None, :, None] * nodes  # (D, m, k)
        raw = z @ codebook.T - half_norm  # (D, m, C)
        own = jnp.take_along_axis(raw, target[None, :, None], axis=-1)  # (D, m, 1)
        scaled = (raw - own)[None] / jnp.exp(ls2)[:, None, None, None]  # (G, D, m, C)
        top = jnp.max(scaled, axis=-1)  # >= 0: the own entry is exactly 0
        rest = jnp.sum(jnp.where(others, jnp.exp(scaled - top[..., None]), 0.0), axis=-1)
        logq = -(top + jnp.log1p(jnp.expm1(-top) + rest))
        return jnp.mean(logq, axis=-1)  # (G, D)

    return jax.lax.map(one_time, (mean, var, log_s2))


_JITTED: dict[str, Callable] = {}


def _log_decoder(mean, var, target, codebook, nodes, log_s2) -> np.ndarray:
    import jax

    from ntk_info._jax import float64

    with float64():
        if "log_decoder" not in _JITTED:
            _JITTED["log_decoder"] = jax.jit(_log_decoder_draws)
        out = _JITTED["log_decoder"](mean, var, target, codebook, nodes, log_s2)
    return np.asarray(out, dtype=np.float64)


def _maximise_log_s2(objective: Callable, low: float, high: float, n_times: int) -> np.ndarray:
    """argmax over log sigma^2 in [low, high] of a (T, G) -> (T, G) objective, per time.

    A 17-point grid brackets the maximum to one grid step either side; 24 golden-section steps
    (one evaluation each) shrink the bracket by 0.618^24 ~ 1e-5. Each time is maximised on its
    own row, so the result for a time does not depend on the other times.
    """
    grid = np.linspace(low, high, 17)
    best = np.argmax(objective(np.broadcast_to(grid, (n_times, grid.size))), axis=1)
    step = grid[1] - grid[0]
    a = np.clip(grid[best] - step, low, high)
    b = np.clip(grid[best] + step, low, high)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = objective(np.stack([c, d], axis=1)).T
    for _ in range(24):
        left = fc >= fd  # the maximum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_new = objective(new[:, None])[:, 0]
        c, d, fc, fd = (
            np.where(left, new, d),
            np.where(left, c, new),
            np.where(left, f_new, fd),
            np.where(left, fc, f_new),
        )
    return 0.5 * (a + b)
