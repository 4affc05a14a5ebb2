"""Mutual-information estimators of the IB-analysis-of-deep-nets literature, one call convention.

Every estimator is `name(x, z, **hyperparameters)` and returns the estimate of I(X;Z) in nats:
a float, or an `MIEstimate(value, se)` where the estimator has its own error bar (sample
propagation, the neural critics, the known-conditional bounds). `x` is (n, d_x) or (n,);
where a discrete-label variant exists, (n,) integer labels give I(Z;Y) instead. `z` is (n, d_z).
Input validation is shared (`_validate`): mismatched sample counts, NaN / inf, too few samples
for k neighbours, constant columns and b < 1 bits raise a ValueError that says what to fix.

Families (one module each; formulas and references in each module's docstring):
  discretized  `binning` (uniform / adaptive bins; per-neuron, per-layer, global or fixed
               bounds), `quantized_exact` (exact counting after b-bit quantization).
  kde          `kde_upper`, `kde_lower`: Kolchinsky-Tracey pairwise KL / Bhattacharyya bounds
               for T = h(X) + N(0, s I) (`ntk_info.mixture`).
  propagation  `sample_propagation`: Goldfeld et al.'s SP estimator (`ntk_info.mixture`).
  knn          `ksg`, `kozachenko_leonenko`, `weighted_kl` and the entropies
               `kozachenko_leonenko_entropy`, `weighted_kl_entropy`.
  compression  `compressed`: PCA or a small autoencoder, then KSG / KL / WKL (Butakov et al.).
  neural       `mine`, `nwj`, `infonce` with a trained critic (jax + optax); known-conditional
               `infonce_known_conditional`, `loo_known_conditional`, `mine_known_conditional`.
"""

from __future__ import annotations

import importlib
from typing import Any

from ntk_info._mixture_inputs import MIEstimate

_FAMILIES = {
    "binning": "discretized",
    "quantized_exact": "discretized",
    "kde_upper": "kde",
    "kde_lower": "kde",
    "sample_propagation": "propagation",
    "ksg": "knn",
    "kozachenko_leonenko": "knn",
    "weighted_kl": "knn",
    "kozachenko_leonenko_entropy": "knn",
    "weighted_kl_entropy": "knn",
    "compressed": "compression",
    "mine": "neural",
    "nwj": "neural",
    "infonce": "neural",
    "infonce_known_conditional": "neural",
    "loo_known_conditional": "neural",
    "mine_known_conditional": "neural",
}

__all__ = ["MIEstimate", *_FAMILIES]


def __getattr__(name: str) -> Any:
    if name in _FAMILIES:
        return getattr(importlib.import_module(f"ntk_info.estimators.{_FAMILIES[name]}"), name)
    raise AttributeError(f"module 'ntk_info.estimators' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
