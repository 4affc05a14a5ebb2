"""Tests of ntk_info.information: every quantity against an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from ntk_info import InfiniteEnsemble, architectures, data, information, mixture
from ntk_info._jax import float64
from ntk_info.ensemble import Prediction

TIMES = np.array([0.0, 3.0, 30.0, 300.0, 3e3, 3e5])

#: Relative agreement between kernels of the ensemble (jitted, symmetrised) and of NT's kernel_fn
#: called directly: the ReLU kernel's arccos near correlation 1 amplifies float64 round-off to
#: ~1e-9 relative between evaluation orders.
KERNEL_RTOL = 1e-8


def _three_class(n_train: int, n_test: int, seed: int = 0) -> data.Dataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_train + n_test, 6))
    classes = np.argmax(x[:, :3] + 0.7 * rng.normal(size=(n_train + n_test, 3)), axis=1)
    return data.from_arrays(
        x[:n_train], classes[:n_train], x[n_train:], classes[n_train:], n_classes=3
    )


@pytest.fixture(scope="module")
def erf_k1():
    """fc(3) erf, Gaussian regression data, k = 1."""
    dataset = data.gaussian(40, 60, d_x=8, seed=1)
    arch = architectures.fc(3, activation="erf", W_std=1.5, b_std=0.2)
    return arch, InfiniteEnsemble(arch, dataset.x_train, dataset.y_train), dataset


@pytest.fixture(scope="module")
def relu_k3():
    """fc(3) ReLU, 3-class one-hot labels, k = 3."""
    dataset = _three_class(45, 80)
    arch = architectures.fc(3, activation="relu", W_std=1.4, b_std=0.1, out_dim=3)
    return arch, InfiniteEnsemble(arch, dataset.x_train, dataset.y_train), dataset


def _nt_predictions(arch, dataset, times):
    """Mean (T, m, k) and covariance (T, m, m) from neural-tangents directly, in float64."""
    import neural_tangents as nt

    with float64():
        predict_fn = nt.predict.gradient_descent_mse_ensemble(
            arch[2], dataset.x_train, dataset.y_train, diag_reg=0.0
        )
        out = predict_fn(t=times, x_test=dataset.x_test, get="ntk", compute_cov=True)
        return np.asarray(out.mean, np.float64), np.asarray(out.covariance, np.float64)


def _nt_kernels(arch, x):
    with float64():
        kernels = arch[2](x, None, ("nngp", "ntk"))
        return np.asarray(kernels.nngp, np.float64), np.asarray(kernels.ntk, np.float64)


# ------------------------------------------------------------------------------------------------
# information_plane against neural-tangents + mixture, one time at a time.
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["erf_k1", "relu_k3"])
def test_information_plane_matches_per_time_neural_tangents_pipeline(case, request):
    """The vectorised table must equal what a user gets from NT's gradient_descent_mse_ensemble
    (mean, diag of the covariance) fed to mixture.infonce_and_loo with the same seed and draws,
    and the losses/MSE computed directly from NT's moments (scipy's multivariate normal for the
    Bayes loss). Both pipelines compute the same Gaussians in float64, so the bounds agree to
    ~1e-6 (round-off in the moments moves each score by << the Monte Carlo error)."""
    arch, ensemble, dataset = request.getfixturevalue(case)
    entropy_y = dataset.entropy_y()
    frame = information.information_plane(
        ensemble,
        dataset.x_test,
        dataset.y_test,
        TIMES,
        batch_size=50,
        n_draws=6,
        seed=3,
        entropy_y=entropy_y,
        sigma2=1.0,
    )
    mean, cov = _nt_predictions(arch, dataset, TIMES)
    var = np.diagonal(cov, axis1=1, axis2=2)
    lower, upper = mixture.infonce_and_loo(mean[:, :50], var[:, :50], seed=3, n_draws=6)
    np.testing.assert_allclose(frame["izx_lower"], lower.value, atol=1e-6)
    np.testing.assert_allclose(frame["izx_upper"], upper.value, atol=1e-6)
    np.testing.assert_allclose(frame["izx_lower_se"], lower.se, atol=1e-6)
    y = dataset.y_test
    k = y.shape[1]
    bayes = [
        -np.mean(
            [
                scipy.stats.multivariate_normal.logpdf(y[i], mu[i], (1 + v[i]) * np.eye(k))
                for i in range(len(y))
            ]
        )
        for mu, v in zip(mean, var, strict=True)
    ]
    np.testing.assert_allclose(frame["loss_bayes"], bayes, rtol=1e-8)
    np.testing.assert_allclose(frame["mse"], np.mean((y - mean) ** 2, axis=(1, 2)), rtol=1e-8)
    np.testing.assert_allclose(frame["mean_var"], var.mean(axis=1), rtol=1e-8)
    assert frame["izx_cap"].iloc[0] == pytest.approx(math.log(50))
    assert np.all(frame["izx_lower"] <= math.log(50) + 1e-12)


def test_loss_gibbs_equals_monte_carlo_of_expected_member_nll(erf_k1):
    """E_z[-log N(y; z, I)] with z ~ N(mu, s I): the closed form against 200k Monte Carlo
    draws per point for a few points (tolerance 5 standard errors)."""
    _, ensemble, dataset = erf_k1
    pred = ensemble.predict(dataset.x_test[:3], [10.0])
    y = dataset.y_test[:3]
    rng = np.random.default_rng(0)
    z = pred.mean[0][None] + np.sqrt(pred.var[0])[None, :, None] * rng.standard_normal(
        (200_000, 3, 1)
    )
    nll = -scipy.stats.norm.logpdf(y[None], z, 1.0).sum(axis=-1).mean(axis=1)
    se = nll.std() / math.sqrt(len(nll))
    assert information.loss_gibbs(pred, y)[0] == pytest.approx(nll.mean(), abs=5 * se)
    assert np.all(information.loss_bayes(pred, y) <= information.loss_gibbs(pred, y))


def test_loss_bayes_joint_matches_scipy_multivariate_normal(relu_k3):
    """sum_c -log N(Y_c; mu_c, Sigma + I_m) / m against scipy.stats.multivariate_normal with the
    covariance from neural-tangents (independent factorisation): round-off tolerance."""
    arch, ensemble, dataset = relu_k3
    x, y = dataset.x_test[:25], dataset.y_test[:25]
    pred = ensemble.predict(x, TIMES[1:4], full_cov=True)
    got = information.loss_bayes_joint(pred, y)
    expected = [
        -sum(
            scipy.stats.multivariate_normal.logpdf(y[:, c], mu[:, c], cov + np.eye(25))
            for c in range(3)
        )
        / 25
        for mu, cov in zip(pred.mean, pred.cov, strict=True)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


# ------------------------------------------------------------------------------------------------
# KL to the prior.
# ------------------------------------------------------------------------------------------------


def test_kl_prior_is_zero_at_t0_and_matches_direct_formulas(relu_k3):
    """At t = 0 the ensemble is the prior: both KLs vanish. At t > 0 the per-point KL equals
    the textbook Gaussian KL summed over outputs, and the joint KL equals the matrix formula with
    explicit inverses and slogdet (no jitter): round-off tolerances."""
    _, ensemble, dataset = relu_k3
    x = dataset.x_test[:20]
    pred = ensemble.predict(x, TIMES, full_cov=True)
    prior = ensemble.predict(x, 0.0, full_cov=True)
    per_point = information.kl_prior(pred, prior.var[0])
    joint = information.kl_prior_joint(pred, prior.cov[0])
    assert per_point[0] == pytest.approx(0.0, abs=1e-12)
    assert joint[0] == pytest.approx(0.0, abs=1e-6)
    s0 = prior.var[0]
    for i in (2, 4):
        mu, s = pred.mean[i], pred.var[i]
        direct = np.mean(
            [
                sum(
                    np.log(np.sqrt(s0[j] / s[j])) + (s[j] + mu[j, c] ** 2) / (2 * s0[j]) - 0.5
                    for c in range(3)
                )
                for j in range(20)
            ]
        )
        assert per_point[i] == pytest.approx(direct, rel=1e-10)
        k_inv = np.linalg.inv(prior.cov[0])
        sigma = pred.cov[i]
        direct_joint = sum(
            0.5
            * (
                np.trace(k_inv @ sigma)
                + mu[:, c] @ k_inv @ mu[:, c]
                - 20
                + np.linalg.slogdet(prior.cov[0])[1]
                - np.linalg.slogdet(sigma)[1]
            )
            for c in range(3)
        )
        assert joint[i] == pytest.approx(direct_joint / 20, rel=1e-5)
    # The ensemble-level call computes the same prior itself.
    np.testing.assert_allclose(information.kl_prior(ensemble, x=x, t=TIMES), per_point)


def test_kl_prior_is_infinite_on_train_points_at_t_inf(erf_k1):
    """At t = inf the training outputs are deterministic (s = 0): KL = inf, explicitly (not
    NaN), in the table too."""
    _, ensemble, dataset = erf_k1
    frame = information.information_plane(
        ensemble,
        None,
        None,
        [1.0, np.inf],
        on="train",
        batch_size=20,
        entropy_y=dataset.entropy_y(),
        joint=True,
    )
    assert np.isfinite(frame["kl_prior"].iloc[0])
    assert frame["kl_prior"].iloc[1] == np.inf
    assert frame["kl_prior_joint"].iloc[1] == np.inf
    assert not frame.select_dtypes("number").isna().any().any()


# ------------------------------------------------------------------------------------------------
# Fisher trace, parameter energy, I(theta; D).
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["erf_k1", "relu_k3"])
def test_fisher_trace_is_constant_and_equals_k_trace_of_nt_ntk(case, request):
    """Tr F = k Tr Theta(X, X) with Theta computed by neural-tangents' kernel_fn directly
    (KERNEL_RTOL)."""
    arch, ensemble, dataset = request.getfixturevalue(case)
    _, theta = _nt_kernels(arch, dataset.x_train)
    got = information.fisher_trace(ensemble, TIMES)
    np.testing.assert_allclose(got, dataset.n_outputs * np.trace(theta), rtol=KERNEL_RTOL)
    assert np.ptp(got) == 0.0


def _direct(arch, dataset, ensemble):
    k_mat, theta = _nt_kernels(arch, dataset.x_train)
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
    k_mat, _ = _nt_kernels(architectures.fc(depth, activation="relu", W_std=1.3, b_std=0.0), x)
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
    k_mat, theta = _nt_kernels(arch, x)
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
    _, theta = _nt_kernels(make(1.0), x)
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


# ------------------------------------------------------------------------------------------------
# I(Z;Y).
# ------------------------------------------------------------------------------------------------


def _empirical_izy(pred: Prediction, classes: np.ndarray, seed: int):
    """I(Z;Y) for X uniform over the points, Y its class, Z|x Gaussian: I(X;Z) - I(X;Z|Y) with
    I(X;Z|Y) = sum_c p_c I(X;Z | Y = c), each a Gaussian-mixture MI by Monte Carlo (mixture)."""
    total = mixture.mc_estimate(
        pred.mean, pred.var, seed=seed, n_samples=64 * len(classes), control_variate=True
    )
    value, var = total.value.copy(), total.se**2
    for c in np.unique(classes):
        sel = classes == c
        part = mixture.mc_estimate(
            pred.mean[:, sel],
            pred.var[:, sel],
            seed=seed + 1 + int(c),
            n_samples=64 * int(sel.sum()),
            control_variate=True,
        )
        p = sel.mean()
        value -= p * part.value
        var = var + (p * part.se) ** 2
    return value, np.sqrt(var)


@pytest.mark.parametrize("fit_on", ["train", "eval"])
def test_izy_lower_is_a_valid_bound_below_the_empirical_mutual_information(relu_k3, fit_on):
    """For one-hot labels the bound must satisfy izy_lower <= I(Z;Y) <= H(Y), with I(Z;Y) the
    mutual information of the empirical joint (X uniform over the test points, Y its label)
    computed independently as I(X;Z) - sum_c p_c I(X;Z|Y=c) by Monte Carlo; tolerance 3
    combined standard errors. The paper's Gaussian-decoder form is vacuous here (negative);
    the proper decoder fitted on the evaluation points beats it at every time (fitted on the
    interpolated training points it becomes over-confident at late times and need not)."""
    _, ensemble, dataset = relu_k3
    x, y = dataset.x_test, dataset.y_test
    pred = ensemble.predict(x, TIMES[1:])
    h_y = information.discrete_entropy(y)
    bound = information.izy_lower(pred, y, ensemble=ensemble, fit_on=fit_on, n_draws=16)
    truth, truth_se = _empirical_izy(pred, dataset.classes_test, seed=5)
    assert np.all(bound.value <= h_y + 3 * bound.se)
    assert np.all(bound.value <= truth + 3 * np.sqrt(truth_se**2 + bound.se**2)), (
        bound.value,
        truth,
    )
    assert np.all(truth <= h_y + 3 * truth_se)
    paper = information.izy_lower_paper(pred, y)
    assert np.all(paper < 0)
    if fit_on == "eval":
        assert np.all(paper < bound.value)


def test_izy_lower_for_parity_labels_uses_exact_quadrature():
    """+-1 labels: E_z log sigmoid(2 y z / sigma^2) by Gauss-Hermite equals a 400k-draw Monte
    Carlo (5 SE); the bound is <= H(Y) = log 2 for balanced labels and beats the paper form."""
    dataset = data.from_arrays(
        *(
            lambda r: (
                r.normal(size=(40, 5)),
                r.integers(0, 2, 40),
                r.normal(size=(60, 5)),
                r.integers(0, 2, 60),
            )
        )(np.random.default_rng(4)),
        labels="parity",
    )
    ensemble = InfiniteEnsemble(
        architectures.fc(2, activation="erf"), dataset.x_train, dataset.y_train
    )
    pred = ensemble.predict(dataset.x_test, [5.0])
    value, se = information.expected_log_decoder(pred, dataset.y_test, 0.7)
    assert se[0] == 0.0
    rng = np.random.default_rng(0)
    z = pred.mean[0, :, 0] + np.sqrt(pred.var[0]) * rng.standard_normal((400_000, 60))
    logq = -np.logaddexp(0, -2 * dataset.y_test[:, 0] * z / 0.7).mean(axis=1)
    assert value[0] == pytest.approx(logq.mean(), abs=5 * logq.std() / math.sqrt(len(logq)))
    bound = information.izy_lower(ensemble, dataset.y_test, x=dataset.x_test, t=[0.0, 5.0])
    assert np.all(bound.value <= information.discrete_entropy(dataset.y_test))
    assert np.all(information.izy_lower_paper(pred, dataset.y_test) < bound.value[1:])


def test_izy_lower_regression_is_entropy_minus_gibbs_loss(erf_k1):
    """Continuous y with the paper's unit-variance decoder: izy_lower = H(Y) - loss_gibbs,
    exactly (se 0), and equals izy_lower_paper; a fitted decoder variance (closed form on the
    training points) can only change it through sigma^2, checked against the formula
    -(|y - mu|^2 + k s)/(2 sigma^2) - (k/2) log(2 pi sigma^2)."""
    _, ensemble, dataset = erf_k1
    pred = ensemble.predict(dataset.x_test, TIMES)
    h = dataset.entropy_y()
    bound = information.izy_lower(pred, dataset.y_test, entropy_y=h)
    np.testing.assert_allclose(bound.value, h - information.loss_gibbs(pred, dataset.y_test))
    np.testing.assert_allclose(
        bound.value, information.izy_lower_paper(pred, dataset.y_test, entropy_y=h)
    )
    assert np.all(bound.se == 0)
    fitted = information.izy_lower(
        pred, dataset.y_test, entropy_y=h, sigma2="fit", fit_on="train", ensemble=ensemble
    )
    train = ensemble.predict_train(TIMES)
    s2 = np.clip(
        np.mean((dataset.y_train[None, :, 0] - train.mean[..., 0]) ** 2 + train.var, axis=1),
        1e-2,
        1e2,
    )
    sq = (dataset.y_test[None, :, 0] - pred.mean[..., 0]) ** 2 + pred.var
    direct = h - sq.mean(axis=1) / (2 * s2) - 0.5 * np.log(2 * np.pi * s2)
    np.testing.assert_allclose(fitted.value, direct, rtol=1e-10)


def test_decoder_fit_on_train_subset_maximises_train_objective(relu_k3):
    """The fitted sigma^2 maximises the mean train E_z log q: perturbing it by +-10% never
    increases the objective (same draws), and it lies inside the bounded range."""
    _, ensemble, dataset = relu_k3
    train = ensemble.predict_train(TIMES[1:4])
    s2 = information.fit_decoder_variance(train, dataset.y_train, seed=1)
    assert np.all((s2 >= 1e-2) & (s2 <= 1e2))
    best, _ = information.expected_log_decoder(train, dataset.y_train, s2, seed=1)
    for factor in (0.9, 1.1):
        other, _ = information.expected_log_decoder(train, dataset.y_train, s2 * factor, seed=1)
        interior = (s2 * factor > 1e-2) & (s2 * factor < 1e2)
        assert np.all(other[interior] <= best[interior] + 1e-9)


def test_train_subset_prediction_equals_predict_train_rows(relu_k3):
    """The decoder fit on n_fit < n training points uses the first rows of predict_train's
    moments, computed from a subset of the eigenvector rows: same numbers to round-off."""
    _, ensemble, _ = relu_k3
    full = ensemble.predict_train(TIMES)
    head = information._train_prediction(ensemble, TIMES, 10)
    np.testing.assert_allclose(head.mean, full.mean[:, :10], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(head.var, full.var[:, :10], rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# Bad input.
# ------------------------------------------------------------------------------------------------


def test_information_plane_rejects_bad_input(erf_k1, relu_k3):
    """Clear errors: N < 2, batch larger than the data, continuous y without H(Y), shape
    mismatches, negative variances in a Prediction, a Prediction without covariance."""
    _, ensemble, dataset = erf_k1
    x, y = dataset.x_test, dataset.y_test
    h = dataset.entropy_y()
    with pytest.raises(ValueError, match="batch_size"):
        information.information_plane(ensemble, x, y, TIMES, batch_size=1, entropy_y=h)
    with pytest.raises(ValueError, match="batch_size"):
        information.information_plane(ensemble, x, y, TIMES, batch_size=61, entropy_y=h)
    with pytest.raises(ValueError, match="entropy_y"):
        information.information_plane(ensemble, x, y, TIMES, batch_size=10)
    with pytest.raises(ValueError, match="`y`"):
        information.information_plane(ensemble, x, y[:-1], TIMES, batch_size=10, entropy_y=h)
    with pytest.raises(ValueError, match="feature"):
        information.information_plane(ensemble, x[:, :3], y, TIMES, batch_size=10, entropy_y=h)
    with pytest.raises(ValueError, match="t"):
        information.information_plane(ensemble, x, y, [-1.0], batch_size=10, entropy_y=h)
    pred = ensemble.predict(x, TIMES)
    bad = Prediction(t=pred.t, tau=pred.tau, mean=pred.mean, var=pred.var - 10.0)
    with pytest.raises(ValueError, match="negative variances"):
        information.mse(bad, y)
    with pytest.raises(ValueError, match="full_cov"):
        information.loss_bayes_joint(pred, y)
    with pytest.raises(ValueError, match="prior_var"):
        information.kl_prior(pred)
    with pytest.raises(TypeError):
        information.mse(np.zeros((3, 2)), y)
    _, ens3, ds3 = relu_k3
    with pytest.raises(ValueError, match="labels"):
        information.accuracy(ens3.predict(ds3.x_test, [1.0]), ds3.y_test, labels="parity")


def test_information_plane_columns_and_dataset_entry(relu_k3):
    """The API contract's columns are present, finite, one row per t, in the given order."""
    _, ensemble, dataset = relu_k3
    t = np.array([np.inf, 0.0, 10.0])
    frame = information.information_plane_from_dataset(ensemble, dataset, t, batch_size=30)
    required = [
        "t",
        "tau",
        "izx_lower",
        "izx_lower_se",
        "izx_upper",
        "izx_upper_se",
        "izy_lower",
        "izy_lower_se",
        "izy_lower_paper",
        "loss_bayes",
        "loss_gibbs",
        "mse",
        "kl_prior",
        "accuracy",
        "fisher_trace",
        "parameter_energy",
        "weight_information",
        "mean_var",
    ]
    assert set(required) <= set(frame.columns)
    assert len(frame) == 3
    np.testing.assert_array_equal(frame["t"], t)
    finite = [c for c in required if c not in ("t", "tau", "weight_information")]
    assert np.all(np.isfinite(frame[finite]))
    assert frame["kl_prior"].iloc[1] == pytest.approx(0.0, abs=1e-12)
    assert np.all(frame["izx_lower"] <= frame["izx_upper"] + 3 * frame["izx_upper_se"] + 1e-9)
