"""`_szt.train_layers` (every layer of the SZT-style nets over training) against the toolkit."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "paper_figures"))

import _szt  # noqa: E402

from ntk_info.architectures import fc  # noqa: E402


@pytest.mark.parametrize("activation, lr", [("erf", 0.5), ("relu", 0.1)])
def test_output_layer_equals_train_ensemble_outputs(activation, lr):
    """The recorded output layer equals `finite.train_ensemble`'s outputs (via `_szt.train`) for
    the same init, steps and learning rate: both run the same float32 gradient descent, so they
    agree to float32 rounding (1e-4 absolute on outputs of order 1 after 60 steps)."""
    setting = dict(networks=2, steps=60, records=4, activation=activation, lr=lr)
    record = _szt.train_layers(**setting)
    reference = _szt.train(**setting)
    np.testing.assert_array_equal(record.steps, reference.steps)
    assert record.layers[-1].shape == reference.train_outputs.shape
    np.testing.assert_allclose(record.layers[-1], reference.train_outputs, atol=1e-4, rtol=0)
    assert np.abs(record.layers[-1][:, -1] - record.layers[-1][:, 0]).max() > 1e-2  # it trained


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_hidden_layers_at_init_equal_stax_prefix_networks(activation):
    """At step 0 the hidden layers equal phi of the outputs of neural-tangents' own Dense stacks
    (`fc(1)` and `fc(2)` with the same W_std, b_std applied to the first layers' parameters),
    with phi evaluated by scipy / numpy: an implementation of the layers independent of
    `_szt.layer_activations`. float32 forward passes: 1e-5 tolerance."""
    import jax

    record = _szt.train_layers(networks=2, steps=1, records=2, activation=activation)
    x, _, _ = _szt.dataset()
    init_fn, _, _ = _szt.network(activation)
    keys = jax.random.split(jax.random.PRNGKey(_szt.SEED), 2)
    phi = erf if activation == "erf" else (lambda z: np.maximum(z, 0.0))
    std = dict(width=_szt.WIDTH, W_std=_szt.W_STD, b_std=_szt.B_STD, activation=activation)
    first = fc(1, out_dim=_szt.WIDTH, **std)[1]
    second = fc(2, out_dim=_szt.WIDTH, **std)[1]
    for net, key in enumerate(keys):
        params = init_fn(key, x.shape)[1]
        h1 = phi(np.asarray(first(params[:1], x.astype(np.float32)), dtype=np.float64))
        h2 = phi(np.asarray(second(params[:3], x.astype(np.float32)), dtype=np.float64))
        np.testing.assert_allclose(record.layers[0][net, 0], h1, atol=1e-5, rtol=0)
        np.testing.assert_allclose(record.layers[1][net, 0], h2, atol=1e-5, rtol=0)
    assert [a.shape[-1] for a in record.layers] == [_szt.WIDTH, _szt.WIDTH, 2]


def test_unknown_activation_is_refused():
    """A name outside the recorder's activations fails with a message naming the choices."""
    with pytest.raises(ValueError, match="activation"):
        _szt.train_layers(networks=1, steps=1, records=2, activation="gelu")


def test_trained_parameters_reproduce_the_recorded_layers():
    """`train_parameters` returns, at each recorded step, weights whose `layer_activations`
    equal `train_layers`' recorded layers (same init and float32 descent: 1e-5)."""
    setting = dict(networks=2, steps=40, records=3, activation="erf", lr=0.5)
    record = _szt.train_layers(**setting)
    steps, params = _szt.train_parameters(**setting)
    np.testing.assert_array_equal(steps, record.steps)
    x, _, _ = _szt.dataset()
    for s, at_step in enumerate(params):
        for net in range(2):
            one = [tuple(a[net] for a in layer) for layer in at_step]
            layers = _szt.layer_activations(one, x, "erf")
            for got, want in zip(layers, record.layers, strict=True):
                np.testing.assert_allclose(np.asarray(got), want[net, s], atol=1e-5, rtol=0)


def test_noisy_layer_samples_without_noise_and_with_noise():
    """beta = 0: every replica equals the deterministic layers (independent numpy evaluation
    against `layer_activations`). beta > 0: S_1 stays deterministic, the replicas of S_2 differ
    and their spread matches the first-order propagation of the layer-1 noise (the Jacobian of
    f_2 at S_1 times beta) at beta = 1e-3: median ratio within 2 %, every unit within 25 %."""
    _, params = _szt.train_parameters(networks=1, steps=5, records=2)
    one = [tuple(a[0] for a in layer) for layer in params[-1]]
    x = _szt.dataset()[0][:64]
    clean = [np.asarray(a) for a in _szt.layer_activations(one, x, "erf")]
    s1, s2, s3 = _szt.noisy_layer_samples(one, x, "erf", beta=0.0, replicas=3, seed=0)
    np.testing.assert_allclose(s1, clean[0], atol=1e-6)
    for got, want in ((s2, clean[1]), (s3, clean[2])):
        assert got.shape == (64, 3, want.shape[-1])
        np.testing.assert_allclose(got, np.repeat(want[:, None], 3, axis=1), atol=1e-6)
    beta = 1e-3
    n1, n2, _ = _szt.noisy_layer_samples(one, x, "erf", beta=beta, replicas=400, seed=1)
    np.testing.assert_allclose(n1, s1, atol=0)
    w, b = (np.asarray(a, np.float64) for a in one[2])
    pre = (_szt.W_STD / np.sqrt(w.shape[0])) * (s1 @ w) + _szt.B_STD * b
    slope = 2 / np.sqrt(np.pi) * np.exp(-(pre**2))  # erf'
    jac_rows = (_szt.W_STD / np.sqrt(w.shape[0])) * slope[:, None, :] * w[None]  # (n, 10, 10)
    predicted = beta * np.sqrt((jac_rows**2).sum(axis=1))  # std of each unit of S_2
    ratio = n2.std(axis=1, ddof=1) / predicted  # each a 400-sample std: ~3.5 % noise
    assert abs(np.median(ratio) - 1) < 0.02 and np.abs(ratio - 1).max() < 0.25
