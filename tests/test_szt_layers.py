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
