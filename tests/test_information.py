"""Tests of ntk_info.information (losses, KL, I(Z;X), I(Z;Y), the plane) against independent
computations; the weight-space quantities are in test_information_weights.py, the contract
(shapes, NaN, time-grid invariance) of every public quantity in test_contract.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import scipy.stats
from information_cases import TIMES

from ntk_info import InfiniteEnsemble, architectures, data, information, mixture
from ntk_info._jax import float64
from ntk_info.ensemble import Prediction


def _nt_predictions(arch, dataset, times):
    """Mean (T, m, k) and covariance (T, m, m) from neural-tangents directly, in float64."""
    from ntk_info._nt import load as load_neural_tangents

    nt = load_neural_tangents()

    with float64():
        predict_fn = nt.predict.gradient_descent_mse_ensemble(
            arch[2], dataset.x_train, dataset.y_train, diag_reg=0.0
        )
        out = predict_fn(t=times, x_test=dataset.x_test, get="ntk", compute_cov=True)
        return np.asarray(out.mean, np.float64), np.asarray(out.covariance, np.float64)


# ------------------------------------------------------------------------------------------------
# information_plane against neural-tangents + mixture, one time at a time.
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["erf_k1", "relu_k3"])
def test_information_plane_matches_per_time_neural_tangents_pipeline(case, request):
    """The vectorised table must equal what a user gets from NT's gradient_descent_mse_ensemble
    (mean, diag of the covariance) on the documented batch (50 of the m points, drawn by
    np.random.default_rng(seed), sorted) fed to mixture.infonce_and_loo with the same seed,
    draws and times, and the losses/MSE computed directly from NT's moments (scipy's
    multivariate normal for the Bayes loss). Both pipelines compute the same Gaussians in
    float64, so the bounds agree to ~1e-6 (round-off in the moments moves each score by << the
    Monte Carlo error)."""
    arch, ensemble, dataset = request.getfixturevalue(case)
    entropy_y = dataset.entropy_y()
    frame = information.information_plane(
        ensemble,
        dataset.x_test,
        dataset.y_test,
        TIMES,
        n_points=50,
        n_draws=6,
        seed=3,
        entropy_y=entropy_y,
        sigma2=1.0,
    )
    mean, cov = _nt_predictions(arch, dataset, TIMES)
    var = np.diagonal(cov, axis1=1, axis2=2)
    rows = np.sort(np.random.default_rng(3).choice(dataset.n_test, 50, replace=False))
    lower, upper = mixture.infonce_and_loo(
        mean[:, rows], var[:, rows], seed=3, n_draws=6, times=TIMES
    )
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
        n_points=20,
        entropy_y=dataset.entropy_y(),
        joint=True,
    )
    assert np.isfinite(frame["kl_prior"].iloc[0])
    assert frame["kl_prior"].iloc[1] == np.inf
    assert frame["kl_prior_joint"].iloc[1] == np.inf
    assert not frame.select_dtypes("number").isna().any().any()


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


def test_decoder_fit_on_train_uses_a_seeded_subset_of_n_fit_training_points(erf_k1):
    """fit_on='train' with n_fit = 10 fits sigma^2 on 10 training points drawn with seed + 1:
    the regression closed form mean_i ((y_i - mu_i)^2 + s_i) on those rows of the full
    predict_train (computed independently of the rows= path the fit uses), round-off tolerance."""
    _, ensemble, dataset = erf_k1
    pred = ensemble.predict(dataset.x_test, TIMES)
    h = dataset.entropy_y()
    fitted = information.izy_lower(
        pred, dataset.y_test, entropy_y=h, sigma2="fit", fit_on="train", ensemble=ensemble, n_fit=10
    )
    train = ensemble.predict_train(TIMES)
    rows = np.sort(np.random.default_rng(0 + 1).choice(ensemble.n_train, 10, replace=False))
    resid = (dataset.y_train[None, rows, 0] - train.mean[:, rows, 0]) ** 2 + train.var[:, rows]
    s2 = np.clip(resid.mean(axis=1), 1e-2, 1e2)
    sq = (dataset.y_test[None, :, 0] - pred.mean[..., 0]) ** 2 + pred.var
    direct = h - sq.mean(axis=1) / (2 * s2) - 0.5 * np.log(2 * np.pi * s2)
    np.testing.assert_allclose(fitted.value, direct, rtol=1e-9)


# ------------------------------------------------------------------------------------------------
# Bad input.
# ------------------------------------------------------------------------------------------------


def test_information_plane_rejects_bad_input(erf_k1, relu_k3):
    """Clear errors: N < 2, batch larger than the data, continuous y without H(Y), shape
    mismatches, options outside their Literal, an unknown keyword (the old `batch_size`),
    negative variances in a Prediction, a Prediction without covariance."""
    _, ensemble, dataset = erf_k1
    x, y = dataset.x_test, dataset.y_test
    h = dataset.entropy_y()
    with pytest.raises(ValueError, match="n_points"):
        information.information_plane(ensemble, x, y, TIMES, n_points=1, entropy_y=h)
    with pytest.raises(ValueError, match="n_points"):
        information.information_plane(ensemble, x, y, TIMES, n_points=61, entropy_y=h)
    with pytest.raises(TypeError, match="n_points"):
        information.information_plane(ensemble, x, y, TIMES, n_points=10.0, entropy_y=h)
    with pytest.raises(ValueError, match="entropy_y"):
        information.information_plane(ensemble, x, y, TIMES, n_points=10)
    with pytest.raises(ValueError, match="`y`"):
        information.information_plane(ensemble, x, y[:-1], TIMES, n_points=10, entropy_y=h)
    with pytest.raises(ValueError, match="feature"):
        information.information_plane(ensemble, x[:, :3], y, TIMES, n_points=10, entropy_y=h)
    with pytest.raises(ValueError, match="t"):
        information.information_plane(ensemble, x, y, [-1.0], n_points=10, entropy_y=h)
    with pytest.raises(ValueError, match="form"):
        information.information_plane(ensemble, x, y, TIMES, form="exact", entropy_y=h)
    with pytest.raises(ValueError, match="fit_on"):
        information.izy_lower(ensemble.predict(x, TIMES), y, entropy_y=h, fit_on="test")
    with pytest.raises(TypeError, match="batch_size"):
        information.information_plane(ensemble, x, y, TIMES, batch_size=10, entropy_y=h)
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
    frame = information.information_plane_from_dataset(ensemble, dataset, t, n_points=30)
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


# ------------------------------------------------------------------------------------------------
# The I(Z;X) batch and the options.
# ------------------------------------------------------------------------------------------------


def test_default_batch_is_min_1000_m_so_small_evaluation_sets_work(erf_k1):
    """information_plane(ens, x[:20], y[:20], t) without n_points uses all 20 points (the
    default N = min(1000, m)); the cap log N and the configuration columns say so."""
    _, ensemble, dataset = erf_k1
    frame = information.information_plane(
        ensemble, dataset.x_test[:20], dataset.y_test[:20], TIMES, entropy_y=dataset.entropy_y()
    )
    assert np.all(frame["n_points"] == 20) and np.all(frame["n_eval"] == 20)
    np.testing.assert_allclose(frame["izx_cap"], math.log(20))
    assert np.all(frame["izx_lower"] <= math.log(20) + 1e-12)


def test_izx_batch_is_a_seeded_random_subset_not_the_first_points(relu_k3):
    """The batch is np.sort(default_rng(seed).choice(m, N, replace=False)): not the first N,
    different for different seeds, the same for the same seed; the bounds are mixture's bounds
    on exactly those rows with the draws keyed by (seed, t)."""
    _, ensemble, dataset = relu_k3
    rows = information.izx_rows(80, 30, seed=4)
    np.testing.assert_array_equal(
        rows, np.sort(np.random.default_rng(4).choice(80, 30, replace=False))
    )
    assert not np.array_equal(rows, np.arange(30))
    assert not np.array_equal(rows, information.izx_rows(80, 30, seed=5))
    np.testing.assert_array_equal(information.izx_rows(80, 80, seed=4), np.arange(80))
    pred = ensemble.predict(dataset.x_test, TIMES)
    lower, upper = information.izx_bounds(pred, n_points=30, n_draws=4, seed=4)
    ref_lower, ref_upper = mixture.infonce_and_loo(
        pred.mean[:, rows], pred.var[:, rows], seed=4, n_draws=4, times=TIMES
    )
    np.testing.assert_array_equal(lower.value, ref_lower.value)
    np.testing.assert_array_equal(upper.se, ref_upper.se)
    assert isinstance(lower, mixture.MIEstimate) and lower.value.shape == TIMES.shape


def test_plane_options_object_equals_keywords_and_every_option_is_a_column(relu_k3):
    """PlaneOptions(...) and the same fields as keywords give the same table; keywords override
    an options object; every PlaneOptions field is recorded in a configuration column (resolved:
    the label kind inferred, N = min(1000, m)); the options are frozen and validated once, by
    the Literal checker."""
    import dataclasses

    _, ensemble, dataset = relu_k3
    x, y, t = dataset.x_test, dataset.y_test, TIMES[:3]
    options = information.PlaneOptions(n_points=30, n_draws=3, seed=2, fit_on="eval")
    by_object = information.information_plane(ensemble, x, y, t, options)
    by_keywords = information.information_plane(ensemble, x, y, t, n_points=30, n_draws=3, seed=2)
    pd.testing.assert_frame_equal(by_object, by_keywords)
    override = information.information_plane(ensemble, x, y, t, options, seed=7)
    assert np.all(override["seed"] == 7) and np.all(override["n_points"] == 30)
    columns = {
        "on": "on",
        "n_points": "n_points",
        "n_draws": "n_draws",
        "seed": "seed",
        "labels": "labels",
        "sigma2": "decoder_fit",
        "fit_on": "decoder_fit",
        "n_fit": "n_fit",
        "sigma2_range": "sigma2_low",
        "mc": "mc",
        "joint": "joint",
        "form": "weight_information_form",
    }
    assert {f.name for f in dataclasses.fields(information.PlaneOptions)} == set(columns)
    assert set(columns.values()) | {"sigma2_high"} <= set(by_object.columns)
    row = by_object.iloc[0]
    assert (row["labels"], row["decoder_fit"], row["n_points"]) == ("onehot", "eval", 30)
    default = information.information_plane(ensemble, x, y, t)
    assert np.all(default["n_points"] == dataset.n_test)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.seed = 3
    with pytest.raises(ValueError, match=r"`on` must be one of \('test', 'train'\)"):
        information.PlaneOptions(on="validation")


def test_decoder_log_likelihood_is_accurate_where_the_decoder_saturates():
    """Well-separated +-1 outputs (|mu| = 3, s = 0.01, sigma^2 = 0.1): log q = -log(1 + e^{-2yz /
    sigma^2}) ~ -1e-26, far below the rounding of a logsumexp difference. The Gauss-Hermite value
    must match the same nodes evaluated with numpy's log1p form to rtol 1e-9 (an independent
    evaluation, exact in float64 here)."""
    rng = np.random.default_rng(0)
    y = np.where(rng.random(8) < 0.5, -1.0, 1.0)[:, None]
    mean = 3.0 * y[None]
    pred = Prediction(t=np.array([1.0]), tau=np.array([0.1]), mean=mean, var=np.full((1, 8), 0.01))
    value, se = information.expected_log_decoder(pred, y, 0.1)
    nodes, weights = np.polynomial.hermite_e.hermegauss(24)
    z = 3.0 * y[:, 0][None] + 0.1 * nodes[:, None]
    expected = np.mean(weights @ -np.log1p(np.exp(-2 * y[:, 0][None] * z / 0.1))) / weights.sum()
    assert expected < -1e-30
    assert value[0] == pytest.approx(expected, rel=1e-9, abs=0.0) and se[0] == 0.0


def test_decoder_fit_on_interpolated_training_points_is_the_range_end_on_both_backends(relu_k3):
    """At late times the ensemble interpolates its training points, E log q increases as sigma^2
    decreases, and the fit must reach the lower end of `sigma2_range` (not wander with rounding
    noise); the numpy and jax backends then agree on the bound to 1e-9."""
    arch, ensemble, dataset = relu_k3
    times = np.array([3e3, 3e5, np.inf])
    s2 = information.fit_decoder_variance(ensemble.predict_train(times), dataset.y_train)
    np.testing.assert_allclose(s2, 1e-2, rtol=1e-4)
    jax_ensemble = InfiniteEnsemble(arch, dataset.x_train, dataset.y_train, backend="jax")
    bounds = [
        information.izy_lower(e, dataset.y_test, x=dataset.x_test, t=times, fit_on="train").value
        for e in (ensemble, jax_ensemble)
    ]
    np.testing.assert_allclose(bounds[0], bounds[1], rtol=1e-9)
