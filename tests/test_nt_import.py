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
