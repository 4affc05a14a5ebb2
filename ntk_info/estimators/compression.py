"""Compressed MI estimation (Butakov et al.): reduce X and Z to a few dimensions, then k-NN.

MI is invariant under injective maps, so I(X;Z) = I(E_x(X); E_z(Z)) when the encoders E lose
nothing; in practice they are lossy (PCA, or an autoencoder trained to reconstruct), and the
paper bounds the error this causes. Then KSG, KL or WKL (`knn`) on the compressed vectors:

    I_hat = estimator(E_x(x), E_z(z)),  E = top-`dim` principal components, or the encoder of
    an MLP autoencoder d -> hidden -> dim -> hidden -> d trained with the L1 loss.

Integer labels x are not compressed (then I(E_z(Z); Y) with 'kl' or 'wkl').
"""

from __future__ import annotations

from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from ntk_info._checks import check_count, check_option
from ntk_info._jax import with_float64
from ntk_info.estimators import _mlp, knn
from ntk_info.estimators._validate import as_samples, is_labels, samples, standardize_columns

__all__ = ["compressed", "pca_encode", "autoencoder_encode"]

Method = Literal["pca", "autoencoder"]
Estimator = Literal["ksg", "kl", "wkl"]


def pca_encode(values: np.ndarray, dim: int) -> np.ndarray:
    """Projection of the centred (n, d) `values` on its top `dim` principal axes: (n, dim)."""
    centred = values - values.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:dim].T


def _reconstruction_loss(params, state, rows, data):
    """L1 reconstruction error of the autoencoder (encoder, decoder) on a batch."""
    batch = data[rows]
    recon = _mlp.apply_mlp(params[1], _mlp.apply_mlp(params[0], batch))
    return jnp.mean(jnp.abs(recon - batch)), state


@with_float64
def autoencoder_encode(
    values: np.ndarray,
    dim: int,
    *,
    hidden: int = 64,
    steps: int = 1000,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> np.ndarray:
    """Codes (n, dim) of a small MLP autoencoder trained on the standardised `values` (n, d).

    Encoder d -> hidden -> dim, decoder dim -> hidden -> d (ReLU), loss mean |x - D(E(x))|
    (Butakov et al.'s L1 loss), Adam.
    """
    data = jnp.asarray(standardize_columns(values))
    d = data.shape[1]
    key_e, key_d, key_t = jax.random.split(jax.random.PRNGKey(seed), 3)
    params = (_mlp.init_mlp(key_e, (d, hidden, dim)), _mlp.init_mlp(key_d, (dim, hidden, d)))

    params, _ = _mlp.train(
        _reconstruction_loss,
        params,
        jnp.asarray(0.0),
        data,
        n=data.shape[0],
        steps=check_count("steps", steps, 1, "training steps"),
        batch_size=min(check_count("batch_size", batch_size, 1, "rows per step"), data.shape[0]),
        learning_rate=learning_rate,
        key=key_t,
    )
    return np.asarray(_mlp.apply_mlp(params[0], data))


def _encode(values: np.ndarray, dim: int, method: str, seed: int, steps: int) -> np.ndarray:
    if values.shape[1] <= dim:
        return values
    if method == "pca":
        return pca_encode(values, dim)
    return autoencoder_encode(values, dim, seed=seed, steps=steps)


def compressed(
    x: Any,
    z: Any,
    *,
    dim: int = 4,
    method: Method = "pca",
    estimator: Estimator = "kl",
    k: int | None = None,
    steps: int = 1000,
    seed: int = 0,
) -> float:
    """I(X;Z) estimated after compressing X and Z to `dim` dimensions each, nats.

    Args:
      x: (n, d_x) samples, or (n,) integer labels (kept as they are).
      z: (n, d_z) samples.
      dim: dimensions kept per side (Butakov et al.'s IB runs: 4); sides with d <= dim are
        used as they are.
      method: 'pca' or 'autoencoder' (a small MLP trained for `steps` Adam steps).
      estimator: 'ksg', 'kl' (Kozachenko-Leonenko, the paper's IB choice) or 'wkl'.
      k: neighbours (default: 5; WKL's `default_wkl_k`).
      steps: autoencoder training steps.
      seed: autoencoder seed.

    Returns:
      float, nats.

    Reference: Butakov, Tolmachev, Malanchuk, Neopryatnaya, Frolov & Andreev, "Information
    Bottleneck Analysis of Deep Neural Networks via Lossy Compression", ICLR 2024, sec. 4-5.
    """
    dim = check_count("dim", dim, 1, "compressed dimensions")
    check_option("method", method, Method)
    check_option("estimator", estimator, Estimator)
    check_count("seed", seed, 0, "a PRNG seed")
    labels = is_labels(x)
    if labels:
        if estimator == "ksg":
            raise ValueError("`estimator='ksg'` needs continuous x; use 'kl' or 'wkl' with labels.")
        z = as_samples("z", z)
        codes_x = x
    else:
        x, z = samples(x, z, min_samples=2)
        codes_x = _encode(x, dim, method, seed, steps)
    codes_z = _encode(z, dim, method, seed + 1, steps)
    if estimator == "ksg":
        return knn.ksg(codes_x, codes_z, k=5 if k is None else k)
    if estimator == "kl":
        return knn.kozachenko_leonenko(codes_x, codes_z, k=5 if k is None else k)
    return knn.weighted_kl(codes_x, codes_z, k=k)
