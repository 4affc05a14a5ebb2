"""Cases shared by the information tests: a time grid, two small ensembles and NT's kernels."""

from __future__ import annotations

import numpy as np

from ntk_info import InfiniteEnsemble, architectures, data
from ntk_info._jax import float64

TIMES = np.array([0.0, 3.0, 30.0, 300.0, 3e3, 3e5])

#: Relative agreement between kernels of the ensemble (jitted, symmetrised) and of NT's kernel_fn
#: called directly: the ReLU kernel's arccos near correlation 1 amplifies float64 round-off to
#: ~1e-9 relative between evaluation orders.
KERNEL_RTOL = 1e-8


def three_class(n_train: int, n_test: int, seed: int = 0) -> data.Dataset:
    """Gaussian inputs in 6 dimensions with 3 noisy linearly separable classes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_train + n_test, 6))
    classes = np.argmax(x[:, :3] + 0.7 * rng.normal(size=(n_train + n_test, 3)), axis=1)
    return data.from_arrays(
        x[:n_train], classes[:n_train], x[n_train:], classes[n_train:], n_classes=3
    )


def nt_kernels(arch, x):
    """K and Theta of the training inputs straight from the stax kernel_fn, float64."""
    with float64():
        kernels = arch[2](x, None, ("nngp", "ntk"))
        return np.asarray(kernels.nngp, np.float64), np.asarray(kernels.ntk, np.float64)


def erf_k1_case():
    """fc(3) erf, Gaussian regression data, k = 1."""
    dataset = data.gaussian(40, 60, d_x=8, seed=1)
    arch = architectures.fc(3, activation="erf", W_std=1.5, b_std=0.2)
    return arch, InfiniteEnsemble(arch, dataset.x_train, dataset.y_train), dataset


def relu_k3_case():
    """fc(3) ReLU, 3-class one-hot labels, k = 3."""
    dataset = three_class(45, 80)
    arch = architectures.fc(3, activation="relu", W_std=1.4, b_std=0.1, out_dim=3)
    return arch, InfiniteEnsemble(arch, dataset.x_train, dataset.y_train), dataset
