"""Variational IB and dual IB for deep networks: losses, label-noise models, training, sweeps.

VIB: rate + beta CE; VdualIB: rate + beta KL[q(y|z) || p~(y|x)] (IB convention, beta
multiplies the distortion); spec dualib.md §4. Training is jax + optax, resumable.
"""

from ntk_info.variational.encoders import Model, build_model
from ntk_info.variational.layerwise import (
    LayerwiseResult,
    layerwise_vs_end_to_end,
    train_end_to_end,
    train_layerwise,
)
from ntk_info.variational.losses import (
    batch_metrics,
    categorical_kl,
    cross_entropy,
    gaussian_kl,
    general_loss,
    rate,
    vdualib_loss,
    vib_loss,
)
from ntk_info.variational.noise import (
    ConfusionNoise,
    GaussianNoise,
    LabelSmoothing,
    TeacherNoise,
    confusion_matrix,
)
from ntk_info.variational.sweeps import beta_sweep
from ntk_info.variational.training import VariationalResult, train

__all__ = [
    "Model",
    "build_model",
    "batch_metrics",
    "categorical_kl",
    "cross_entropy",
    "gaussian_kl",
    "general_loss",
    "rate",
    "vdualib_loss",
    "vib_loss",
    "ConfusionNoise",
    "GaussianNoise",
    "LabelSmoothing",
    "TeacherNoise",
    "confusion_matrix",
    "VariationalResult",
    "train",
    "beta_sweep",
    "LayerwiseResult",
    "layerwise_vs_end_to_end",
    "train_end_to_end",
    "train_layerwise",
]
