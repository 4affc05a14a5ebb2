"""Datasets: exact Gaussian information, offline generation, determinism, validation."""

import numpy as np
import pytest

from ntk_info import data


def _gaussian_mi_from_covariance(cov: np.ndarray, d_x: int) -> float:
    """I(X;Y) = 1/2 log(det S_xx det S_yy / det S) of a joint covariance S."""
    logdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    return 0.5 * (logdet(cov[:d_x, :d_x]) + logdet(cov[d_x:, d_x:]) - logdet(cov))


@pytest.mark.parametrize("d_y", [1, 3])
def test_gaussian_mutual_information_matches_joint_covariance(d_y):
    """The stored I(X;Y) equals the log-det formula on the exact joint covariance built from
    (cov_x, cov_xy, cov_y), and the sample covariance of 200k draws gives the same within
    Monte Carlo error (relative error of log-dets ~ d/sqrt(n) ~ 1e-2)."""
    ds = data.gaussian(200_000, 10, d_x=6, d_y=d_y, mutual_information=0.7, seed=3)
    info = ds.gaussian
    joint = np.block([[info.cov_x, info.cov_xy], [info.cov_xy.T, info.cov_y]])
    assert info.mutual_information == pytest.approx(0.7, abs=1e-10)
    assert _gaussian_mi_from_covariance(joint, 6) == pytest.approx(0.7, abs=1e-10)
    sample = np.cov(np.hstack([ds.x_train, ds.y_train]).T)
    assert _gaussian_mi_from_covariance(sample, 6) == pytest.approx(0.7, abs=0.02)


def test_gaussian_entropy_of_y_is_half_log_det_without_stray_factor():
    """H(Y) = 1/2 log det(2 pi e Sigma_y) (App. B's stray n_y/2 removed): for d_y = 1 it is the
    scalar formula 1/2 log(2 pi e var(Y)) with var(Y) = sigma_y^2 + sigma_x^2 |A|^2."""
    ds = data.gaussian(10, 10, d_x=5, d_y=1, sigma_x=1.3, sigma_y=0.4, seed=1)
    info = ds.gaussian
    var_y = 0.4**2 + 1.3**2 * np.sum(info.A**2)
    assert info.entropy_y == pytest.approx(0.5 * np.log(2 * np.pi * np.e * var_y), rel=1e-12)
    assert ds.entropy_y() == info.entropy_y


def test_gaussian_is_deterministic_given_seed():
    a = data.gaussian(20, 5, seed=4)
    b = data.gaussian(20, 5, seed=4)
    c = data.gaussian(20, 5, seed=5)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.allclose(a.x_train, c.x_train)


def test_mnist1d_generated_offline_deterministic_and_standardized():
    """Two calls give identical arrays, NumPy's global RNG is left untouched, training inputs
    have per-feature mean 0 and std 1, and labels are one-hot of the classes."""
    state = np.random.get_state()  # noqa: NPY002
    ds = data.mnist1d(300, 100, seed=0)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(state[1], after[1])
    again = data.mnist1d(300, 100, seed=0)
    np.testing.assert_array_equal(ds.x_train, again.x_train)
    assert ds.x_train.shape == (300, 40) and ds.y_train.shape == (300, 10)
    np.testing.assert_allclose(ds.x_train.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.x_train.std(0), 1, atol=1e-12)
    np.testing.assert_array_equal(ds.y_train.argmax(1), ds.classes_train)
    counts = np.bincount(ds.classes_test, minlength=10) / ds.n_test
    nonzero = counts[counts > 0]
    assert ds.entropy_y() == pytest.approx(-np.sum(nonzero * np.log(nonzero)), rel=1e-12)
    assert ds.entropy_y() <= np.log(10)


def test_mnist1d_parity_labels_are_plus_minus_one_by_digit_parity():
    ds = data.mnist1d(200, 50, labels="parity", seed=1)
    assert ds.y_train.shape == (200, 1)
    np.testing.assert_array_equal(ds.y_train[:, 0], np.where(ds.classes_train % 2 == 0, 1, -1))
    assert ds.entropy_y() <= np.log(2) + 1e-12


def test_digits_split_and_labels():
    ds = data.digits(500, 300, labels="parity", seed=2)
    assert ds.x_train.shape == (500, 64) and ds.x_test.shape == (300, 64)
    assert set(np.unique(ds.y_train)) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="exceeds"):
        data.digits(1500, 500)


def test_from_arrays_and_load_npz_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4))
    classes = rng.integers(0, 3, size=50)
    path = tmp_path / "mine.npz"
    np.savez(path, x=x, y=classes)
    ds = data.load_npz(path, n_test=10, seed=1)
    assert ds.name == "mine" and ds.labels == "onehot"
    assert ds.x_train.shape == (40, 4) and ds.y_test.shape == (10, 3)
    # The held-out rows are a permutation of the input rows.
    stacked = np.vstack([ds.x_train, ds.x_test])
    np.testing.assert_allclose(np.sort(stacked, axis=0), np.sort(x, axis=0))
    reg = data.from_arrays(x[:40], x[:40, 0], x[40:], x[40:, 0])
    assert reg.labels == "regression" and reg.y_train.shape == (40, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x_train=np.full((5, 2), np.nan), y_train=np.zeros(5), n_test=2), "NaN"),
        (dict(x_train=np.zeros((5, 2)), y_train=np.zeros(4), n_test=2), "rows"),
        (dict(x_train=np.zeros(5), y_train=np.zeros(5), n_test=2), "dimensions"),
        (dict(x_train=np.zeros((5, 2)), y_train=np.zeros(5)), "n_test"),
        (
            dict(
                x_train=np.zeros((5, 2)),
                y_train=np.zeros(5),
                x_test=np.zeros((2, 3)),
                y_test=np.zeros(2),
            ),
            "features",
        ),
        (
            dict(x_train=np.zeros((5, 2)), y_train=np.zeros(5), n_test=2, labels="parity"),
            "integer class labels",
        ),
    ],
)
def test_from_arrays_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.from_arrays(**kwargs)


def test_loaders_reject_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="labels"):
        data.mnist1d(10, 10, labels="softmax")
    with pytest.raises(ValueError, match="n_train"):
        data.gaussian(0, 10)
    with pytest.raises(ValueError, match="sigma_x"):
        data.gaussian(10, 10, sigma_x=-1)
    bad = tmp_path / "bad.npz"
    np.savez(bad, a=np.zeros(3))
    with pytest.raises(ValueError, match="must contain"):
        data.load_npz(bad)
    with pytest.raises(FileNotFoundError):
        data.load_npz(tmp_path / "missing.npz")
