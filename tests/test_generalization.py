"""`bounds.generalization_table`, `data.subsample` / `shuffle_labels` and `learning_curve`.

Independent computations, none through the table's code: the losses and errors from
`ensemble.predict` / `predict_train` with numpy; the Gibbs error by Monte Carlo over draws of
z ~ N(mu, s I_k); the `_vacuous` flags recomputed from the columns; the bounds checked against
a large test set on a realizable toy problem (labels a deterministic function of x).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ntk_info import InfiniteEnsemble, bounds, data
from ntk_info.architectures import fc
from ntk_info.learning_curves import learning_curve


def toy(n, m, seed, k=1):
    """Gaussian inputs (n, 3); labels sign(x_0) (k = 1) or argmax(x[:, :k]) one-hot (k >= 2)."""
    rng = np.random.default_rng(seed)
    x, x_test = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
    if k == 1:
        return x, np.sign(x[:, :1]), x_test, np.sign(x_test[:, :1])
    return x, np.eye(k)[np.argmax(x[:, :k], 1)], x_test, np.eye(k)[np.argmax(x_test[:, :k], 1)]


@pytest.fixture(scope="module")
def binary():
    x, y, x_test, y_test = toy(24, 300, seed=1)
    ensemble = InfiniteEnsemble(fc(2), x, y, backend="numpy")
    t = np.array([0.0, 5.0, 50.0, np.inf])
    table = bounds.generalization_table(
        ensemble, x_test, y_test, t, delta=0.1, sigma=1.0, orthant_samples=2000
    )
    return ensemble, x_test, y_test, t, table


@pytest.fixture(scope="module")
def multiclass():
    x, y, x_test, y_test = toy(24, 300, seed=2, k=3)
    ensemble = InfiniteEnsemble(fc(2, out_dim=3), x, y, backend="numpy")
    t = np.array([1.0, np.inf])
    return ensemble, x_test, y_test, t, bounds.generalization_table(ensemble, x_test, y_test, t)


def test_table_losses_and_errors_match_numpy_on_the_predictions(binary, multiclass):
    """Squared loss of the mean, sign / argmax error, gaps: numpy on ensemble.predict(_train)."""
    for ensemble, x_test, y_test, t, table in (binary, multiclass):
        train, test = ensemble.predict_train(t), ensemble.predict(x_test, t)
        y = ensemble.y_train
        np.testing.assert_allclose(table["loss_train"], ((train.mean - y) ** 2).mean((1, 2)))
        np.testing.assert_allclose(table["loss_test"], ((test.mean - y_test) ** 2).mean((1, 2)))
        np.testing.assert_allclose(table["loss_gap"], table["loss_test"] - table["loss_train"])
        if y.shape[1] == 1:  # sign, a zero mean (the prior at t = 0) counts 1/2
            err = lambda mu, yy: ((mu[..., 0] * yy[:, 0] < 0) + 0.5 * (mu[..., 0] == 0)).mean(1)  # noqa: E731
        else:
            err = lambda mu, yy: (mu.argmax(-1) != yy.argmax(-1)).mean(1)  # noqa: E731
        np.testing.assert_allclose(table["error_train"], err(train.mean, y))
        np.testing.assert_allclose(table["error_test"], err(test.mean, y_test))
        np.testing.assert_allclose(table["error_gap"], table["error_test"] - table["error_train"])
    table = binary[4]
    assert table["error_test"].iloc[0] == 0.5 and table["error_train"].iloc[-1] == 0.0


@pytest.mark.parametrize("k", [1, 3])
def test_gibbs_error_matches_monte_carlo_over_members(k):
    """P[member misclassifies] against 40 000 draws of z ~ N(mu, s I_k) per point (4 SE)."""
    x, y, x_test, y_test = toy(20, 60, seed=3, k=k)
    ensemble = InfiniteEnsemble(fc(2, out_dim=k), x, y, backend="numpy")
    pred = ensemble.predict(x_test, [2.0])
    rng = np.random.default_rng(0)
    z = pred.mean[0][None] + np.sqrt(pred.var[0])[None, :, None] * rng.standard_normal(
        (40_000,) + pred.mean.shape[1:]
    )
    if k == 1:
        wrong = (z[..., 0] * y_test[None, :, 0]) < 0
    else:
        wrong = z.argmax(-1) != y_test.argmax(-1)[None]
    per_draw = wrong.mean(1)
    mc, se = per_draw.mean(), per_draw.std() / np.sqrt(per_draw.size)
    value = bounds.gibbs_error(pred, y_test)[0]
    assert abs(value - mc) <= 4 * se + 1e-12
    assert 0.05 < value < 0.95  # a non-trivial case


def test_vacuous_flags_follow_their_levels(binary, multiclass):
    """Recomputed from the columns: bound >= level; gap bounds: train + bound >= level."""
    for _, _, y_test, _, table in (binary, multiclass):
        level = table["vacuous_level"]
        for name, quantity in bounds.BOUNDED_QUANTITY.items():
            if name not in table:
                continue
            value = table[name]
            if quantity == "loss_gap":
                value, level_q = table["loss_train"] + value, np.mean(y_test**2)
            elif quantity.endswith("_gap"):
                value, level_q = table[quantity.replace("_gap", "_train")] + value, level
            else:
                level_q = level
            np.testing.assert_array_equal(table[f"{name}_vacuous"], value >= level_q)
    assert binary[4]["vacuous_level"].iloc[0] == 0.5
    assert multiclass[4]["vacuous_level"].iloc[0] == pytest.approx(2 / 3)


def test_columns_beside_the_quantity_they_bound_and_binary_only_left_out(binary, multiclass):
    """Each bound sits after its quantity; pac_bayes_realizable only for +-1 labels."""
    for *_, table in (binary, multiclass):
        columns = list(table.columns)
        for name, quantity in bounds.BOUNDED_QUANTITY.items():
            if name in columns:
                assert columns.index(quantity) < columns.index(name)
                assert columns.index(f"{name}_vacuous") == columns.index(name) + 1
    assert "pac_bayes_realizable" in binary[4] and "orthant_information" in binary[4]
    assert "pac_bayes_realizable" not in multiclass[4]
    assert "orthant_information" not in multiclass[4]
    assert "xu_raginsky_loss" in binary[4] and "xu_raginsky_loss" not in multiclass[4]
    inf_row = binary[4].iloc[-1]  # KL(weights) = inf at t = inf
    assert inf_row["pac_bayes_kl_inverse"] == 1.0 and inf_row["xu_raginsky"] == np.inf


def test_bad_input_refused_with_clear_errors(binary, multiclass):
    ens2, x2, y2 = binary[:3]
    ens3, x3, y3 = multiclass[:3]
    with pytest.raises(ValueError, match="binary labels"):
        bounds.generalization_table(ens3, x3, y3, 1.0, bounds=["pac_bayes_realizable"])
    for delta in (0.0, 1.0, -0.5):
        with pytest.raises(ValueError, match="delta"):
            bounds.generalization_table(ens2, x2, y2, 1.0, delta=delta)
    with pytest.raises(ValueError, match="bounds"):
        bounds.generalization_table(ens2, x2, y2, 1.0, bounds=["catoni"])
    with pytest.raises(ValueError, match="sigma"):
        bounds.generalization_table(ens2, x2, y2, 1.0, bounds=["xu_raginsky_loss"])
    with pytest.raises(ValueError, match="y_test"):
        bounds.generalization_table(ens2, x2, y2[:10], 1.0)
    with pytest.raises(ValueError, match="y_test"):
        bounds.generalization_table(ens2, x2, 0.5 * y2, 1.0)
    nngp = InfiniteEnsemble(fc(2), ens2.x_train, ens2.y_train, mode="nngp", backend="numpy")
    with pytest.raises(ValueError, match="mode 'ntk'"):
        bounds.generalization_table(nngp, x2, y2, 1.0, bounds=["ntk_norm"])
    table = bounds.generalization_table(nngp, x2, y2, 1.0, bounds=["pac_bayes_realizable"])
    assert "ntk_norm" not in table and "pac_bayes_realizable" in table


def test_bounds_hold_on_a_realizable_toy_problem_with_a_large_test_set():
    """y = sign(x_0), n = 40, 4 000 test points (test-error SE <= 0.008): every error bound is
    above the error it bounds, by more than 3 SE of the test estimate."""
    x, y, x_test, y_test = toy(40, 4000, seed=4)
    ensemble = InfiniteEnsemble(fc(3), x, y, backend="numpy")
    table = bounds.generalization_table(ensemble, x_test, y_test, [20.0, np.inf], delta=0.05)
    se = 0.5 / np.sqrt(4000)
    for name, quantity in bounds.BOUNDED_QUANTITY.items():
        if name in table and quantity != "loss_gap":
            assert np.all(table[name] >= table[quantity] + 3 * se), name
    last = table.iloc[-1]
    assert last["error_train"] == 0.0 and last["error_test"] < 0.2
    assert not last["pac_bayes_realizable_vacuous"] or last["pac_bayes_realizable"] >= 0.5


# ----------------------------------------------------------------------------------------------
# subsample, shuffle_labels, learning_curve.
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset():
    x, y, x_test, y_test = toy(60, 400, seed=5)
    return data.from_arrays(x, y, x_test, y_test, labels="regression", name="toy")


def test_subsample_nested_and_shuffle_labels_permutes_a_fraction(dataset):
    small, big = data.subsample(dataset, 20, seed=1), data.subsample(dataset, 40, seed=1)
    rows = lambda d: {tuple(r) for r in d.x_train}  # noqa: E731
    assert rows(small) <= rows(big) and small.n_test == dataset.n_test
    assert data.shuffle_labels(dataset, 0.0).y_train.tolist() == dataset.y_train.tolist()
    for fraction in (0.5, 1.0):
        noisy = data.shuffle_labels(dataset, fraction, seed=3)
        changed = np.any(noisy.y_train != dataset.y_train, axis=1)
        assert changed.sum() <= round(fraction * 60) and changed.sum() > 0.2 * fraction * 60
        assert noisy.meta["label_noise_changed"] == changed.mean()
        assert sorted(noisy.y_train[:, 0]) == sorted(dataset.y_train[:, 0])  # counts kept
        assert np.array_equal(noisy.y_test, dataset.y_test)
        again = data.shuffle_labels(dataset, fraction, seed=3)
        assert np.array_equal(again.y_train, noisy.y_train)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            data.shuffle_labels(dataset, bad)
    with pytest.raises(ValueError, match="n_train"):
        data.subsample(dataset, 61)


def test_random_label_control_gap_and_bounds_rise_with_the_shuffled_fraction(dataset, tmp_path):
    """Fractions 0, 0.5, 1 on y = sign(x_0), n = 60, t = inf (fixed seeds): the error gap, the
    orthant information's PAC-Bayes bound and the NTK norm are larger with random labels than
    with clean ones at n = 30 and 60, and increase strictly over the three fractions at n = 60
    (at n = 30 the NTK norm is 2.93, 4.73, 4.60: too few points to order 0.5 and 1); also the
    learning-curve table's shape, and a rerun on the same store returns the same table, while
    another architecture on that store is refused."""
    kwargs = dict(t=[np.inf], information_columns=False, orthant_samples=2000)
    kwargs["bounds"] = ["ntk_norm", "pac_bayes_realizable"]
    table = learning_curve(dataset, fc(2), [30, 60], [0.0, 0.5, 1.0], store=tmp_path, **kwargs)
    assert len(table) == 2 * 3 and list(table.columns[:3]) == ["n_train", "label_noise", "config"]
    for n in (30, 60):
        rows = table[table["n_train"] == n].sort_values("label_noise")
        for name in ("error_gap", "pac_bayes_realizable", "ntk_norm"):
            values = rows[name].to_numpy()
            assert values[-1] > values[0], (n, name, values)  # random labels vs clean
            if n == 60:  # strictly increasing over 0, 0.5, 1 at the larger n
                assert np.all(np.diff(values) > 0), (n, name, values)
    again = learning_curve(dataset, fc(2), [30, 60], [0.0, 0.5, 1.0], store=tmp_path, **kwargs)
    pd.testing.assert_frame_equal(again, table)
    with pytest.raises(ValueError, match="grid"):  # another architecture: refused, not mixed
        learning_curve(dataset, fc(3), [30, 60], [0.0, 0.5, 1.0], store=tmp_path, **kwargs)


def test_learning_curve_bad_input(dataset):
    with pytest.raises(ValueError, match="larger than"):
        learning_curve(dataset, fc(2), [30, 61])
    with pytest.raises(ValueError, match="n_train"):
        learning_curve(dataset, fc(2), [])
    with pytest.raises(ValueError, match="label_noise"):
        learning_curve(dataset, fc(2), [30], [])
    with pytest.raises(ValueError, match="label_noise"):
        learning_curve(dataset, fc(2), [30], [1.2])


@pytest.mark.parametrize("k", [1, 3])
def test_noisy_label_error_matches_monte_carlo_of_corrupted_labels(k):
    """Closed form against 20 000 draws of test labels corrupted as in training (each label
    replaced with probability f by a class drawn from the training frequencies), 4 SE."""
    from ntk_info.learning_curves import noisy_label_error

    rng = np.random.default_rng(k)
    m, f = 50, 0.4
    mean = rng.standard_normal((1, m, k))
    mean[0, :3] = 0.0  # ties (binary: mu = 0 splits evenly)
    classes, train_classes = rng.integers(0, max(k, 2), m), rng.integers(0, max(k, 2), 80)
    if k == 1:
        y_test, y_train = (
            np.where(classes == 0, 1.0, -1.0)[:, None],
            np.where(train_classes == 0, 1.0, -1.0)[:, None],
        )
        p = np.array([np.mean(y_train > 0), np.mean(y_train < 0)])  # classes (+1, -1)
        guess = np.where(mean[0, :, 0] > 0, 0, 1)
        tie = mean[0, :, 0] == 0
    else:
        y_test, y_train = np.eye(k)[classes], np.eye(k)[train_classes]
        p, guess, tie = y_train.mean(0), mean[0].argmax(-1), np.zeros(m, bool)
    draws = 20_000
    noisy = np.where(
        rng.random((draws, m)) < f, rng.choice(p.size, size=(draws, m), p=p), classes[None]
    )
    tie_guess = rng.integers(0, 2, (draws, m))  # a tie guesses either class with probability 1/2
    wrong = np.where(tie[None], tie_guess != noisy, guess[None] != noisy).mean(1)
    value = noisy_label_error(mean, y_test, y_train, f)[0]
    assert abs(value - wrong.mean()) <= 4 * wrong.std() / np.sqrt(draws)
    assert noisy_label_error(mean, y_test, y_train, 0.0)[0] == pytest.approx(
        np.mean(np.where(tie, 0.5, guess != classes))
    )
