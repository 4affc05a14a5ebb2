"""Layer-by-layer IB training (Elad et al. 2019) and its end-to-end baseline (issue 9, item 4)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from ntk_info import data, mixture
from ntk_info._jax import float64
from ntk_info.variational.layerwise import (
    noisy_information_bounds,
    train_end_to_end,
    train_layerwise,
)

DIM = 8  # inputs and hidden layers share one width: every stage reuses one compiled epoch
SMALL = dict(widths=(DIM, DIM, DIM), epochs=6, batch_size=32, learning_rate=1e-2, seed=3)


@pytest.fixture(scope="module")
def blobs():
    """Three Gaussian classes in 8 dimensions, 96 training and 96 test points (seeded)."""
    rng = np.random.default_rng(0)
    centres = 2.0 * rng.standard_normal((3, DIM))
    classes = rng.integers(0, 3, 192)
    x = centres[classes] + rng.standard_normal((192, DIM))
    return data.from_arrays(x[:96], classes[:96], x[96:], classes[96:])


@pytest.fixture(scope="module")
def trained(blobs):
    return train_layerwise(blobs, beta=5.0, noise_std=1.0, **SMALL)


def test_frozen_layers_stay_bit_identical_while_later_layers_train(trained):
    """After stage s, layers 1..s are exactly (bit for bit) what they were when stage s ended.

    The snapshots are taken after every stage; layer l must equal its own stage's snapshot in
    every later snapshot and in the final network; every stage did train (its objective changes
    from epoch to epoch).
    """
    snapshots = trained.snapshots
    assert len(snapshots) == 3 and len(trained.layers) == 3
    for stage, snapshot in enumerate(snapshots):
        assert len(snapshot) == stage + 1
        for later in list(snapshots[stage + 1 :]) + [trained.layers]:
            for frozen, now in zip(snapshot, later[: stage + 1], strict=True):
                for a, b in zip(jax.tree.leaves(frozen), jax.tree.leaves(now), strict=True):
                    assert np.array_equal(np.asarray(a), np.asarray(b))
    for _, stage in trained.history.groupby("stage"):
        assert stage["objective"].nunique() == len(stage)  # every stage did train


def test_ib_objective_decreases_during_each_stage(trained):
    """The stage's IB Lagrangian on its fixed evaluation batch falls from epoch 1 to the last.

    The objective is recomputed here from the history's own columns (bound + beta CE), an
    identity that holds to rounding; a fall of 5% is far above the evaluation's noise (fixed
    batch, fixed noise key).
    """
    history = trained.history
    recomputed = history["izx_upper"] + 5.0 * history["cross_entropy"]
    assert np.allclose(recomputed, history["objective"], rtol=1e-12)
    for stage, rows in history.groupby("stage"):
        first, last = rows["objective"].iloc[0], rows["objective"].iloc[-1]
        assert last < 0.95 * first, f"stage {stage}: objective {first:.3f} -> {last:.3f}"
    assert np.allclose(history["izy_lower"], np.log(3) - history["cross_entropy"])
    assert trained.predict(np.zeros((4, DIM))).sum(1) == pytest.approx(np.ones(4))


def test_noisy_bounds_match_the_mixture_engine():
    """The differentiable batch bounds average to the mixture engine's InfoNCE and LOO bounds.

    Same definitions, independent code (ntk_info.mixture, 400 draws) and independent draws:
    the means over 400 keys must agree within 5 combined standard errors (a wrong constant,
    e.g. log B instead of log(B - 1), is 0.026 nats, above 5 se ~ 0.01).
    """
    rng = np.random.default_rng(1)
    t = rng.standard_normal((40, 3))
    with float64():
        keys = jax.random.split(jax.random.PRNGKey(0), 400)
        draws = np.array(jax.vmap(lambda k: noisy_information_bounds(t, 0.7, k))(keys))
    lower, upper = mixture.infonce_and_loo(t, np.full(40, 0.49), seed=5, n_draws=400)
    for i, reference in enumerate((lower, upper)):
        se = np.hypot(draws[i].std() / 20.0, reference.se)
        assert abs(draws[i].mean() - reference.value) < 5 * se + 1e-12
    assert 0 < lower.value < upper.value < np.log(40)


def test_end_to_end_history_and_prediction(blobs):
    """Cross-entropy training lowers the CE, and predict() gives the history's test accuracy."""
    result = train_end_to_end(blobs, **SMALL)
    history = result.history
    assert history["cross_entropy"].iloc[-1] < history["cross_entropy"].iloc[0]
    accuracy = np.mean(result.predict(blobs.x_test).argmax(1) == blobs.classes_test)
    assert accuracy == pytest.approx(history["test_accuracy"].iloc[-1], abs=1e-12)


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"beta": -1.0}, ValueError, "beta"),
        ({"beta": 0.0}, ValueError, "beta"),
        ({"noise_std": 0.0}, ValueError, "noise_std"),
        ({"widths": ()}, ValueError, "widths"),
        ({"widths": (4, 0)}, ValueError, "widths"),
        ({"batch_size": 1000}, ValueError, "batch_size"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"izx_bound": "mine"}, ValueError, "izx_bound"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_arguments_are_named(blobs, change, error, match):
    with pytest.raises(error, match=match):
        train_layerwise(blobs, **{**SMALL, **change})


def test_bad_datasets_are_refused(blobs):
    with pytest.raises(TypeError, match="dataset"):
        train_layerwise((blobs.x_train, blobs.y_train))
    regression = data.from_arrays(blobs.x_train, blobs.x_train[:, :2], n_test=10)
    with pytest.raises(ValueError, match="one-hot"):
        train_end_to_end(regression)
    tiny = data.from_arrays(blobs.x_train[:1], blobs.classes_train[:1], blobs.x_test[:1],
                            blobs.classes_test[:1], n_classes=3)  # fmt: skip
    with pytest.raises(ValueError, match="empty or too small"):
        train_layerwise(tiny)
