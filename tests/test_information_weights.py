"""Weight-space quantities of ntk_info.information (Fisher trace, parameter energy, I(theta;D))
against neural-tangents' kernels with scipy.linalg.expm, quadrature and finite-width Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
from information_cases import KERNEL_RTOL, TIMES, nt_kernels

from ntk_info import InfiniteEnsemble, architectures, information
from ntk_info._jax import float64

# ------------------------------------------------------------------------------------------------
# Fisher trace, parameter energy, I(theta; D).
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["erf_k1", "relu_k3"])
def test_fisher_trace_is_constant_and_equals_k_trace_of_nt_ntk(case, request):
    """Tr F = k Tr Theta(X, X) with Theta computed by neural-tangents' kernel_fn directly
    (KERNEL_RTOL)."""
    arch, ensemble, dataset = request.getfixturevalue(case)
    _, theta = nt_kernels(arch, dataset.x_train)
    got = information.fisher_trace(ensemble, TIMES)
    np.testing.assert_allclose(got, dataset.n_outputs * np.trace(theta), rtol=KERNEL_RTOL)
    assert np.ptp(got) == 0.0


def _direct(arch, dataset, ensemble):
    k_mat, theta = nt_kernels(arch, dataset.x_train)
    return k_mat, theta, dataset.y_train, ensemble.tau


@pytest.mark.parametrize("case", ["erf_k1", "relu_k3"])
def test_parameter_energy_matches_expm_and_quadrature_and_is_finite_at_inf(case, request):
    """E = 1/2 [k Tr(K Theta (I - e^{-2 tau Theta})) + sum_c Y_c^T Theta (I - e^{-2 tau Theta}) Y_c]
    with scipy.linalg.expm on NT's kernels (KERNEL_RTOL); at tau = inf the limit
    1/2 [k Tr(K Theta) + sum_c Y_c^T Theta Y_c]; and at one tau the defining integral
    int_0^tau E|Theta e^{-s Theta}(z_0 - Y)|^2 ds by adaptive quadrature (rtol 1e-6)."""
    arch, ensemble, dataset = request.getfixturevalue(case)
    k_mat, theta, y, tau_of = _direct(arch, dataset, ensemble)
    k = y.shape[1]
    got = information.parameter_energy(ensemble, np.append(TIMES, np.inf))
    for t, value in zip(TIMES, got, strict=False):
        m = theta @ (np.eye(len(theta)) - scipy.linalg.expm(-2 * tau_of(t)[0] * theta))
        assert value == pytest.approx(
            0.5 * (k * np.trace(k_mat @ m) + np.sum(y * (m @ y))), rel=1e-8, abs=1e-9
        )
    limit = 0.5 * (k * np.trace(k_mat @ theta) + np.sum(y * (theta @ y)))
    assert got[-1] == pytest.approx(limit, rel=KERNEL_RTOL)
    tau = float(tau_of(30.0)[0])

    def integrand(s):
        e = scipy.linalg.expm(-s * theta)
        v = theta @ e
        return np.trace(v @ k_mat @ v.T) * k + np.sum((v @ y) ** 2)

    quad, _ = scipy.integrate.quad(integrand, 0, tau, epsrel=1e-10)
    assert information.parameter_energy(ensemble, 30.0)[0] == pytest.approx(quad, rel=1e-6)


@pytest.mark.parametrize("case", ["erf_k1", "relu_k3"])
def test_weight_information_paper_form_matches_expm_and_grows_with_slope_k_trace(case, request):
    """Paper form k Tr(K Theta^{-1}(I - e^{-tau Theta})^2) + sum_c Y_c^T Theta^{-1}(...)^2 Y_c
    + k tau Tr Theta against explicit inverse and expm (rtol 1e-7: Theta's condition number);
    at large tau the finite-difference slope per unit tau equals k Tr Theta (KERNEL_RTOL); and
    `weight_information_rate` equals a central finite difference of I (rtol 1e-5)."""
    arch, ensemble, dataset = request.getfixturevalue(case)
    k_mat, theta, y, tau_of = _direct(arch, dataset, ensemble)
    k = y.shape[1]
    n = len(theta)
    theta_inv = np.linalg.inv(theta)
    got = information.weight_information(ensemble, TIMES)
    for t, value in zip(TIMES, got, strict=True):
        tau = tau_of(t)[0]
        b = np.eye(n) - scipy.linalg.expm(-tau * theta)
        m = theta_inv @ b @ b
        direct = k * np.trace(k_mat @ m) + np.sum(y * (m @ y)) + k * tau * np.trace(theta)
        assert value == pytest.approx(direct, rel=1e-7, abs=1e-9)
    assert information.weight_information(ensemble, np.inf)[0] == np.inf
    big = ensemble.time_from_tau([1e6, 2e6])
    i1, i2 = information.weight_information(ensemble, big)
    assert (i2 - i1) / 1e6 == pytest.approx(k * np.trace(theta), rel=KERNEL_RTOL)
    for tau in (0.01, 0.3, 3.0):
        h = 1e-4 * tau
        lo, hi = information.weight_information(
            ensemble, ensemble.time_from_tau([tau - h, tau + h])
        )
        rate = information.weight_information_rate(ensemble, ensemble.time_from_tau(tau))[0]
        assert rate == pytest.approx((hi - lo) / (2 * h), rel=1e-5)
    rate_inf = information.weight_information_rate(ensemble, np.inf)[0]
    assert rate_inf == pytest.approx(k * np.trace(theta), rel=KERNEL_RTOL)


def test_kernel_scale_derivative_is_2L_K_for_bias_free_relu():
    """A bias-free ReLU net of depth L is positively homogeneous of degree L in its parameters,
    so K_s = s^{2L} K and dK/ds = 2L K exactly; the central difference has error O(h^2 L^3)
    ~ 1e-7 relative at h = 1e-4."""
    x = np.random.default_rng(0).normal(size=(12, 5))
    depth = 3
    dk = information.kernel_scale_derivative(
        lambda s: architectures.fc(depth, activation="relu", W_std=1.3 * s, b_std=0.0), x
    )
    k_mat, _ = nt_kernels(architectures.fc(depth, activation="relu", W_std=1.3, b_std=0.0), x)
    np.testing.assert_allclose(dk, 2 * depth * k_mat, rtol=1e-6, atol=1e-10)


def test_weight_information_corrected_cross_term_is_minus_kL_trace_AK_for_relu():
    """For a bias-free ReLU net (J theta_0 = L f_0), E[theta_0^T Delta theta] = -k L Tr(A_tau K).
    The corrected form minus (1/2 E|Delta theta|^2 + k tau Tr Theta), both taken from the paper
    form, must equal it, with A_tau = Theta^{-1}(I - e^{-tau Theta}) by expm (rtol 1e-6); and the
    corrected value is a KL, hence >= 0."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=(30, 2))
    depth = 3
    arch = architectures.fc(depth, activation="relu", W_std=1.3, b_std=0.0, out_dim=2)
    ensemble = InfiniteEnsemble(arch, x, y)
    dk = information.kernel_scale_derivative(
        lambda s: architectures.fc(depth, activation="relu", W_std=1.3 * s, b_std=0.0), x
    )
    k_mat, theta = nt_kernels(arch, x)
    times = np.array([1.0, 30.0, 1e3])
    paper = information.weight_information(ensemble, times)
    corrected = information.weight_information(ensemble, times, form="corrected", dk_dscale=dk)
    for t, p, c in zip(times, paper, corrected, strict=True):
        tau = ensemble.tau(t)[0]
        volume = 2 * tau * np.trace(theta)
        a = np.linalg.solve(theta, np.eye(30) - scipy.linalg.expm(-tau * theta))
        cross = -2 * depth * np.trace(a @ k_mat)
        assert c - 0.5 * (p - volume) - volume == pytest.approx(cross, rel=1e-6)
        assert c >= 0
    rate = information.weight_information_rate(ensemble, 30.0, form="corrected", dk_dscale=dk)[0]
    tau = ensemble.tau(30.0)[0]
    h = 1e-4 * tau
    lo, hi = information.weight_information(
        ensemble, ensemble.time_from_tau([tau - h, tau + h]), form="corrected", dk_dscale=dk
    )
    assert rate == pytest.approx((hi - lo) / (2 * h), rel=1e-5)


@pytest.mark.slow
def test_corrected_cross_term_matches_finite_width_monte_carlo():
    """E[theta_0^T Delta theta] = -E[(J theta_0)^T A_tau (f_0 - Y)] over 256 initialisations
    (antithetic pairs) of a width-1024 erf net with biases, J theta_0 by a jvp of apply_fn along
    theta_0, against -(k/2) Tr(A_tau dK_s/ds) from the infinite-width kernels. Tolerance: 4 Monte
    Carlo standard errors plus 5% for the O(1/width) finite-width bias."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(10, 4)), rng.normal(size=(10, 1))
    make = lambda s: architectures.fc(  # noqa: E731
        3, width=1024, activation="erf", W_std=1.5 * s, b_std=0.5 * s
    )
    init_fn, apply_fn, _ = make(1.0)
    ensemble = InfiniteEnsemble(make(1.0), x, y)
    dk = information.kernel_scale_derivative(make, x)
    tau = 0.5
    _, theta = nt_kernels(make(1.0), x)
    a = np.linalg.solve(theta, np.eye(10) - scipy.linalg.expm(-tau * theta))
    expected = -0.5 * np.trace(a @ dk)
    t = ensemble.time_from_tau(tau)
    corrected = information.weight_information(ensemble, t, form="corrected", dk_dscale=dk)[0]
    paper = information.weight_information(ensemble, t)[0]
    assert corrected - 0.5 * (paper - tau * np.trace(theta)) - tau * np.trace(theta) == (
        pytest.approx(expected, rel=1e-6)
    )

    with float64():
        xj, yj, aj = jnp.asarray(x), jnp.asarray(y), jnp.asarray(a)

        def sample(key):
            _, params = init_fn(key, xj.shape)
            values = []
            for sign in (1.0, -1.0):
                p = jax.tree_util.tree_map(lambda v, sign=sign: sign * v, params)
                f0, jt = jax.jvp(lambda q: apply_fn(q, xj), (p,), (p,))
                values.append(-jnp.sum(jt * (aj @ (f0 - yj))))
            return 0.5 * (values[0] + values[1])

        keys = jax.random.split(jax.random.PRNGKey(0), 128)
        draws = np.asarray(jax.lax.map(jax.jit(sample), keys))
    se = draws.std(ddof=1) / math.sqrt(len(draws))
    assert abs(draws.mean() - expected) < 4 * se + 0.05 * abs(expected), (
        draws.mean(),
        expected,
        se,
    )


def test_weight_information_corrected_requires_dk_dscale(erf_k1):
    _, ensemble, _ = erf_k1
    with pytest.raises(ValueError, match="dk_dscale"):
        information.weight_information(ensemble, TIMES, form="corrected")
    with pytest.raises(ValueError, match="form"):
        information.weight_information(ensemble, TIMES, form="exact")


def test_fisher_trace_and_weight_information_share_the_regularised_theta_of_the_dynamics():
    """With diag_reg > 0 the gradient flow runs on Theta_r = Theta + diag_reg * mean diag(Theta) I
    (neural-tangents' convention). Checks, all against NT's kernel_fn and scipy.linalg.expm:
    NT's own training-point mean is (I - e^{-tau Theta_r}) Y (so Theta_r is the dynamics'
    kernel); fisher_trace = k Tr Theta_r (not k Tr Theta); it equals the volume-term rate of
    weight_information (its rate at tau = inf and its slope at large tau); and
    weight_information equals the closed form with Theta_r (rtol 1e-7, Theta_r's condition
    number). KERNEL_RTOL for the traces."""
    from ntk_info._nt import load as load_neural_tangents

    nt = load_neural_tangents()

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(25, 4)), rng.normal(size=(25, 2))
    arch = architectures.fc(2, activation="erf", W_std=1.3, b_std=0.2, out_dim=2)
    diag_reg = 0.1
    ensemble = InfiniteEnsemble(arch, x, y, diag_reg=diag_reg)
    k_mat, theta = nt_kernels(arch, x)
    n, k = theta.shape[0], 2
    theta_r = theta + diag_reg * np.trace(theta) / n * np.eye(n)
    t = 40.0
    tau = float(ensemble.tau(t)[0])
    with float64():
        predict_fn = nt.predict.gradient_descent_mse_ensemble(arch[2], x, y, diag_reg=diag_reg)
        nt_mean = np.asarray(predict_fn(t=t, x_test=None, get="ntk"), np.float64)
    growth = np.eye(n) - scipy.linalg.expm(-tau * theta_r)
    np.testing.assert_allclose(nt_mean, growth @ y, rtol=1e-8, atol=1e-10)

    fisher = information.fisher_trace(ensemble, TIMES)
    np.testing.assert_allclose(fisher, k * np.trace(theta_r), rtol=KERNEL_RTOL)
    assert fisher[0] > 1.05 * k * np.trace(theta)
    rate_inf = information.weight_information_rate(ensemble, np.inf)[0]
    assert rate_inf == pytest.approx(fisher[0], rel=1e-12)
    i1, i2 = information.weight_information(ensemble, ensemble.time_from_tau([1e6, 2e6]))
    assert (i2 - i1) / 1e6 == pytest.approx(fisher[0], rel=KERNEL_RTOL)

    m = np.linalg.solve(theta_r, growth @ growth)
    closed = k * np.trace(k_mat @ m) + np.sum(y * (m @ y)) + k * tau * np.trace(theta_r)
    assert information.weight_information(ensemble, t)[0] == pytest.approx(closed, rel=1e-7)
