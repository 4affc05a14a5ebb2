"""Finite width against the infinite-width limit (ntk_info.width, finite.monte_carlo_kernel_fn).

Independent computations: neural-tangents' analytic stax kernels (the limit), scipy's
linregress (the OLS slope and its standard error), and hand-written moment matching of
synthetic network outputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from ntk_info import information
from ntk_info._jax import float64
from ntk_info.architectures import fc
from ntk_info.ensemble import Prediction
from ntk_info.finite import TrainedEnsemble, empirical_kernels, monte_carlo_kernel_fn
from ntk_info.width import (
    loglog_slope,
    trained_information,
    width_convergence,
    width_tables,
)

WIDTHS = (4, 16, 64)


def _parity_problem(n: int, m: int, d: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    x, x_test = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    direction = rng.normal(size=d) / np.sqrt(d)
    return x, np.sign(x @ direction)[:, None], x_test, np.sign(x_test @ direction)[:, None]


def test_loglog_slope_matches_linregress():
    """Slope, intercept and slope SE = scipy.stats.linregress on (log w, log d).

    Synthetic d = 3 w^{-1/2} exp(eps), eps ~ N(0, 0.1^2) seeded: linregress is an independent
    OLS; an exact power law gives the exponent to 1e-12 and SE 0; two widths give se = nan.
    """
    widths = np.array([8, 16, 32, 64, 128, 256])
    noise = np.random.default_rng(3).normal(scale=0.1, size=widths.size)
    distances = 3.0 * widths**-0.5 * np.exp(noise)
    fit = loglog_slope(widths, distances)
    ref = scipy.stats.linregress(np.log(widths), np.log(distances))
    np.testing.assert_allclose(
        [fit.slope, fit.intercept, fit.se], [ref.slope, ref.intercept, ref.stderr], rtol=1e-10
    )
    exact = loglog_slope(widths, 2.0 / widths)
    assert abs(exact.slope + 1) < 1e-12 and exact.se < 1e-12
    assert np.isnan(loglog_slope([4, 16], [1.0, 0.5]).se)


def test_width_convergence_recovers_a_known_power_law():
    """Tables q_w(t) = q_inf(t) + c(t) w^{-1}: distance = rms_t c(t) / w (or max), slope -1."""
    t = np.array([1.0, 10.0, 100.0])
    c = np.array([0.3, -0.2, 0.5])
    reference = pd.DataFrame(dict(t=t, mse=np.ones(3), izx_lower=np.linspace(1, 2, 3)))
    frames = {
        w: pd.DataFrame(dict(t=t[::-1], mse=1 + c[::-1] / w, izx_lower=reference.izx_lower[::-1]
                             + c[::-1] / w**0.5))
        for w in (8, 32, 128)
    }  # fmt: skip
    table = width_convergence(frames, reference, ["mse", "izx_lower"])
    mse = table[table.quantity == "mse"]
    np.testing.assert_allclose(mse.distance, np.sqrt(np.mean(c**2)) / np.array([8, 32, 128]))
    np.testing.assert_allclose(mse.slope, -1.0, atol=1e-12)
    izx = table[table.quantity == "izx_lower"]
    np.testing.assert_allclose(izx.slope, -0.5, atol=1e-12)
    worst = width_convergence(frames, reference, ["mse"], distance="max")
    np.testing.assert_allclose(worst.distance, 0.5 / np.array([8, 32, 128]))


def test_trained_information_is_moment_matching_of_the_outputs():
    """Columns of `trained_information` = the plane's functions on hand-computed moments.

    Synthetic outputs (M = 50 networks, 3 steps, m = 12, k = 1): mean and unbiased variance over
    networks by hand; mse, Gibbs/Bayes loss, KL to the step-0 prior and the I(Z;X) bounds from
    the public `information` functions on that Gaussian; the sample Gibbs loss by hand.
    """
    rng = np.random.default_rng(1)
    m_nets, n_steps, m, n = 50, 3, 12, 10
    test = rng.normal(size=(m_nets, n_steps, m, 1)) * np.array([1.0, 0.6, 0.3])[None, :, None, None]
    test += np.array([0.0, 0.5, 0.8])[None, :, None, None]
    trained = TrainedEnsemble(
        steps=np.array([0, 5, 50]), t=np.array([0.0, 2.5, 25.0]), test_outputs=test,
        train_outputs=rng.normal(size=(m_nets, n_steps, n, 1)), learning_rate=0.5, seed=0,
    )  # fmt: skip
    y = np.sign(rng.normal(size=(m, 1)))
    frame = trained_information(trained, y, n_draws=4, seed=2)
    mean, var = test.mean(axis=0), test.var(axis=0, ddof=1)[..., 0]
    pred = Prediction(t=trained.t, tau=trained.t / n, mean=mean, var=var)
    np.testing.assert_allclose(frame.tau, trained.t / n)
    np.testing.assert_allclose(frame.mse, np.mean((mean[..., 0] - y[:, 0]) ** 2, axis=1))
    np.testing.assert_allclose(frame.loss_gibbs, information.loss_gibbs(pred, y))
    np.testing.assert_allclose(frame.loss_bayes, information.loss_bayes(pred, y))
    np.testing.assert_allclose(frame.kl_prior, information.kl_prior(pred, var[0]))
    lower, upper = information.izx_bounds(pred, n_draws=4, seed=2)
    np.testing.assert_allclose(frame.izx_lower, lower.value)
    np.testing.assert_allclose(frame.izx_upper, upper.value)
    per_net = np.mean(0.5 * (test[..., 0] - y[None, None, :, 0]) ** 2, axis=-1)
    np.testing.assert_allclose(
        frame.loss_gibbs_samples, per_net.mean(axis=0) + 0.5 * np.log(2 * np.pi)
    )
    assert (frame["mode"] == "trained").all() and (frame["n_networks"] == m_nets).all()


def test_monte_carlo_kernel_close_to_analytic_kernel():
    """S = 256 networks fc(2, width=64): MC kernels = analytic kernels within 5 standard errors.

    With one hidden layer the width-w expected kernels equal the analytic ones exactly (the
    hidden pre-activations are Gaussian), so the MC error is pure sampling error. Its standard
    error per entry is std_j / sqrt(S), std_j the spread of one network's empirical kernel,
    estimated independently from 24 other networks' `empirical_kernels`; Z = 5 over the
    2 x 36 compared entries. Consistency: the test-train block of the kernel of the stacked
    inputs equals that of the cross call (same networks in every call).
    """
    x, _, x_test, _ = _parity_problem(6, 3)
    init_fn, apply_fn, kernel_fn = fc(2, width=64)
    n_samples = 256
    mc = monte_carlo_kernel_fn((init_fn, apply_fn, kernel_fn), n_samples=n_samples, seed=4)
    got = mc(x, None, ("nngp", "ntk"))
    with float64():
        exact = kernel_fn(x, None, ("nngp", "ntk"))
        import jax

        singles = [
            empirical_kernels(apply_fn, init_fn(key, x.shape)[1], x)
            for key in jax.random.split(jax.random.PRNGKey(99), 24)
        ]
    for name in ("nngp", "ntk"):
        spread = np.std([s[name] for s in singles], axis=0, ddof=1)
        error = np.abs(np.asarray(getattr(got, name)) - np.asarray(getattr(exact, name)))
        assert np.all(error <= 5 * spread / np.sqrt(n_samples) + 1e-12), (name, error, spread)
    stacked = np.asarray(mc(np.concatenate([x_test, x]), None, "ntk"))
    np.testing.assert_allclose(stacked[:3, 3:], np.asarray(mc(x_test, x, "ntk")), rtol=1e-12)


def decreasing(table: pd.DataFrame, quantities) -> None:
    """Asserts that each quantity's distance strictly decreases with the width."""
    for name in quantities:
        d = table[table.quantity == name].sort_values("width").distance.to_numpy()
        assert np.all(np.diff(d) < 0), (name, d)


# MC-kernel quantities approaching the infinite-width values over w = 4, 16, 64 are asserted
# on the width_convergence figure's --quick CSV (tests/test_figures_width.py), which computes
# exactly that table: one run of those kernels instead of two within the test-time budget.


@pytest.mark.slow
def test_trained_ensemble_quantities_approach_infinite_width():
    """M = 128 trained fc(3, width=w) networks, w = 4, 16, 64: I(Z;Y), losses, KL, var decrease.

    Full-batch GD with eta = 0.5 to t = 8, 32, 128 (16 training points, k = 1, so tau = 0.5,
    2, 8; eta lambda_max / (n k) < 0.3 keeps GD close to the flow), 16 test points. The
    moment-matched Gaussian has Monte Carlo errors sqrt(var / M) (mean) and var sqrt(2 / M)
    (variance), ~9% at M = 128, shared structure across widths being absent (other networks);
    the finite-width deviation of a trained depth-3 network (O(1/w) for the ensemble's
    moments) is larger at w = 4 and 16; the quantities asserted are those averaging over
    all 16 points (I(Z;Y), Gibbs loss, KL, mean variance), whose errors average down.
    """
    x, y, x_test, y_test = _parity_problem(16, 16)
    tables = width_tables(
        lambda w: fc(3, width=w), WIDTHS, x, y, x_test, y_test, [8.0, 32.0, 128.0],
        source="trained", n_networks=128, learning_rate=0.5, seed=0,
    )  # fmt: skip
    names = ["izy_lower", "loss_gibbs", "kl_prior", "mean_var"]
    table = width_convergence(tables, quantities=names)
    decreasing(table, names)


def test_bad_input_is_refused():
    """Widths < 1, one width, n_samples < 1, a bare kernel_fn, t off the GD grid, M = 1."""
    arch = fc(2, width=8)
    with pytest.raises(ValueError, match="n_samples"):
        monte_carlo_kernel_fn(arch, n_samples=0)
    with pytest.raises(TypeError, match="stax triple"):
        monte_carlo_kernel_fn(arch[2], n_samples=4)
    x, y, x_test, y_test = _parity_problem(4, 4)
    with pytest.raises(ValueError, match=">= 1"):
        width_tables(lambda w: fc(2, width=w), [0, 4], x, y, x_test, y_test, [1.0])
    with pytest.raises(ValueError, match="multiple of learning_rate"):
        width_tables(
            lambda w: fc(2, width=w), [2, 4], x, y, x_test, y_test, [0.3],
            source="trained", learning_rate=0.5,
        )  # fmt: skip
    reference = pd.DataFrame(dict(t=[1.0], mse=[1.0]))
    with pytest.raises(ValueError, match="at least 2 widths"):
        width_convergence({8: reference}, reference, ["mse"])
    with pytest.raises(ValueError, match="> 0"):
        width_convergence({8: reference, 16: reference.assign(mse=2.0)}, reference, ["mse"])
    with pytest.raises(ValueError, match="not in the reference"):
        width_convergence({8: reference.assign(t=2.0), 16: reference}, reference, ["mse"])
    with pytest.raises(ValueError, match="at least 2 widths"):
        loglog_slope([4], [1.0])
    one = TrainedEnsemble(
        steps=np.array([0]), t=np.array([0.0]), test_outputs=np.zeros((1, 1, 4, 1)),
        train_outputs=np.zeros((1, 1, 4, 1)), learning_rate=1.0, seed=0,
    )  # fmt: skip
    with pytest.raises(ValueError, match="n_networks >= 2"):
        trained_information(one, y_test)
