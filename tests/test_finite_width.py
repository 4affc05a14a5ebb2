"""`InfiniteEnsemble.predict` against a Monte Carlo over actually trained finite-width networks.

M networks of width w are drawn from the stax `init_fn` of `fc(2, width=w)` (NTK
parameterization), each trained by full-batch gradient descent on 0.5 * mean((f - y)^2) with step
eta, and their outputs on test points recorded after s steps, i.e. at neural-tangents time
t = eta * s. The empirical mean and variance over the M networks must agree with the
infinite-width Gaussian predictive within a tolerance derived in `test_predict_matches_trained_
finite_width_ensemble`'s docstring.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from ntk_info import InfiniteEnsemble
from ntk_info._jax import float64
from ntk_info.architectures import fc
from ntk_info.finite import empirical_moments, train_ensemble

N_TRAIN, DIM, N_TEST, N_OUT = 16, 8, 8, 2
WIDTH = 1024
N_NETWORKS = 512
LEARNING_RATE = 0.4
RECORD_STEPS = (0, 20, 200)  # tau = eta s / (n k) = 0, 0.25, 2.5: prior, intermediate, late
Z = 4.0  # standard errors allowed for each of the m * S compared moments


def _problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x_train = rng.normal(size=(N_TRAIN, DIM))
    y_train = rng.normal(size=(N_TRAIN, N_OUT))
    x_test = rng.normal(size=(N_TEST, DIM))
    return x_train, y_train, x_test


def _kernels(kernel_fn, x_train, x_test) -> dict[str, np.ndarray]:
    """K, Theta on train, K*, Theta* and diag K** straight from `kernel_fn`, in float64."""
    with float64():
        train = kernel_fn(x_train, None, ("nngp", "ntk"))
        cross = kernel_fn(x_test, x_train, ("nngp", "ntk"))
        test = kernel_fn(x_test, None, "nngp")
        return {
            "k": np.asarray(train.nngp),
            "theta": np.asarray(train.ntk),
            "k_star": np.asarray(cross.nngp),
            "theta_star": np.asarray(cross.ntk),
            "k_test": np.diag(np.asarray(test)),
        }


def _linear_moments(kern: dict[str, np.ndarray], y_train: np.ndarray, a: np.ndarray):
    """mean = Theta* A Y, var = diag(K** + Theta* A K A Theta*^T - 2 Theta* A K*^T)."""
    ta = kern["theta_star"] @ a
    mean = ta @ y_train
    var = (
        kern["k_test"]
        + np.einsum("ij,jl,il->i", ta, kern["k"], ta)
        - 2 * np.einsum("ij,ij->i", ta, kern["k_star"])
    )
    return mean, var


@pytest.mark.slow
def test_predict_matches_trained_finite_width_ensemble():
    """Infinite-ensemble mean and variance = empirical moments of 512 trained width-1024 nets.

    Independent computation: `train_ensemble` draws M = 512 networks fc(2, width=1024) from the
    stax init_fn and runs s full-batch GD steps with eta = 0.4 on 0.5 * mean over the n k = 32
    outputs; nothing of `ntk_info.ensemble` is used. Compared at s = 0, 20, 200 (t = eta s,
    tau = eta s / (n k) = 0, 0.25, 2.5; tau * lambda_min(Theta) ~ 2 at the last time).

    Tolerance, per test point i and time (all terms computed, none fitted):
      mean: Z sqrt(var_i / M) + w^{-1/2} sqrt(K**_ii) + d_mean_i,
      var:  Z var_i sqrt(2 / (M - 1)) + w^{-1/2} K**_ii + d_var_i,
    with Z = 4 (m S = 24 comparisons; 4 sigma keeps the family-wise false-alarm rate < 1e-3):
      * Monte Carlo: the standard error of a mean of M Gaussian draws is sqrt(var / M), of
        their unbiased sample variance var sqrt(2 / (M - 1)).
      * Finite width: a trained width-w network deviates from its linearisation, whose
        ensemble is the infinite-width Gaussian, by O(w^{-1/2}) in output scale sqrt(K**)
        (Lee et al. 2019, Thm 2.1); we allow one unit of it (3% here).
      * Discretisation: for the linearised model, s GD steps give A_s = Theta^{-1}
        (I - (I - eta Theta / (n k))^s) instead of the gradient flow's Theta^{-1}
        (I - expm(-tau Theta)); d_mean, d_var are the exact differences of the moments under
        the two, computed here with numpy/scipy. eta lambda_max / (n k) ~ 0.27 makes them
        below a tenth of the Monte Carlo term (checked below).
    Power: the same tolerance rejects the prediction at 2 t (a wrong clock by a factor 2).
    """
    x_train, y_train, x_test = _problem()
    init_fn, apply_fn, kernel_fn = fc(2, width=WIDTH, out_dim=N_OUT)
    trained = train_ensemble(
        init_fn,
        apply_fn,
        x_train,
        y_train,
        x_test,
        n_networks=N_NETWORKS,
        learning_rate=LEARNING_RATE,
        steps=RECORD_STEPS[-1],
        record_steps=RECORD_STEPS,
        seed=0,
    )
    emp_mean, emp_var = trained.test_moments()
    np.testing.assert_array_equal(trained.t, LEARNING_RATE * np.array(RECORD_STEPS))

    # t = eta * s is neural-tangents time at learning_rate = 1; equivalently learning_rate = eta
    # with t = s steps (both give tau = eta s / (n k)).
    predicted = InfiniteEnsemble(kernel_fn, x_train, y_train).predict(x_test, trained.t)
    in_steps = InfiniteEnsemble(kernel_fn, x_train, y_train, learning_rate=LEARNING_RATE)
    np.testing.assert_allclose(
        in_steps.predict(x_test, trained.steps).mean, predicted.mean, rtol=1e-10, atol=1e-12
    )
    kern = _kernels(kernel_fn, x_train, x_test)
    n_outputs_total = N_TRAIN * N_OUT
    theta = kern["theta"]
    theta_inv = np.linalg.inv(theta)
    step_map = np.eye(N_TRAIN) - LEARNING_RATE * theta / n_outputs_total
    assert np.abs(np.linalg.eigvalsh(step_map)).max() < 1, "GD would diverge"

    wrong_clock = InfiniteEnsemble(kernel_fn, x_train, y_train).predict(x_test, 2 * trained.t)
    detects_wrong_clock = False
    for index, steps in enumerate(RECORD_STEPS):
        tau = LEARNING_RATE * steps / n_outputs_total
        a_flow = theta_inv @ (np.eye(N_TRAIN) - scipy.linalg.expm(-tau * theta))
        a_gd = theta_inv @ (np.eye(N_TRAIN) - np.linalg.matrix_power(step_map, steps))
        mean_flow, var_flow = _linear_moments(kern, y_train, a_flow)
        mean_gd, var_gd = _linear_moments(kern, y_train, a_gd)
        d_mean = np.abs(mean_gd - mean_flow).max(axis=1)
        d_var = np.abs(var_gd - var_flow)

        var = predicted.var[index]
        mc_mean = Z * np.sqrt(var / N_NETWORKS)
        mc_var = Z * var * np.sqrt(2 / (N_NETWORKS - 1))
        width_mean = np.sqrt(kern["k_test"] / WIDTH)
        width_var = kern["k_test"] / np.sqrt(WIDTH)
        assert np.all(d_mean <= 0.1 * mc_mean + 1e-12) and np.all(d_var <= 0.1 * mc_var + 1e-12)

        mean_error = np.abs(emp_mean[index] - predicted.mean[index]).max(axis=1)
        var_error = np.abs(emp_var[index] - var)
        assert np.all(mean_error <= mc_mean + width_mean + d_mean), (steps, mean_error, mc_mean)
        assert np.all(var_error <= mc_var + width_var + d_var), (steps, var_error, mc_var)
        wrong_error = np.abs(emp_mean[index] - wrong_clock.mean[index]).max(axis=1)
        detects_wrong_clock |= bool(np.any(wrong_error > mc_mean + width_mean + d_mean))
    assert detects_wrong_clock, "the tolerance is too loose to tell t from 2 t"


def test_train_ensemble_steps_match_hand_written_gradient_descent():
    """`train_ensemble` = a hand-written GD loop on one tiny network, step for step.

    Independent computation: the same init_fn parameters updated by theta <- theta - eta grad
    of 0.5 * mean((f - y)^2) with `jax.grad` in a Python loop; float64 on both sides, so they
    agree to rounding (1e-10).
    """
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    x, y, xt = rng.normal(size=(5, 3)), rng.normal(size=(5, 2)), rng.normal(size=(4, 3))
    init_fn, apply_fn, _ = fc(2, width=16, out_dim=2)
    trained = train_ensemble(
        init_fn,
        apply_fn,
        x,
        y,
        xt,
        n_networks=3,
        learning_rate=0.3,
        steps=7,
        record_steps=[0, 2, 7],
        seed=5,
        network_block=2,
        use_float64=True,
    )
    assert trained.test_outputs.shape == (3, 3, 4, 2)
    assert trained.train_outputs.shape == (3, 3, 5, 2)
    with float64():
        keys = jax.random.split(jax.random.PRNGKey(5), 3)
        grad = jax.grad(lambda p: 0.5 * jnp.mean((apply_fn(p, x) - y) ** 2))
        for j in range(3):
            params = init_fn(keys[j], x.shape)[1]
            params = jax.tree_util.tree_map(lambda p: p.astype(jnp.float64), params)
            for s in range(8):
                if s in (0, 2, 7):
                    column = [0, 2, 7].index(s)
                    np.testing.assert_allclose(
                        trained.test_outputs[j, column], np.asarray(apply_fn(params, xt)), 1e-10
                    )
                    np.testing.assert_allclose(
                        trained.train_outputs[j, column], np.asarray(apply_fn(params, x)), 1e-10
                    )
                params = jax.tree_util.tree_map(lambda p, g: p - 0.3 * g, params, grad(params))


def test_empirical_moments_pool_variance_over_outputs():
    """mean over networks and ddof=1 variance averaged over the k outputs, by hand."""
    outputs = np.random.default_rng(0).normal(size=(6, 2, 3, 4))
    mean, var = empirical_moments(outputs)
    np.testing.assert_allclose(mean, outputs.sum(0) / 6)
    centred = outputs - outputs.mean(0)
    np.testing.assert_allclose(var, (centred**2).sum(0).mean(-1) / 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(steps=-1), "steps"),
        (dict(record_steps=[0, 5, 3]), "record_steps"),
        (dict(record_steps=[0, 20]), "record_steps"),
        (dict(n_networks=0), "n_networks"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(x_test=np.ones((2, 4))), "x_test"),
        (dict(y_train=np.ones(5)), "y_train"),
        (dict(x_train=np.full((5, 3), np.nan)), "x_train"),
        (dict(y_train=np.ones((5, 2))), "out_dim"),
    ],
)
def test_train_ensemble_rejects_bad_arguments_naming_them(kwargs, match):
    """Each bad argument raises ValueError whose message names it."""
    init_fn, apply_fn, _ = fc(2, width=4)
    arguments = dict(
        x_train=np.ones((5, 3)),
        y_train=np.ones((5, 1)),
        x_test=np.ones((2, 3)),
        n_networks=2,
        learning_rate=0.1,
        steps=10,
    )
    arguments.update(kwargs)
    x_train, y_train, x_test = (arguments.pop(k) for k in ("x_train", "y_train", "x_test"))
    with pytest.raises(ValueError, match=match):
        train_ensemble(init_fn, apply_fn, x_train, y_train, x_test, **arguments)
