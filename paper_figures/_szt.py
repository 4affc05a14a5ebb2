"""The 12-bit input set of Shwartz-Ziv & Tishby with a fixed binary rule, and a trained net on it.

Shared by the issue-10 figures that follow information over the training of a small network:
x in {-1, 1}^12 (all 4096 patterns, as in SZT), labels from a fixed nonlinear rule (the SZT
labels are not distributed with the toolkit), targets +-1 one-hot; an erf (tanh-like) or relu
net 12-10-10-2 (`architectures.fc`) trained by full-batch gradient descent on squared loss
(`finite.train_ensemble`), its output layer recorded at log-spaced steps.
"""

from __future__ import annotations

import itertools

import numpy as np

from ntk_info import finite
from ntk_info.architectures import fc


def dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (4096, 12) in {-1, 1}, labels (4096,) in {0, 1}, targets (4096, 2) in {-1, 1})."""
    x = np.array(list(itertools.product([-1.0, 1.0], repeat=12)))
    w = np.random.default_rng(0).standard_normal(12)
    score = np.tanh(x @ w / 2) + 0.5 * np.sin(x[:, :3].sum(1))
    labels = (score > np.median(score)).astype(int)
    return x, labels, np.stack([1 - 2 * labels, 2 * labels - 1], axis=1).astype(float)


def train(
    *, networks: int, steps: int, records: int, activation: str = "erf", lr: float = 0.5
) -> finite.TrainedEnsemble:
    """`networks` independently initialised nets trained on `dataset()`; outputs recorded at
    step 0 and `records - 1` log-spaced steps up to `steps`."""
    x, _, targets = dataset()
    init_fn, apply_fn, _ = fc(3, width=10, activation=activation, out_dim=2)
    record = np.geomspace(1, steps, records - 1).round().astype(int)
    return finite.train_ensemble(
        init_fn,
        apply_fn,
        x,
        targets,
        x[:1],
        n_networks=networks,
        learning_rate=lr,
        steps=steps,
        record_steps=np.unique(np.r_[0, record]),
        seed=0,
    )
