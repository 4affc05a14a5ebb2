"""Saxe et al.'s KDE-bound information planes of a small tanh-like (erf) vs ReLU network.

Saxe et al. (ICLR 2018): with noise N(0, s I) added to a layer, the pairwise-KL upper and
Bhattacharyya lower bounds (`estimators.kde_upper`, `estimators.kde_lower`, Kolchinsky & Tracey)
bracket I(X;T) and I(T;Y); they report compression (a late drop in I(X;T)) for tanh layers and
none for ReLU layers. Here: the 12-bit SZT-style input set (`_szt`), an erf net and a ReLU net
12-10-10-2 trained by full-batch gradient descent, the 2-unit output layer (the only layer
`_szt` records), X uniform over a seeded subset of N inputs, noise variance s = 0.1 (Saxe).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Claim, run
from _szt import dataset, train

from ntk_info import estimators

NAME = "kde_planes"
NOISE = 0.1
SETTINGS = {
    "quick": dict(networks=1, steps=1000, records=6, n_points=512),
    "full": dict(networks=5, steps=8000, records=25, n_points=4096),
}


def make(scale: str):
    """KDE upper/lower bounds of I(X;T) and I(T;Y) at every recorded step, erf and relu."""
    setting = SETTINGS[scale]
    x, labels, _ = dataset()
    idx = np.sort(np.random.default_rng(0).choice(len(x), setting["n_points"], replace=False))
    rows = []
    for activation in ("erf", "relu"):
        trained = train(
            networks=setting["networks"],
            steps=setting["steps"],
            records=setting["records"],
            activation=activation,
            lr=0.5 if activation == "erf" else 0.1,
        )
        for net, outputs in enumerate(trained.train_outputs):
            for step, layer in zip(trained.steps, outputs, strict=True):
                t = layer[idx]
                rows.append(
                    dict(
                        activation=activation,
                        network=net,
                        step=int(step),
                        ixt_upper=estimators.kde_upper(x[idx], t, noise_variance=NOISE),
                        ixt_lower=estimators.kde_lower(x[idx], t, noise_variance=NOISE),
                        ity_upper=estimators.kde_upper(labels[idx], t, noise_variance=NOISE),
                        ity_lower=estimators.kde_lower(labels[idx], t, noise_variance=NOISE),
                        log_n=np.log(setting["n_points"]),
                    )
                )
    frame = pd.DataFrame(rows)
    return frame, _figure(frame)


def _figure(frame: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
    for ax, (activation, sub) in zip(axes, frame.groupby("activation"), strict=True):
        mean = sub.groupby("step").mean(numeric_only=True)
        for bound, style in (("upper", "-o"), ("lower", "--s")):
            ax.plot(mean[f"ixt_{bound}"], mean[f"ity_{bound}"], style, ms=4, label=f"KDE {bound}")
        ax.set_xlabel("I(X;T), nats")
        ax.set_ylabel("I(T;Y), nats")
        ax.set_title(f"{activation} net, output layer, s = {NOISE}", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def claims(frame: pd.DataFrame) -> list[Claim]:
    """Upper >= lower everywhere; does I(X;T) drop late in training (compression)?"""
    gaps = pd.concat(
        [frame["ixt_upper"] - frame["ixt_lower"], frame["ity_upper"] - frame["ity_lower"]]
    )
    out = [
        Claim(
            "KDE upper bound >= lower bound for I(X;T) and I(T;Y) at every step",
            bool((gaps >= -1e-9).all()),
            f"min gap {gaps.min():.4f} nats, max gap {gaps.max():.4f}",
        )
    ]
    for activation, sub in frame.groupby("activation"):
        upper = sub.groupby("step")["ixt_upper"].mean().to_numpy()
        drop = float(upper.max() - upper[-1])
        out.append(
            Claim(
                f"{activation}: report whether the I(X;T) upper bound drops from its peak "
                "(compression, Saxe: tanh yes, ReLU no)",
                True,
                f"peak {upper.max():.3f} nats, final {upper[-1]:.3f}, drop {drop:.3f} "
                f"({'compresses' if drop > 0.05 else 'no compression'})",
            )
        )
    return out


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
