"""`InfiniteEnsemble` and `gain` against independent computations.

References used here, none of which goes through `ntk_info.ensemble`:
  * neural-tangents' own `predict.gradient_descent_mse_ensemble(..., compute_cov=True)` in
    float64 (its eigendecomposition at finite t, its Cholesky solve at t = None);
  * closed forms evaluated with numpy / scipy from the raw `kernel_fn` matrices: the prior at
    t = 0, kernel regression at t = inf, matrix exponentials `scipy.linalg.expm` on the training
    points;
  * exact decimal arithmetic (60 digits) for the gain (1 - exp(-tau lam)) / lam.
The Monte Carlo over trained finite-width networks is in test_finite_width.py.

Agreement with float64 references is required to 1e-8 relative (to the largest entry of the
reference): the kernels are identical, and the two pipelines differ only by rounding amplified
by the condition number of the inverted kernel (< 1e4 on these problems), i.e. ~1e-12.
"""

from __future__ import annotations

import decimal
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg

from ntk_info import InfiniteEnsemble, _moments_numpy
from ntk_info._jax import float64
from ntk_info.architectures import cnn, fc
from ntk_info.ensemble import gain

RTOL = 1e-8


# ------------------------------------------------------------------------------------ helpers
def _problem(n=12, d=5, m=7, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, k)), rng.normal(size=(m, d))


def _assert_close(actual, expected, rtol=RTOL):
    """|actual - expected| <= rtol * (|expected| + max|expected|), elementwise."""
    expected = np.asarray(expected, dtype=np.float64)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def _raw_kernels(kernel_fn, x_train, x_test=None):
    """K, Theta (train), K*, Theta* (test-train) and K** straight from `kernel_fn`, float64."""
    with float64():
        train = kernel_fn(x_train, None, ("nngp", "ntk"))
        out = {"k": np.asarray(train.nngp), "theta": np.asarray(train.ntk)}
        if x_test is not None:
            cross = kernel_fn(x_test, x_train, ("nngp", "ntk"))
            out["k_star"] = np.asarray(cross.nngp)
            out["theta_star"] = np.asarray(cross.ntk)
            out["k_test"] = np.asarray(kernel_fn(x_test, None, "nngp"))
    return out


def _neural_tangents(kernel_fn, x_train, y_train, x_test, t, *, mode, lr=1.0, diag_reg=0.0):
    """neural-tangents' mean (T, m, k) and covariance (T, m, m); t = inf is NT's t = None."""
    import jax.numpy as jnp

    from ntk_info._nt import load as load_neural_tangents

    nt = load_neural_tangents()

    t = np.asarray(t, dtype=np.float64)
    means, covs = [None] * len(t), [None] * len(t)
    with float64():
        predict_fn = nt.predict.gradient_descent_mse_ensemble(
            kernel_fn,
            jnp.asarray(x_train),
            jnp.asarray(y_train),
            learning_rate=lr,
            diag_reg=diag_reg,
        )
        x = None if x_test is None else jnp.asarray(x_test)
        finite = np.flatnonzero(np.isfinite(t))
        if finite.size:
            mean, cov = predict_fn(t=t[finite], x_test=x, get=mode, compute_cov=True)
            for j, i in enumerate(finite):
                means[i], covs[i] = np.asarray(mean[j]), np.asarray(cov[j])
        for i in np.flatnonzero(~np.isfinite(t)):
            mean, cov = predict_fn(t=None, x_test=x, get=mode, compute_cov=True)
            means[i], covs[i] = np.asarray(mean), np.asarray(cov)
    return np.stack(means), np.stack(covs)


def _times(n, k, lr):
    """Times whose tau = lr t / (n k) spans 0, 1e-3 ... 1e3 and inf."""
    tau = np.array([0.0, 1e-3, 0.1, 1.0, 10.0, 1e3, np.inf])
    return tau * n * k / lr


def _assert_matches_nt(prediction, mean, cov):
    _assert_close(prediction.mean, mean)
    _assert_close(prediction.var, np.diagonal(cov, axis1=1, axis2=2))
    _assert_close(prediction.cov, cov)


# ------------------------------------------------------------------- against neural-tangents
@pytest.mark.parametrize("mode", ["ntk", "nngp"])
@pytest.mark.parametrize(("k", "lr"), [(1, 1.0), (3, 0.37)])
def test_predict_matches_neural_tangents_mean_and_covariance(mode, k, lr):
    """mean, var and cov = NT's gradient_descent_mse_ensemble at t = 0 ... inf, to 1e-8."""
    x_train, y_train, x_test = _problem(k=k)
    kernel_fn = fc(3)[2]
    t = _times(len(x_train), k, lr)
    prediction = InfiniteEnsemble(kernel_fn, x_train, y_train, mode=mode, learning_rate=lr).predict(
        x_test, t, full_cov=True
    )
    assert prediction.mean.shape == (len(t), len(x_test), k)
    assert prediction.var.shape == prediction.cov.shape[:2] == (len(t), len(x_test))
    _assert_matches_nt(
        prediction, *_neural_tangents(kernel_fn, x_train, y_train, x_test, t, mode=mode, lr=lr)
    )


@pytest.mark.parametrize("mode", ["ntk", "nngp"])
def test_predict_train_matches_neural_tangents_on_training_inputs(mode):
    """predict_train(t) = NT's predict_fn(t, x_test=None): N((I - e^{-tau Theta}) Y, ...)."""
    x_train, y_train, _ = _problem(k=2)
    kernel_fn = fc(2, activation="erf")[2]
    t = _times(len(x_train), 2, 0.5)
    prediction = InfiniteEnsemble(
        kernel_fn, x_train, y_train, mode=mode, learning_rate=0.5
    ).predict_train(t, full_cov=True)
    mean, cov = _neural_tangents(kernel_fn, x_train, y_train, None, t, mode=mode, lr=0.5)
    _assert_matches_nt(prediction, mean, cov)


def test_cnn_architecture_matches_neural_tangents_on_tiny_images():
    """The cnn() kernel on 6 x 6 x 2 images: predictions = NT's, both modes, t = 0 ... inf."""
    rng = np.random.default_rng(3)
    x_train, x_test = rng.normal(size=(8, 6, 6, 2)), rng.normal(size=(3, 6, 6, 2))
    y_train = rng.normal(size=(8, 2))
    kernel_fn = cnn(channels=4, filter_size=3)[2]
    t = _times(8, 2, 1.0)
    for mode in ("ntk", "nngp"):
        prediction = InfiniteEnsemble(kernel_fn, x_train, y_train, mode=mode).predict(
            x_test, t, full_cov=True
        )
        _assert_matches_nt(
            prediction, *_neural_tangents(kernel_fn, x_train, y_train, x_test, t, mode=mode)
        )


def test_user_stax_triple_and_bare_kernel_fn_match_neural_tangents():
    """A hand-built Erf/Gelu stax net: its triple and its bare kernel_fn both give NT's numbers."""
    from ntk_info._nt import load as load_neural_tangents

    stax = load_neural_tangents().stax

    triple = stax.serial(
        stax.Dense(32, W_std=1.5, b_std=0.05),
        stax.Erf(),
        stax.Dense(32, W_std=1.2, b_std=0.2),
        stax.Gelu(),
        stax.Dense(2, W_std=1.0, b_std=0.0),
    )
    x_train, y_train, x_test = _problem(k=2, seed=4)
    t = _times(len(x_train), 2, 1.0)
    from_triple = InfiniteEnsemble(triple, x_train, y_train).predict(x_test, t, full_cov=True)
    from_kernel = InfiniteEnsemble(triple[2], x_train, y_train).predict(x_test, t, full_cov=True)
    np.testing.assert_array_equal(from_triple.mean, from_kernel.mean)
    np.testing.assert_array_equal(from_triple.cov, from_kernel.cov)
    _assert_matches_nt(
        from_triple, *_neural_tangents(triple[2], x_train, y_train, x_test, t, mode="ntk")
    )


@pytest.mark.parametrize("mode", ["ntk", "nngp"])
def test_diag_reg_matches_neural_tangents_with_the_same_diag_reg(mode):
    """diag_reg = 0.05 (relative to the mean eigenvalue) regularises exactly as NT does."""
    x_train, y_train, x_test = _problem(k=2, seed=5)
    kernel_fn = fc(3)[2]
    t = _times(len(x_train), 2, 1.0)
    prediction = InfiniteEnsemble(kernel_fn, x_train, y_train, mode=mode, diag_reg=0.05).predict(
        x_test, t, full_cov=True
    )
    _assert_matches_nt(
        prediction,
        *_neural_tangents(kernel_fn, x_train, y_train, x_test, t, mode=mode, diag_reg=0.05),
    )


# ------------------------------------------------------------------------------ closed forms
@pytest.mark.parametrize("mode", ["ntk", "nngp"])
def test_time_zero_is_the_prior_zero_mean_and_nngp_covariance(mode):
    """t = 0: mean 0 and cov = K(x, x) from kernel_fn, whatever the mode (the prior)."""
    x_train, y_train, x_test = _problem()
    kernel_fn = fc(3)[2]
    prediction = InfiniteEnsemble(kernel_fn, x_train, y_train, mode=mode).predict(
        x_test, 0.0, full_cov=True
    )
    k_test = _raw_kernels(kernel_fn, x_train, x_test)["k_test"]
    np.testing.assert_array_equal(prediction.mean, 0.0)
    _assert_close(prediction.cov[0], k_test, rtol=1e-12)
    _assert_close(prediction.var[0], np.diag(k_test), rtol=1e-12)


def test_infinite_time_is_kernel_regression():
    """t = inf: NTK mean = Theta* Theta^{-1} Y and its covariance; NNGP mean = K* K^{-1} Y.

    Independent computation: np.linalg.solve on the raw kernel matrices.
    NTK cov = K** + Theta* Theta^-1 K Theta^-1 Theta*^T - (Theta* Theta^-1 K*^T + h.c.);
    NNGP cov = K** - K* K^{-1} K*^T (the GP posterior).
    """
    x_train, y_train, x_test = _problem()
    kernel_fn = fc(3)[2]
    kern = _raw_kernels(kernel_fn, x_train, x_test)
    ntk = InfiniteEnsemble(kernel_fn, x_train, y_train).predict(x_test, np.inf, full_cov=True)
    a = np.linalg.solve(kern["theta"], kern["theta_star"].T).T  # Theta* Theta^{-1}
    cross = a @ kern["k_star"].T
    _assert_close(ntk.mean[0], a @ y_train)
    _assert_close(ntk.cov[0], kern["k_test"] + a @ kern["k"] @ a.T - cross - cross.T)

    nngp = InfiniteEnsemble(kernel_fn, x_train, y_train, mode="nngp").predict(
        x_test, np.inf, full_cov=True
    )
    b = np.linalg.solve(kern["k"], kern["k_star"].T).T
    _assert_close(nngp.mean[0], b @ y_train)
    _assert_close(nngp.cov[0], kern["k_test"] - b @ kern["k_star"].T)


@pytest.mark.parametrize("mode", ["ntk", "nngp"])
def test_training_moments_are_matrix_exponentials(mode):
    """Train mean (I - expm(-tau M)) Y; cov expm(-tau Theta) K expm(-tau Theta) (NTK) or
    K expm(-2 tau K) (NNGP), with M the inverted kernel and tau = lr t / (n k) by hand.

    Independent computation: scipy.linalg.expm (Pade) on the raw kernels; at t = inf the
    ensemble interpolates, mean = Y and cov = 0.
    """
    x_train, y_train, _ = _problem(k=2)
    n, k, lr = len(x_train), 2, 0.7
    kernel_fn = fc(3)[2]
    kern = _raw_kernels(kernel_fn, x_train)
    t = np.array([0.0, 0.5, 5.0, 50.0, 500.0])
    prediction = InfiniteEnsemble(
        kernel_fn, x_train, y_train, mode=mode, learning_rate=lr
    ).predict_train(t, full_cov=True)
    inverted = kern["theta"] if mode == "ntk" else kern["k"]
    for i, time in enumerate(t):
        tau = lr * time / (n * k)
        decay = scipy.linalg.expm(-tau * inverted)
        if mode == "ntk":
            cov = decay @ kern["k"] @ decay
        else:
            cov = kern["k"] @ scipy.linalg.expm(-2 * tau * kern["k"])
        _assert_close(prediction.mean[i], (np.eye(n) - decay) @ y_train)
        # Late-time covariances are ~1e-8 of K: their round-off is relative to K's scale.
        scale = RTOL * np.abs(kern["k"]).max()
        np.testing.assert_allclose(prediction.cov[i], cov, rtol=RTOL, atol=scale)
        np.testing.assert_allclose(prediction.var[i], np.diag(cov), rtol=RTOL, atol=scale)
    converged = InfiniteEnsemble(kernel_fn, x_train, y_train, mode=mode).predict_train(np.inf)
    _assert_close(converged.mean[0], y_train)
    np.testing.assert_allclose(converged.var[0], 0.0, atol=1e-10 * np.diag(kern["k"]).max())


def test_tau_is_learning_rate_times_t_over_nk_and_time_from_tau_inverts_it():
    """tau(t) = lr t / (n k) as in neural-tangents; time_from_tau(tau(t)) = t; Prediction.tau."""
    x_train, y_train, x_test = _problem(n=9, k=4)
    ensemble = InfiniteEnsemble(fc(2)[2], x_train, y_train, learning_rate=0.25)
    t = np.array([0.0, 1.0, 36.0, 1e6, np.inf])
    np.testing.assert_allclose(ensemble.tau(t), 0.25 * t / 36)
    np.testing.assert_allclose(ensemble.time_from_tau(ensemble.tau(t)), t)
    np.testing.assert_allclose(ensemble.tau(36.0), [0.25])
    np.testing.assert_allclose(ensemble.predict(x_test, t).tau, 0.25 * t / 36)


@pytest.mark.parametrize("mode", ["ntk", "nngp"])
def test_predictions_do_not_depend_on_the_order_of_times(mode):
    """Shuffled times (with repeats, 0 and inf) give the same rows, shuffled, to rounding."""
    x_train, y_train, x_test = _problem()
    ensemble = InfiniteEnsemble(fc(3)[2], x_train, y_train, mode=mode)
    t = np.array([0.0, 3.0, 30.0, 300.0, np.inf, 3.0, 1e4])
    order = np.random.default_rng(0).permutation(len(t))
    sorted_prediction = ensemble.predict(x_test, t, full_cov=True)
    shuffled = ensemble.predict(x_test, t[order], full_cov=True)
    np.testing.assert_array_equal(shuffled.t, t[order])
    _assert_close(shuffled.mean, sorted_prediction.mean[order], rtol=1e-13)
    _assert_close(shuffled.var, sorted_prediction.var[order], rtol=1e-13)
    _assert_close(shuffled.cov, sorted_prediction.cov[order], rtol=1e-13)
    _assert_close(sorted_prediction.mean[5], sorted_prediction.mean[1], rtol=1e-13)


# -------------------------------------------------------------------------------------- gain
def _gain_decimal(tau: float, lam: float) -> float:
    """(1 - exp(-tau lam)) / lam with 60 significant digits (tau if lam = 0, 1/lam if tau = inf).

    Written as tau * phi(x), x = tau lam, phi(x) = (1 - e^{-x}) / x, summing the Taylor series
    phi(x) = sum_j (-x)^j / (j + 1)! for x < 1 (no cancellation) and using exp directly above.
    """
    if lam == 0:
        return tau
    if np.isinf(tau):
        return float(1 / decimal.Decimal(lam))
    with decimal.localcontext() as context:
        context.prec = 60
        d_tau, d_lam = decimal.Decimal(tau), decimal.Decimal(lam)
        x = d_tau * d_lam
        if x < 1:
            term, phi, j = decimal.Decimal(1), decimal.Decimal(0), 0
            while abs(term) > decimal.Decimal(10) ** -70:
                phi += term
                j += 1
                term *= -x / (j + 1)
        else:
            phi = (1 - (-x).exp()) / x
        return float(d_tau * phi)


def test_gain_matches_sixty_digit_decimal_arithmetic():
    """gain(tau, lam) = (1 - e^{-tau lam}) / lam to 1e-14 relative over 1e-300 <= lam <= 1e8,
    0 <= tau <= inf, where the naive formula loses all digits (tau lam << 1) or divides 0/0."""
    tau = np.array([0.0, 1e-12, 1e-6, 0.1, 1.0, 7.3, 1e3, 1e8, 1e12, np.inf])
    lam = np.array([0.0, 1e-300, 1e-30, 1e-12, 1e-6, 0.1, 1.0, 7.5, 1e3, 1e8])
    expected = np.array([[_gain_decimal(a, b) for b in lam] for a in tau])
    actual = gain(tau, lam)
    assert actual.shape == (len(tau), len(lam))
    np.testing.assert_allclose(actual, expected, rtol=1e-14, atol=0)


def test_gain_limits_are_tau_at_zero_eigenvalue_and_inverse_eigenvalue_at_infinity():
    """gain(tau, 0) = tau exactly (also tau = inf); gain(inf, lam) = 1/lam exactly."""
    tau = np.array([0.0, 1e-8, 2.5, 1e300, np.inf])
    np.testing.assert_array_equal(gain(tau, np.zeros(1))[:, 0], tau)
    lam = np.array([1e-200, 1e-3, 1.0, 4.0, 1e200])
    np.testing.assert_array_equal(gain(np.array([np.inf]), lam)[0], 1 / lam)


def test_gain_has_no_nan_for_tiny_or_denormal_eigenvalues():
    """No NaN anywhere on a grid that includes denormal eigenvalues and tau in {0, inf}; finite
    whenever tau is finite, and monotone non-decreasing in tau."""
    tau = np.concatenate([[0.0], np.logspace(-300, 300, 61), [np.inf]])
    lam = np.array([0.0, 5e-324, 1e-310, 1e-200, 1e-20, 1.0, 1e20])
    values = gain(tau, lam)
    assert not np.any(np.isnan(values))
    assert np.all(np.isfinite(values[:-1]))
    assert np.all(np.diff(values, axis=0) >= 0)


# ---------------------------------------------------------------------------------- chunking
@pytest.mark.parametrize("mode", ["ntk", "nngp"])
def test_prediction_in_tiny_chunks_equals_prediction_five_times_at_a_time(mode, monkeypatch):
    """500 times in chunks of 7 (padding the last) = 100 calls of 5 times: memory-bounded
    evaluation changes no number beyond rounding."""
    x_train, y_train, x_test = _problem(k=2)
    ensemble = InfiniteEnsemble(fc(3)[2], x_train, y_train, mode=mode)
    t = np.concatenate([[0.0], np.logspace(-2, 5, 498), [np.inf]])
    batched = [ensemble.predict(x_test, t[i : i + 5]) for i in range(0, 500, 5)]
    n, m = len(x_train), len(x_test)
    monkeypatch.setattr(_moments_numpy, "CHUNK_BYTES", 7 * 3 * m * n * 8)
    chunked = ensemble.predict(x_test, t)
    _assert_close(chunked.mean, np.concatenate([p.mean for p in batched]), rtol=1e-13)
    _assert_close(chunked.var, np.concatenate([p.var for p in batched]), rtol=1e-13)
    full = ensemble.predict(x_test, t[::10], full_cov=True)
    _assert_close(full.var, chunked.var[::10], rtol=1e-13)
    monkeypatch.setattr(_moments_numpy, "CHUNK_BYTES", 1)
    one_at_a_time = ensemble.predict(x_test, t[::10], full_cov=True)
    _assert_close(one_at_a_time.cov, full.cov, rtol=1e-13)


# ------------------------------------------------------------------------------- validation
def _bad_calls():
    """(name, call, exception, message regex) for each bad input."""
    x, y, xt = _problem(n=6, d=3, m=2, k=2)
    kernel_fn = fc(2)[2]

    def build(**kwargs):
        args = dict(kernel_fn=kernel_fn, x_train=x, y_train=y) | kwargs
        return lambda: InfiniteEnsemble(
            args.pop("kernel_fn"), args.pop("x_train"), args.pop("y_train"), **args
        )

    good = InfiniteEnsemble(kernel_fn, x, y)
    x_nan, y_inf, t_bad = x.copy(), y.copy(), xt.copy()
    x_nan[1, 2] = np.nan
    y_inf[0, 0] = np.inf
    t_bad[0, 0] = np.nan
    return [
        ("nan x_train", build(x_train=x_nan), ValueError, "x_train"),
        ("inf y_train", build(y_train=y_inf), ValueError, "y_train"),
        ("1-D y_train", build(y_train=y[:, 0]), ValueError, "y_train"),
        ("mismatched n", build(y_train=y[:4]), ValueError, "y_train"),
        ("1-D x_train", build(x_train=x[:, 0]), ValueError, "x_train"),
        ("string x_train", build(x_train=np.array([["a"]] * 6)), TypeError, "x_train"),
        ("negative diag_reg", build(diag_reg=-1e-3), ValueError, "diag_reg"),
        ("nan diag_reg", build(diag_reg=np.nan), ValueError, "diag_reg"),
        ("zero learning_rate", build(learning_rate=0.0), ValueError, "learning_rate"),
        ("bad mode", build(mode="ntkgp"), ValueError, "mode"),
        ("kernel_fn not callable", build(kernel_fn=3), TypeError, "kernel_fn"),
        ("singular Theta", build(x_train=np.repeat(x[:3], 2, 0)), ValueError, "diag_reg"),
        ("negative t", lambda: good.predict(xt, [1.0, -1.0]), ValueError, "`t`"),
        ("nan t", lambda: good.predict(xt, np.nan), ValueError, "`t`"),
        ("2-D t", lambda: good.predict(xt, np.ones((2, 2))), ValueError, "`t`"),
        ("negative t, train", lambda: good.predict_train(-1.0), ValueError, "`t`"),
        ("x feature shape", lambda: good.predict(xt[:, :2], 1.0), ValueError, "`x`"),
        ("nan x", lambda: good.predict(t_bad, 1.0), ValueError, "`x`"),
        ("1-D x", lambda: good.predict(xt[0], 1.0), ValueError, "`x`"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_calls())))
def test_bad_input_raises_an_error_naming_the_argument(case):
    """Each bad input raises ValueError/TypeError whose message names the argument."""
    name, call, exception, match = _bad_calls()[case]
    with pytest.raises(exception, match=match):
        call()


def test_duplicated_training_points_work_with_diag_reg_and_match_neural_tangents():
    """Singular Theta (duplicates) is refused without diag_reg, and with diag_reg = 1e-6 gives
    NT's numbers; the error message tells the user to pass diag_reg."""
    x_train, y_train, x_test = _problem(k=2)
    x_train[6:] = x_train[:6]
    kernel_fn = fc(3)[2]
    with pytest.raises(ValueError, match=r"diag_reg` > 0"):
        InfiniteEnsemble(kernel_fn, x_train, y_train)
    t = _times(len(x_train), 2, 1.0)[:-1]  # NT's t = None Cholesky is the same; keep it short
    prediction = InfiniteEnsemble(kernel_fn, x_train, y_train, diag_reg=1e-6).predict(
        x_test, t, full_cov=True
    )
    mean, cov = _neural_tangents(kernel_fn, x_train, y_train, x_test, t, mode="ntk", diag_reg=1e-6)
    _assert_close(prediction.mean, mean, rtol=1e-6)
    _assert_close(prediction.cov, cov, rtol=1e-6)


@pytest.mark.parametrize("mode", ["ntk", "nngp"])
def test_no_nan_in_any_output_even_at_extreme_times_and_tiny_regularisation(mode):
    """Near-singular kernel (points 1e-4 apart, diag_reg 1e-12) at t up to 1e300 and inf: all
    outputs finite and variances >= 0, on test and training points."""
    x_train, y_train, x_test = _problem(k=2)
    x_train[1] = x_train[0] + 1e-4
    ensemble = InfiniteEnsemble(fc(3)[2], x_train, y_train, mode=mode, diag_reg=1e-12)
    t = np.array([0.0, 1e-300, 1.0, 1e10, 1e300, np.inf])
    for prediction in (
        ensemble.predict(x_test, t, full_cov=True),
        ensemble.predict(x_train, t, full_cov=True),
        ensemble.predict_train(t, full_cov=True),
    ):
        for array in (prediction.mean, prediction.var, prediction.cov):
            assert np.all(np.isfinite(array))
        assert np.all(prediction.var >= 0)


def test_import_ntk_info_loads_neither_jax_nor_neural_tangents_nor_tensorflow():
    """`import ntk_info` (and its ensemble, finite, kernels, architectures modules) is cheap:
    checked in a fresh interpreter's sys.modules."""
    code = (
        "import sys, ntk_info, ntk_info.ensemble, ntk_info.finite, ntk_info.kernels, "
        "ntk_info.architectures\n"
        "heavy = [m for m in ('tensorflow', 'neural_tangents', 'jax') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
