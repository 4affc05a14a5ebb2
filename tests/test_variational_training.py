"""ntk_info.variational.train / beta_sweep: training, resume, beta ordering, sweeps, validation.

All trainings share one data shape and model size so that jit compiles once per objective.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses

import numpy as np
import pandas as pd
import pytest

from ntk_info import data
from ntk_info.variational import LabelSmoothing, beta_sweep, build_model, steps, train

SMALL = dict(epochs=4, latent_dim=4, width=32, batch_size=32, learning_rate=3e-3, progress=False)


@pytest.fixture(scope="module")
def digits():
    return data.digits(256, 128, seed=0)


def _kl_diag(mu, sigma, m, s):
    """KL[N(mu, diag sigma^2) || N(m, diag s^2)] per row, NumPy."""
    return 0.5 * np.sum((sigma / s) ** 2 + ((mu - m) / s) ** 2 - 1 - 2 * np.log(sigma / s), axis=1)


def test_training_lowers_the_loss_and_reports_the_analytic_rate(digits):
    """The epoch-mean VIB loss falls; the test accuracy beats chance (0.1) by far; the history's
    rate equals the mean analytic KL to N(0, I) recomputed in NumPy from `encode`."""
    result = train(digits, objective="vib", beta=10.0, **SMALL)
    h = result.history
    assert list(h.epoch) == [1, 2, 3, 4]
    assert h.loss.iloc[-1] < 0.8 * h.loss.iloc[0]
    assert h.test_accuracy.iloc[-1] > 0.4
    mu, sigma = result.encode(digits.x_test)
    want = _kl_diag(mu, sigma, 0.0, 1.0).mean()
    assert h.rate.iloc[-1] == pytest.approx(want, rel=1e-10)
    probs = result.predict(digits.x_test)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-12)
    assert np.mean(probs.argmax(1) == digits.classes_test) == h.test_accuracy.iloc[-1]


def test_test_loss_decomposes_into_rate_and_distortion(digits):
    """VIB on one-hot labels (noisy_labels=False): test loss = rate + beta (ln K - izy_lower);
    VdualIB: test loss = rate + beta (ln K - izy_noise_lower) (same sampled z, analytic rate)."""
    vib = train(digits, objective="vib", beta=5.0, noisy_labels=False, **SMALL).history
    want = vib.rate + 5.0 * (np.log(10) - vib.izy_lower)
    np.testing.assert_allclose(vib.test_loss, want, rtol=1e-10)
    soft = train(digits, objective="vib", beta=5.0, **SMALL).history
    assert not np.allclose(soft.test_loss, soft.rate + 5.0 * (np.log(10) - soft.izy_lower))


def test_resume_from_checkpoint_reproduces_the_uninterrupted_run(digits, tmp_path, monkeypatch):
    """2 epochs + resume to 4 gives bit-identical parameters and the same history as 4 epochs
    in one go (per-epoch keys from (seed, epoch)); the resumed call runs only epochs 3-4."""
    import jax

    whole = train(digits, objective="vib", beta=3.0, **SMALL)
    first = train(
        digits, objective="vib", beta=3.0, **{**SMALL, "epochs": 2}, checkpoint_dir=tmp_path
    )
    calls = []
    original = steps.run_epoch
    monkeypatch.setattr(steps, "run_epoch", lambda *a: calls.append(1) or original(*a))
    resumed = train(digits, objective="vib", beta=3.0, **SMALL, checkpoint_dir=tmp_path)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(first.history, whole.history.iloc[:2])
    pd.testing.assert_frame_equal(resumed.history, whole.history)
    for a, b in zip(
        jax.tree_util.tree_leaves(resumed.params),
        jax.tree_util.tree_leaves(whole.params),
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="another configuration"):
        train(digits, objective="vib", beta=4.0, **SMALL, checkpoint_dir=tmp_path)
    other_seed = train(digits, objective="vib", beta=3.0, **{**SMALL, "seed": 1})
    assert not np.allclose(other_seed.history.loss, whole.history.loss)


@pytest.mark.parametrize(("objective", "prior"), [("vib", "standard"), ("vdualib", "backward")])
def test_larger_beta_gives_larger_rate(digits, objective, prior):
    """beta = 0.1, 1, 10 (seed 0, 6 epochs): the final rate increases with beta, as the IB
    trade-off predicts (beta weighs the distortion against the rate)."""
    rates = [
        train(
            digits, objective=objective, beta=b, prior=prior, **{**SMALL, "epochs": 6}
        ).history.rate.iloc[-1]
        for b in (0.1, 1.0, 10.0)
    ]
    assert rates[0] < rates[1] < rates[2]
    assert rates[2] > 2 * rates[1]


def test_backward_encoder_rate_is_kl_to_the_class_conditional_prior(digits):
    """prior='backward': the history's rate equals mean KL[e(z|x) || b(z|y)] at the true labels,
    recomputed in NumPy from the learned table (m_y, softplus(rho_y) + 1e-2)."""
    result = train(digits, objective="vdualib", beta=10.0, prior="backward", **SMALL)
    h = result.history
    assert h.loss.iloc[-1] < h.loss.iloc[0]
    mu, sigma = result.encode(digits.x_test)
    table = np.asarray(result.params["backward"])[digits.classes_test]
    m, rho = table[:, :4], table[:, 4:]
    s = np.log1p(np.exp(rho)) + 1e-2
    assert h.rate.iloc[-1] == pytest.approx(_kl_diag(mu, sigma, m, s).mean(), rel=1e-10)
    want = h.rate + 10.0 * (np.log(10) - h.izy_noise_lower)
    np.testing.assert_allclose(h.test_loss, want, rtol=1e-10)
    assert np.all(np.isfinite(h.to_numpy(dtype=float)))


def test_beta_sweep_runs_through_sweep_and_matches_direct_training(digits, tmp_path, monkeypatch):
    """Two betas on a 2-thread pool: each row equals the final row of a direct `train`; a
    rerun reads the store (no training); other training arguments are refused."""
    kwargs = {k: v for k, v in SMALL.items() if k != "progress"}
    with cf.ThreadPoolExecutor(2) as pool:
        table = beta_sweep(
            digits,
            [1.0, 10.0],
            objective="vib",
            store=tmp_path,
            executor=pool,
            progress=False,
            noise=LabelSmoothing(0.02),
            **kwargs,
        )
    assert list(table.beta) == [1.0, 10.0]
    assert {"objective", "config", "epoch", "rate", "izy_lower", "test_accuracy"} <= set(table)
    for beta, row in zip((1.0, 10.0), table.itertuples(), strict=True):
        direct = train(digits, objective="vib", beta=beta, **SMALL).history.iloc[-1]
        assert row.rate == direct.rate and row.test_accuracy == direct.test_accuracy
    monkeypatch.setattr(steps, "run_epoch", None)  # any training would now fail
    again = beta_sweep(
        digits,
        [1.0, 10.0],
        objective="vib",
        store=tmp_path,
        progress=False,
        noise=LabelSmoothing(0.02),
        **kwargs,
    )
    pd.testing.assert_frame_equal(again, table)
    with pytest.raises(ValueError):
        beta_sweep(
            digits,
            [1.0, 10.0],
            objective="vib",
            store=tmp_path,
            progress=False,
            **{**kwargs, "epochs": 5},
        )


def test_cnn_encoder_lays_out_signals_and_images():
    """'cnn' takes 1-D signals (n, L) and images (n, H, W, C) to (n, d) means and scales
    (shapes only, by jax.eval_shape: no compilation)."""
    import jax

    for shape in [(3, 40), (3, 8, 8, 1)]:
        model = build_model("cnn", latent_dim=5, n_classes=10, width=4, input_ndim=len(shape))
        params = jax.eval_shape(lambda k, m=model, s=shape: m.init(k, s), jax.random.PRNGKey(0))
        x = jax.ShapeDtypeStruct(shape, np.float32)
        mu, sigma = jax.eval_shape(model.encode, params, x)
        assert mu.shape == sigma.shape == (3, 5)


def _with(dataset, **changes):
    return dataclasses.replace(dataset, **changes)


def test_bad_training_input_raises(digits):
    """beta < 0, out-of-range labels, empty data, mismatched latent sizes, bad noise/objective."""
    import jax

    from ntk_info._nt import load

    stax = load().stax
    wrong = stax.serial(stax.Dense(16), stax.Relu(), stax.Dense(7))  # 7 != 2 * latent_dim
    bad_classes = digits.classes_train.copy()
    bad_classes[0] = 12
    cases = [
        (dict(beta=-1.0), "beta"),
        (dict(beta=1.0, objective="ceb"), "objective"),
        (dict(beta=1.0, encoder=wrong, latent_dim=4), "mismatched latent sizes"),
        (dict(beta=1.0, noise=lambda c, x, k: np.eye(k)[c]), "p~"),
        (dict(beta=1.0, noise="smooth"), None),
    ]
    for kwargs, match in cases:
        error = TypeError if match is None else ValueError
        with pytest.raises(error, match=match):
            train(digits, **{"progress": False, **kwargs})
    empty = _with(
        digits,
        x_train=digits.x_train[:0],
        y_train=digits.y_train[:0],
        classes_train=digits.classes_train[:0],
    )
    with pytest.raises(ValueError, match="empty"):
        train(empty, beta=1.0, progress=False)
    with pytest.raises(ValueError, match="out of range"):
        train(_with(digits, classes_train=bad_classes), beta=1.0, progress=False)
    with pytest.raises(ValueError, match="onehot"):
        train(data.digits(50, 20, labels="parity"), beta=1.0, progress=False)
    del jax


def test_run_fingerprint_tells_teachers_apart_by_their_outputs(digits):
    """A teacher's predict is a closure (no pickle): the run fingerprint hashes its outputs on
    the first training inputs, so two teachers that differ give two runs (two checkpoints),
    while the same teacher function rebuilt gives the same run; temperatures count too."""
    from ntk_info.variational import TeacherNoise
    from ntk_info.variational.checkpoint import fingerprint

    w = np.random.default_rng(0).standard_normal((digits.x_train.shape[1], 10))

    def teacher(scale):
        return lambda x: scale * (x @ w)

    def run_id(noise):
        return fingerprint(digits, dict(beta=1.0, noise=noise))

    same = run_id(TeacherNoise(teacher(1.0))), run_id(TeacherNoise(teacher(1.0)))
    assert same[0] == same[1]
    assert run_id(TeacherNoise(teacher(2.0))) != same[0]
    assert run_id(TeacherNoise(teacher(1.0), temperature=2.0)) != same[0]
