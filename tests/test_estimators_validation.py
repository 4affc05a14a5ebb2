"""Bad input to every estimator: a clear ValueError / TypeError naming the argument and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from ntk_info import estimators
from ntk_info.estimators import knn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 2))
Z = RNG.standard_normal((40, 3))

CONTINUOUS = {
    "ksg": lambda x, z: estimators.ksg(x, z),
    "kozachenko_leonenko": lambda x, z: estimators.kozachenko_leonenko(x, z),
    "weighted_kl": lambda x, z: estimators.weighted_kl(x, z),
    "compressed": lambda x, z: estimators.compressed(x, z, dim=1),
    "mine": lambda x, z: estimators.mine(x, z, steps=1),
}
ANY = {
    **CONTINUOUS,
    "binning": lambda x, z: estimators.binning(x, z),
    "quantized_exact": lambda x, z: estimators.quantized_exact(x, z),
    "kde_upper": lambda x, z: estimators.kde_upper(x, z),
    "kde_lower": lambda x, z: estimators.kde_lower(x, z),
    "sample_propagation": lambda x, z: estimators.sample_propagation(x, z, beta=0.1),
    "infonce_known_conditional": lambda x, z: estimators.infonce_known_conditional(
        x, z, noise_std=0.1
    ),
}


@pytest.mark.parametrize("name", sorted(ANY))
def test_mismatched_sample_counts(name):
    with pytest.raises(ValueError, match="same number of samples"):
        ANY[name](X[:30], Z)


@pytest.mark.parametrize("name", sorted(ANY))
def test_nan_is_refused(name):
    bad = Z.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ANY[name](X, bad)


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_constant_column_is_refused(name):
    bad = Z.copy()
    bad[:, 2] = 1.5
    with pytest.raises(ValueError, match="constant column"):
        CONTINUOUS[name](X, bad)


def test_too_few_samples_for_k_neighbours():
    with pytest.raises(ValueError, match="k = 5"):
        estimators.ksg(X[:5], Z[:5], k=5)
    with pytest.raises(ValueError, match="more samples than"):
        estimators.kozachenko_leonenko(X[:5], Z[:5], k=5)
    with pytest.raises(ValueError, match="more samples than k"):
        knn.kozachenko_leonenko_entropy(X[:3], k=3)
    with pytest.raises(ValueError, match="every class"):
        estimators.kozachenko_leonenko(np.r_[np.zeros(38, int), 1, 1], Z)


def test_bits_below_one():
    with pytest.raises(ValueError, match="bits"):
        estimators.quantized_exact(X, Z, bits=0)
    with pytest.raises(TypeError, match="bits"):
        estimators.quantized_exact(X, Z, bits=2.5)


def test_options_and_hyperparameters():
    with pytest.raises(ValueError, match="metric"):
        estimators.ksg(X, Z, metric="manhattan")
    with pytest.raises(ValueError, match="k"):
        estimators.ksg(X, Z, k=0)
    with pytest.raises(ValueError, match="strategy"):
        estimators.binning(X, Z, strategy="optimal")
    with pytest.raises(ValueError, match="bounds"):
        estimators.binning(X, Z, bounds=(1.0, -1.0))
    with pytest.raises(ValueError, match="noise_variance"):
        estimators.kde_upper(X, Z, noise_variance=0.0)
    with pytest.raises(ValueError, match="beta"):
        estimators.sample_propagation(X, Z, beta=-1.0)
    with pytest.raises(ValueError, match="estimator"):
        estimators.compressed(X, Z, estimator="mine")
    with pytest.raises(ValueError, match="ema"):
        estimators.mine(X, Z, ema=0.0)
    with pytest.raises(ValueError, match="at least 8"):
        estimators.nwj(X[:6], Z[:6])


def test_repeated_points_are_refused_by_knn_when_a_used_distance_is_zero():
    """A repeated pair makes the 1st-neighbour distance 0: fatal for k = 1, harmless for k = 5."""
    dup_x, dup_z = np.vstack([X, X[:1]]), np.vstack([Z, Z[:1]])
    with pytest.raises(ValueError, match="repeated points"):
        estimators.ksg(dup_x, dup_z, k=1)
    with pytest.raises(ValueError, match="repeated points"):
        knn.kozachenko_leonenko_entropy(dup_z, k=1)
    assert np.isfinite(estimators.ksg(dup_x, dup_z, k=5))
    assert np.isfinite(estimators.kozachenko_leonenko(dup_x, dup_z, k=5))


def test_labels_of_wrong_length_and_type():
    with pytest.raises(ValueError, match="same number of samples"):
        estimators.binning(np.zeros(30, int), Z)
    with pytest.raises(TypeError, match="numeric"):
        estimators.ksg(np.array(["a"] * 40), Z)


def test_weighted_kl_refuses_weights_whose_variance_swamps_the_estimate():
    """In 16 + 16 dimensions the k = 20 weights have L1 norm ~1e6: refused with the norm and
    the way out (compress first); at 4 + 4 the same call returns a finite estimate."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 16))
    z = x + rng.standard_normal((400, 16))
    with pytest.raises(ValueError, match="L1 norm.*compress"):
        estimators.weighted_kl(x, z)
    with pytest.raises(ValueError, match="L1 norm"):
        knn.weighted_kl_entropy(x)
    assert np.isfinite(estimators.weighted_kl(x[:, :4], z[:, :4]))
