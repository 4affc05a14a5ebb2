"""Named architectures: their kernels against closed forms, quadrature and hand-built stax nets."""

from __future__ import annotations

import numpy as np
import pytest

from ntk_info._jax import float64
from ntk_info.architectures import ACTIVATIONS, as_kernel_fn, cnn, fc


def _inputs(n=5, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def _kernels(kernel_fn, x):
    with float64():
        out = kernel_fn(x, None, ("nngp", "ntk"))
        return np.asarray(out.nngp), np.asarray(out.ntk)


def _first_layer(x, w_std, b_std):
    """Sigma_1 = W_std^2 x x'^T / d + b_std^2 (the NNGP = NTK of one Dense layer)."""
    return w_std**2 * x @ x.T / x.shape[1] + b_std**2


def test_fc_depth_two_relu_kernels_equal_the_arccosine_closed_form():
    """fc(2) ReLU: K = W^2/(2 pi) sqrt(S_aa S_bb)(sin th + (pi - th) cos th) + b^2 and
    Theta = K + S W^2 (pi - th)/(2 pi), S the first-layer kernel (Cho & Saul 2009; Jacot et
    al. 2018); float64 arithmetic on both sides, so 1e-10."""
    w_std, b_std = 1.3, 0.2
    x = _inputs()
    nngp, ntk = _kernels(fc(2, W_std=w_std, b_std=b_std)[2], x)
    sigma = _first_layer(x, w_std, b_std)
    norms = np.sqrt(np.outer(np.diag(sigma), np.diag(sigma)))
    theta = np.arccos(np.clip(sigma / norms, -1, 1))
    k = w_std**2 / (2 * np.pi) * norms * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    k += b_std**2
    np.testing.assert_allclose(nngp, k, rtol=1e-10)
    np.testing.assert_allclose(
        ntk, k + sigma * w_std**2 * (np.pi - theta) / (2 * np.pi), rtol=1e-10
    )


def test_fc_depth_two_erf_nngp_equals_the_arcsine_closed_form():
    """fc(2) erf: K = W^2 (2/pi) arcsin(2 S_ab / sqrt((1 + 2 S_aa)(1 + 2 S_bb))) + b^2
    (Williams 1997); 1e-10."""
    w_std, b_std = 1.1, 0.3
    x = _inputs(seed=1)
    nngp, _ = _kernels(fc(2, activation="erf", W_std=w_std, b_std=b_std)[2], x)
    sigma = _first_layer(x, w_std, b_std)
    diag = 1 + 2 * np.diag(sigma)
    k = w_std**2 * 2 / np.pi * np.arcsin(2 * sigma / np.sqrt(np.outer(diag, diag))) + b_std**2
    np.testing.assert_allclose(nngp, k, rtol=1e-10)


def test_fc_depth_two_tanh_nngp_matches_two_dimensional_gauss_hermite_quadrature():
    """fc(2) tanh (NT's degree-32 quadrature) = W^2 E[tanh(u) tanh(v)] + b^2 with (u, v) ~
    N(0, S_{ab} block), evaluated here by a 300 x 300 Gauss-Hermite rule on the Cholesky factor
    (converged to ~1e-10 at these variances). Inputs have |x|^2 / d = 1, so the pre-activation
    variance is W^2 + b^2 = 1.01, where degree 32 is accurate to ~1e-5: allowed 2e-5. (At
    variance ~3.6 the degree-32 rule is off by ~3e-3; see architectures._activation_layer.)"""
    w_std, b_std = 1.0, 0.1
    x = _inputs(n=4, seed=2)
    x *= np.sqrt(x.shape[1] / np.sum(x * x, axis=1, keepdims=True))
    nngp, _ = _kernels(fc(2, activation="tanh", W_std=w_std, b_std=b_std)[2], x)
    sigma = _first_layer(x, w_std, b_std)
    nodes, weights = np.polynomial.hermite_e.hermegauss(300)
    weights = np.outer(weights, weights) / weights.sum() ** 2
    expected = np.empty_like(sigma)
    for a in range(len(x)):
        for b in range(len(x)):
            block = sigma[np.ix_([a, b], [a, b])] + (a == b) * 1e-12 * np.eye(2)
            lower = np.linalg.cholesky(block)
            u = lower[0, 0] * nodes[:, None] + 0 * nodes[None, :]
            v = lower[1, 0] * nodes[:, None] + lower[1, 1] * nodes[None, :]
            expected[a, b] = np.sum(weights * np.tanh(u) * np.tanh(v))
    np.testing.assert_allclose(nngp, w_std**2 * expected + b_std**2, rtol=2e-5)


def test_fc_depth_one_is_the_linear_kernel():
    """fc(1) is one Dense layer: K = Theta = W^2 x x'^T / d + b^2."""
    x = _inputs()
    nngp, ntk = _kernels(fc(1, W_std=0.7, b_std=0.4)[2], x)
    np.testing.assert_allclose(nngp, _first_layer(x, 0.7, 0.4), rtol=1e-12)
    np.testing.assert_allclose(ntk, nngp, rtol=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fc_equals_hand_built_stax_serial_and_kernels_ignore_width(activation):
    """fc(3, activation) = stax.serial(Dense, act, Dense, act, Dense) built by hand, for every
    named activation; the kernels do not depend on `width`; init_fn maps (n, d) to (n, out_dim)."""
    import jax.numpy as jnp

    from ntk_info._nt import load as load_neural_tangents

    stax = load_neural_tangents().stax

    layers = {
        "relu": stax.Relu,
        "erf": stax.Erf,
        "gelu": stax.Gelu,
        "tanh": lambda: stax.ElementwiseNumerical(jnp.tanh, deg=32),
    }
    x = _inputs()
    init_fn, _, kernel_fn = fc(3, width=7, activation=activation, W_std=1.2, b_std=0.3, out_dim=4)
    dense = dict(W_std=1.2, b_std=0.3)
    _, _, reference = stax.serial(
        stax.Dense(64, **dense),
        layers[activation](),
        stax.Dense(64, **dense),
        layers[activation](),
        stax.Dense(4, **dense),
    )
    for ours, theirs in zip(_kernels(kernel_fn, x), _kernels(reference, x), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    import jax

    output_shape, _ = init_fn(jax.random.PRNGKey(0), x.shape)
    assert tuple(output_shape) == (len(x), 4)


def test_cnn_equals_hand_built_stax_and_maps_images_to_out_dim():
    """cnn() = Conv-act-Conv-act-Flatten-Dense built by hand (NHWC images)."""
    import jax

    from ntk_info._nt import load as load_neural_tangents

    stax = load_neural_tangents().stax

    x = np.random.default_rng(3).normal(size=(3, 5, 5, 2))
    init_fn, apply_fn, kernel_fn = cnn(channels=3, filter_size=3, out_dim=2, W_std=1.1, b_std=0.2)
    conv = dict(out_chan=8, filter_shape=(3, 3), padding="SAME", W_std=1.1, b_std=0.2)
    _, _, reference = stax.serial(
        stax.Conv(**conv),
        stax.Relu(),
        stax.Conv(**conv),
        stax.Relu(),
        stax.Flatten(),
        stax.Dense(2, W_std=1.1, b_std=0.2),
    )
    for ours, theirs in zip(_kernels(kernel_fn, x), _kernels(reference, x), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    output_shape, params = init_fn(jax.random.PRNGKey(0), x.shape)
    assert tuple(output_shape) == (3, 2)
    assert apply_fn(params, x).shape == (3, 2)


def test_as_kernel_fn_accepts_a_triple_or_a_kernel_fn():
    """A triple gives its third element; a callable is returned as is."""
    triple = fc(2)
    assert as_kernel_fn(triple) is triple[2]
    assert as_kernel_fn(list(triple)) is triple[2]
    assert as_kernel_fn(triple[2]) is triple[2]


@pytest.mark.parametrize(
    ("call", "exception", "match"),
    [
        (lambda: fc(0), ValueError, "depth"),
        (lambda: fc(2.5), ValueError, "depth"),
        (lambda: fc(2, width=0), ValueError, "width"),
        (lambda: fc(2, out_dim=0), ValueError, "out_dim"),
        (lambda: fc(2, W_std=0.0), ValueError, "W_std"),
        (lambda: fc(2, b_std=-0.1), ValueError, "b_std"),
        (lambda: fc(2, b_std=float("nan")), ValueError, "b_std"),
        (lambda: fc(2, activation="sigmoid"), ValueError, "activation"),
        (lambda: cnn(channels=0), ValueError, "channels"),
        (lambda: cnn(W_std=-1.0), ValueError, "W_std"),
        (lambda: as_kernel_fn(3), TypeError, "kernel_fn"),
        (lambda: as_kernel_fn(fc(2)[:2]), TypeError, "kernel_fn"),
    ],
)
def test_bad_architecture_arguments_raise_naming_the_argument(call, exception, match):
    """Each bad argument raises ValueError/TypeError whose message names it."""
    with pytest.raises(exception, match=match):
        call()
