"""backend='jax' (jitted eigh and per-time products on the JAX device, here the CPU) against
backend='numpy' (LAPACK/BLAS): the same predictions to 1e-10, with device buffers that do not
grow with the number of times.

The two backends share only the kernels; the eigendecompositions (scipy syevr against XLA's
eigh) and every product are computed independently, so agreement to 1e-10 relative to the
kernel's scale checks both. Eigenvectors may differ by signs or rotations within degenerate
eigenspaces; every prediction is invariant to those.
"""

from __future__ import annotations

import numpy as np
import pytest

from ntk_info import InfiniteEnsemble, _moments_jax
from ntk_info.architectures import cnn, fc
from ntk_info.information import information_plane

TOL = 1e-10


def _problem(n=40, m=25, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, k)), rng.normal(size=(m, d))


def _times(n, k):
    return np.concatenate([[0.0], np.logspace(-3, 4, 21) * n * k, [np.inf]])


def _pair(x, y, **kwargs):
    return (
        InfiniteEnsemble(fc(3)[2], x, y, backend="numpy", **kwargs),
        InfiniteEnsemble(fc(3)[2], x, y, backend="jax", **kwargs),
    )


def _close(actual, expected, scale):
    np.testing.assert_allclose(actual, expected, rtol=TOL, atol=TOL * scale)


@pytest.mark.parametrize("mode", ["ntk", "nngp"])
@pytest.mark.parametrize("diag_reg", [0.0, 1e-3])
def test_jax_backend_equals_numpy_backend_for_predict_and_full_covariance(mode, diag_reg):
    """mean, var and cov on test inputs at t = 0 ... inf, both modes, with and without ridge."""
    x, y, x_test = _problem()
    ens_np, ens_jax = _pair(x, y, mode=mode, diag_reg=diag_reg)
    assert (ens_np.backend, ens_jax.backend) == ("numpy", "jax")
    t = _times(*y.shape)
    a, b = ens_np.predict(x_test, t, full_cov=True), ens_jax.predict(x_test, t, full_cov=True)
    scale = float(np.abs(a.cov[0]).max())
    for name in ("mean", "var", "cov"):
        got = getattr(b, name)
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        _close(got, getattr(a, name), scale if name != "mean" else np.abs(a.mean).max())
    _close(ens_jax.eigenvalues, ens_np.eigenvalues, ens_np.eigenvalues.max())
    assert ens_jax.spectrum.trace == pytest.approx(ens_np.spectrum.trace, rel=1e-13)


@pytest.mark.parametrize("mode", ["ntk", "nngp"])
def test_jax_backend_equals_numpy_backend_on_training_points_and_row_subsets(mode):
    """predict_train over all points and over a row subset (which equals those rows of all)."""
    x, y, _ = _problem()
    ens_np, ens_jax = _pair(x, y, mode=mode)
    t = _times(*y.shape)
    rows = np.array([3, 0, 17, 39, 8])
    full_np = ens_np.predict_train(t, full_cov=True)
    scale = float(np.abs(full_np.cov[0]).max())
    for got in (ens_jax.predict_train(t, full_cov=True), ens_np.predict_train(t, full_cov=True)):
        _close(got.mean, full_np.mean, np.abs(y).max())
        _close(got.cov, full_np.cov, scale)
    for ens in (ens_np, ens_jax):
        sub = ens.predict_train(t, rows=rows, full_cov=True)
        _close(sub.mean, full_np.mean[:, rows], np.abs(y).max())
        _close(sub.var, full_np.var[:, rows], scale)
        _close(sub.cov, full_np.cov[:, rows][:, :, rows], scale)


def test_rotated_diagonal_and_spectrum_agree_between_backends():
    """diag(V^T M V) for a random symmetric M: basis-invariant where eigenvalues are simple,
    compared with the numpy backend's and with an explicit einsum."""
    x, y, _ = _problem()
    ens_np, ens_jax = _pair(x, y)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(40, 40))
    matrix = a + a.T
    evecs = ens_np.spectrum.eigenvectors
    expected = np.einsum("ia,ij,ja->a", evecs, matrix, evecs)
    _close(ens_np.rotated_diagonal(matrix), expected, np.abs(expected).max())
    _close(ens_jax.rotated_diagonal(matrix), expected, np.abs(expected).max())
    _close(ens_jax.spectrum.k_rot_diag, ens_np.spectrum.k_rot_diag, ens_np.spectrum.trace)
    assert np.allclose(np.abs(ens_jax.spectrum.y_rot), np.abs(ens_np.spectrum.y_rot), atol=1e-9)


def test_jax_backend_on_a_cnn_with_float32_requested():
    """A cnn's predictions agree; use_float64=False runs the device path in float32 (~1e-4)."""
    rng = np.random.default_rng(2)
    x, x_test = rng.normal(size=(12, 4, 4, 1)), rng.normal(size=(5, 4, 4, 1))
    y = rng.normal(size=(12, 2))
    kernel_fn = cnn(channels=4, filter_size=2)[2]
    t = np.array([0.0, 3.0, 30.0, np.inf])
    ref = InfiniteEnsemble(kernel_fn, x, y, backend="numpy").predict(x_test, t)
    got = InfiniteEnsemble(kernel_fn, x, y, backend="jax").predict(x_test, t)
    _close(got.mean, ref.mean, np.abs(ref.mean).max())
    _close(got.var, ref.var, ref.var.max())
    f32 = InfiniteEnsemble(kernel_fn, x, y, backend="jax", use_float64=False).predict(x_test, t)
    np.testing.assert_allclose(f32.mean, ref.mean, atol=1e-3 * np.abs(ref.mean).max())


def test_jax_chunks_compile_once_and_their_buffers_do_not_grow_with_the_number_of_times():
    """The per-time products run in fixed chunks of CHUNK_TIMES times: grids of 3, 40 and 400
    times reuse one compiled program, whose temporary buffers are a few (m, n) arrays."""
    x, y, x_test = _problem(n=60, m=30)
    ens = InfiniteEnsemble(fc(3)[2], x, y, backend="jax")
    fn = _moments_jax._jitted()["chunk_moments"]
    before = fn._cache_size()
    for n_times in (3, 40, 400):
        ens.predict(x_test, np.logspace(-2, 3, n_times))
    assert fn._cache_size() - before <= 1
    m, n, c = len(x_test), len(x), _moments_jax.CHUNK_TIMES
    gv = np.ones((c, n))
    with _float64():
        import jax.numpy as jnp

        args = (gv, gv, ens._test_cache[1]["proj"], jnp.ones((n, 3)), jnp.ones((n, n)))
        lowered = fn.lower(
            *args,
            ens._test_cache[1]["q"],
            jnp.ones(m),
            jnp.ones((1, 1)),
            ntk=True,
            with_q=True,
            full_cov=False,
        )
        temp = lowered.compile().memory_analysis().temp_size_in_bytes
    # work arrays: W, W K~ (m, n) and the chunk's outputs; far below T m n for T = 400
    assert temp <= 8 * (4 * m * n + 4 * c * m * 3 + c * n)


def _float64():
    from ntk_info._jax import float64

    return float64()


def test_information_plane_is_the_same_on_both_backends():
    """Every numeric column of the plane agrees (the sampled bounds use the same draws)."""
    rng = np.random.default_rng(3)
    x, x_test = rng.normal(size=(30, 5)), rng.normal(size=(40, 5))
    labels = rng.integers(0, 3, size=70)
    onehot = np.eye(3)[labels]
    t = np.array([0.0, 10.0, 1e3, np.inf])
    planes = [
        information_plane(
            InfiniteEnsemble(fc(2)[2], x, onehot[:30], backend=b), x_test, onehot[30:], t
        )
        for b in ("numpy", "jax")
    ]
    numeric = planes[0].select_dtypes("number").columns
    for column in numeric:
        a, b = planes[0][column].to_numpy(), planes[1][column].to_numpy()
        finite = np.isfinite(a)
        assert np.array_equal(finite, np.isfinite(b)), column
        np.testing.assert_allclose(b[finite], a[finite], rtol=1e-8, atol=1e-8, err_msg=column)


def test_auto_backend_follows_the_device_jax_computes_on(monkeypatch):
    """'auto' is 'numpy' on a CPU, 'jax' when the default backend is a GPU or TPU, and 'numpy'
    again inside jax.default_device(cpu) there (the same rule as the mixture engine's path)."""
    import jax

    from ntk_info import mixture
    from ntk_info.ensemble import resolve_backend

    if jax.default_backend() == "cpu":
        assert resolve_backend("auto") == "numpy"
    for backend in ("gpu", "tpu"):
        monkeypatch.setattr(jax, "default_backend", lambda backend=backend: backend)
        assert resolve_backend("auto") == "jax"
        assert mixture.resolve_path("auto") == "matmul"
        with jax.default_device(jax.devices("cpu")[0]):
            assert resolve_backend("auto") == "numpy"
    assert resolve_backend("jax") == "jax"
    with pytest.raises(ValueError, match="backend"):
        resolve_backend("cuda")


def test_clear_cache_recomputes_the_same_predictions():
    """After clear_cache the test kernels are recomputed: the same numbers on both backends."""
    x, y, x_test = _problem()
    t = np.array([0.0, 5.0, np.inf])
    for ens in _pair(x, y):
        first = ens.predict(x_test, t)
        ens.clear_cache()
        again = ens.predict(x_test, t)
        np.testing.assert_array_equal(again.mean, first.mean)
        np.testing.assert_array_equal(again.var, first.var)
