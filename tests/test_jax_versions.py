"""neural-tangents 0.6.5 on every supported JAX: the compatibility names, and the numbers.

`data/floor_reference.npz` holds kernels (dense, erf, GELU residual with LayerNorm, conv with
pooling, the papers' cnn), `nt.batch`, `predict.gradient_descent_mse_ensemble`,
`monte_carlo_kernel_fn`, empirical kernels (implementations 1 and 2) and ensemble predictions,
computed on the floor stack (Python 3.11, jax 0.5.3) by `data/make_floor_reference.py`. Each
lane recomputes them on its own JAX: they must agree to 1e-9 relative to each array's scale
(float64 round-off differences between XLA versions are ~1e-15 there).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ntk_info._nt import _safe_map, _safe_zip, check_empirical_implementation

DATA = Path(__file__).with_name("data")


@pytest.fixture(scope="module")
def recomputed() -> dict[str, np.ndarray]:
    spec = importlib.util.spec_from_file_location("make_ref", DATA / "make_floor_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_arrays()


#: Arrays that go through neural-tangents' ReLU kernel. It evaluates arccos(rho) at
#: rho = 1 -+ eps on the diagonal, which keeps only half the digits (sqrt(eps) ~ 1.5e-8), and
#: deeper layers carry that into every entry. How rho rounds there depends on the device's
#: arithmetic (measured on an H200: 1e-8 relative against the CPU), so on an accelerator
#: these are compared at 5e-8; on CPUs every array agrees to 1e-9 on every JAX.
RELU_BASED = ("fc_relu", "cnn", "conv_pool", "batched", "nt_predict")


def _tolerance(name: str) -> float:
    import jax

    on_cpu = jax.default_backend() == "cpu"
    return 1e-9 if on_cpu or not name.startswith(RELU_BASED) else 5e-8


def test_kernels_and_predictions_equal_the_floor_stack_to_1e_9(recomputed):
    """Every array of the floor reference, recomputed on the running JAX."""
    with np.load(DATA / "floor_reference.npz") as saved:
        names = [name for name in saved.files if name != "jax_version"]
        assert sorted(names) == sorted(recomputed)
        for name in names:
            expected, got = saved[name], recomputed[name]
            scale = np.abs(expected[np.isfinite(expected)]).max()
            tol = _tolerance(name)
            np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale, err_msg=name)


def test_compatibility_layer_adds_exactly_the_names_the_running_jax_lacks():
    """In a fresh interpreter: on JAX 0.5.3 nothing is added; on newer JAX the removed names
    are; after `load()` every name neural-tangents imports exists, a second call adds nothing,
    and TensorFlow was not imported."""
    code = textwrap.dedent(
        """
        import jax, jax.core, sys
        from ntk_info._nt import load, restore_removed_jax_names
        first = restore_removed_jax_names()
        nt = load()
        assert restore_removed_jax_names() == []
        from jax.interpreters import ad
        for name in ("Jaxpr", "JaxprEqn", "Literal", "Primitive", "Var"):
            assert getattr(jax.core, name) is not None
        import jax.util
        assert jax.util.safe_map(lambda a, b: a + b, [1, 2], [3, 4]) == [4, 6]
        assert ad.zeros_like_p is not None
        assert "tensorflow" not in sys.modules
        print(jax.__version__, ",".join(first))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    version, _, added = out.stdout.strip().partition(" ")
    if version == "0.5.3":
        assert added == ""
    else:
        assert "jax.core.Jaxpr" in added and "jax.interpreters.ad.zeros_like_p" in added


def test_safe_map_and_safe_zip_insist_on_equal_lengths():
    """The stand-ins behave as the removed jax.util functions: lists, equal lengths."""
    assert _safe_map(lambda a, b: a * b, (1, 2, 3), [4, 5, 6]) == [4, 10, 18]
    assert _safe_zip("ab", [1, 2]) == [("a", 1), ("b", 2)]
    with pytest.raises(ValueError):
        _safe_map(lambda a, b: a, [1], [1, 2])
    with pytest.raises(ValueError):
        _safe_zip([1, 2], [1])


def test_empirical_implementation_3_is_refused_with_a_clear_error():
    """Implementation 3 (structured derivatives) is broken in neural-tangents 0.6.5."""
    from ntk_info.architectures import fc
    from ntk_info.finite import empirical_kernels

    with pytest.raises(ValueError, match="structured derivatives"):
        check_empirical_implementation(3)
    with pytest.raises(ValueError, match="implementation"):
        check_empirical_implementation(4)
    init_fn, apply_fn, _ = fc(2, width=8)
    import jax

    params = init_fn(jax.random.PRNGKey(0), (3, 2))[1]
    with pytest.raises(ValueError, match="structured derivatives"):
        empirical_kernels(apply_fn, params, np.ones((3, 2)), implementation=3)


def test_empirical_ntk_of_a_wide_network_approaches_the_analytic_ntk():
    """Implementations 1 and 2 agree to rounding, and at width 4096 the empirical NTK is within
    a few width^-1/2 of the infinite-width one (Jacot et al. 2018)."""
    import jax

    from ntk_info.architectures import fc
    from ntk_info.finite import empirical_kernels
    from ntk_info.kernels import kernel_matrices

    x = np.random.default_rng(0).normal(size=(5, 3))
    init_fn, apply_fn, kernel_fn = fc(2, width=4096)
    params = init_fn(jax.random.PRNGKey(0), x.shape)[1]
    one = empirical_kernels(apply_fn, params, x, implementation=1)
    two = empirical_kernels(apply_fn, params, x, implementation=2)
    np.testing.assert_allclose(one["ntk"], two["ntk"], rtol=1e-10, atol=1e-12)
    exact = kernel_matrices(kernel_fn, x)["ntk"]
    assert np.abs(one["ntk"] - exact).max() < 8 * np.abs(exact).max() / np.sqrt(4096)
