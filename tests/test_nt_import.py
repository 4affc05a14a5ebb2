"""neural-tangents is imported without TensorFlow, and its TF features still work on demand."""

import subprocess
import sys
import textwrap


def test_kernels_are_computed_without_importing_tensorflow():
    """In a fresh interpreter: an ensemble's predictions need neither TensorFlow nor tf2jax;
    touching `neural_tangents.experimental` then imports the real subpackage."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from ntk_info import InfiniteEnsemble, architectures
        x = np.random.default_rng(0).normal(size=(8, 3))
        ens = InfiniteEnsemble(architectures.fc(2), x, x[:, :1])
        assert np.isfinite(ens.predict(x[:2], [0.0, 1.0]).var).all()
        assert "tensorflow" not in sys.modules and "tf2jax" not in sys.modules
        import neural_tangents as nt
        assert callable(nt.experimental.empirical_ntk_fn_tf)
        assert "tensorflow" in sys.modules
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")


def test_empirical_kernels_raise_no_abstract_shape_deprecation():
    """neural-tangents' empirical kernels call jnp.size / jnp.shape on `ShapeDtypeStruct`s,
    which JAX deprecates ("will be an error"); with those warnings as errors the Monte Carlo
    NTK (NTK-vector products) still computes, and equals the kernel computed with the shim
    switched off and the warning allowed (fresh interpreters: the shim acts at import)."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from ntk_info import _nt
        if sys.argv[1] == "off":
            _nt._tolerate_abstract_shapes = lambda: []
        from ntk_info import finite
        from ntk_info.architectures import fc
        kfn = finite.monte_carlo_kernel_fn(fc(2, width=64), n_samples=4, implementation=2)
        x = np.random.default_rng(0).standard_normal((5, 3))
        np.save(sys.argv[2], np.asarray(kfn(x, x, "ntk")))
        """
    )
    import tempfile

    import numpy as np

    # only these two deprecations become errors (other packages may warn on older stacks)
    STRICT = ["-W", "error:size requires:DeprecationWarning"]
    STRICT += ["-W", "error:shape requires:DeprecationWarning"]

    with tempfile.TemporaryDirectory() as tmp:
        on = subprocess.run(
            [sys.executable, *STRICT, "-c", code, "on", f"{tmp}/on"],
            capture_output=True,
            text=True,
        )
        assert on.returncode == 0, on.stderr[-2000:]
        off = subprocess.run(
            [sys.executable, "-c", code, "off", f"{tmp}/off"], capture_output=True, text=True
        )
        assert off.returncode == 0, off.stderr[-2000:]
        np.testing.assert_array_equal(np.load(f"{tmp}/on.npy"), np.load(f"{tmp}/off.npy"))
