"""Saxe et al.'s KDE-bound information planes of every layer of an erf vs a ReLU network.

Saxe et al. (ICLR 2018): with noise N(0, s I) added to a layer, the pairwise-KL upper and
Bhattacharyya lower bounds (`estimators.kde_upper`, `estimators.kde_lower`, Kolchinsky & Tracey)
bracket I(X;T) and I(T;Y); they report compression (a late drop in I(X;T)) for tanh layers and
none for ReLU layers. Here: the 12-bit SZT-style input set (`_szt`), an erf net and a ReLU net
12-10-10-2 trained by full-batch gradient descent, every layer (`_szt.train_layers`: both
hidden layers after their activation, and the 2-unit output layer), X uniform over a seeded
subset of N inputs, noise variance s = 0.1 (Saxe).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Claim, run
from _szt import LAYER_NAMES, dataset, train_layers

from ntk_info import estimators

NAME = "kde_planes"
NOISE = 0.1
LEARNING_RATES = {"erf": 0.5, "relu": 0.1}
COMPRESSION_NATS = 0.05  # a drop of the I(X;T) upper bound from its peak larger than this
SETTINGS = {
    "quick": dict(networks=1, steps=1000, records=6, n_points=512),
    "full": dict(networks=4, steps=8000, records=20, n_points=4096),
}


def _bounds(x: np.ndarray, labels: np.ndarray, t: np.ndarray, log_n: float) -> dict:
    """KDE upper and lower bounds of I(X;T) and I(T;Y) of one layer's activations t."""
    return dict(
        ixt_upper=estimators.kde_upper(x, t, noise_variance=NOISE),
        ixt_lower=estimators.kde_lower(x, t, noise_variance=NOISE),
        ity_upper=estimators.kde_upper(labels, t, noise_variance=NOISE),
        ity_lower=estimators.kde_lower(labels, t, noise_variance=NOISE),
        log_n=log_n,
    )


def make(scale: str):
    """KDE bounds of I(X;T) and I(T;Y) of every layer at every recorded step, erf and relu."""
    setting = SETTINGS[scale]
    x, labels, _ = dataset()
    idx = np.sort(np.random.default_rng(0).choice(len(x), setting["n_points"], replace=False))
    rows = []
    for activation, lr in LEARNING_RATES.items():
        record = train_layers(
            networks=setting["networks"],
            steps=setting["steps"],
            records=setting["records"],
            activation=activation,
            lr=lr,
        )
        for layer, activations in zip(record.names, record.layers, strict=True):
            for net, per_step in enumerate(activations):
                for step, t in zip(record.steps, per_step, strict=True):
                    bounds = _bounds(x[idx], labels[idx], t[idx], np.log(setting["n_points"]))
                    rows.append(
                        dict(activation=activation, layer=layer, network=net, step=int(step))
                        | bounds
                    )
    frame = pd.DataFrame(rows)
    return frame, _figure(frame)


def _figure(frame: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (activation, sub) in zip(axes, frame.groupby("activation"), strict=True):
        for i, layer in enumerate(LAYER_NAMES):
            mean = sub[sub["layer"] == layer].groupby("step").mean(numeric_only=True)
            for bound, style in (("upper", "-o"), ("lower", ":")):
                ax.plot(
                    mean[f"ixt_{bound}"],
                    mean[f"ity_{bound}"],
                    style,
                    ms=3,
                    color=f"C{i}",
                    label=f"{layer}, KDE {bound}",
                )
            first = mean.iloc[0]
            ax.plot(first["ixt_upper"], first["ity_upper"], "k^", ms=5)
        ax.set_xlabel("I(X;T), nats")
        ax.set_ylabel("I(T;Y), nats")
        ax.set_title(f"{activation} net, s = {NOISE} (triangle: step 0)", fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _compression(sub: pd.DataFrame) -> tuple[float, int, float, float]:
    """(peak, step of the peak, final, drop) of the network-mean I(X;T) upper bound."""
    upper = sub.groupby("step")["ixt_upper"].mean()
    return (
        float(upper.max()),
        int(upper.idxmax()),
        float(upper.iloc[-1]),
        float(upper.max() - upper.iloc[-1]),
    )


def claims(frame: pd.DataFrame) -> list[Claim]:
    """Per layer: upper >= lower at every step; per layer and activation: does I(X;T) compress?"""
    out = []
    for layer in LAYER_NAMES:
        sub = frame[frame["layer"] == layer]
        gaps = pd.concat([sub["ixt_upper"] - sub["ixt_lower"], sub["ity_upper"] - sub["ity_lower"]])
        out.append(
            Claim(
                f"{layer}: KDE upper bound >= lower bound for I(X;T) and I(T;Y) at every step",
                bool((gaps >= -1e-9).all()),
                f"min gap {gaps.min():.4f} nats, max gap {gaps.max():.4f}",
            )
        )
    for activation in LEARNING_RATES:
        expected = "compresses" if activation == "erf" else "does not compress"
        for layer in LAYER_NAMES:
            sub = frame[(frame["activation"] == activation) & (frame["layer"] == layer)]
            peak, peak_step, final, drop = _compression(sub)
            found = "compresses" if drop > COMPRESSION_NATS else "does not compress"
            verdict = "reproduced" if found == expected else "not reproduced"
            out.append(
                Claim(
                    f"{activation} {layer}: report whether the I(X;T) upper bound drops from its "
                    f"peak (Saxe: a {'tanh' if activation == 'erf' else 'ReLU'} layer {expected})",
                    True,
                    f"peak {peak:.3f} nats at step {peak_step}, final {final:.3f}, drop "
                    f"{drop:.3f} ({found}, threshold {COMPRESSION_NATS}; {verdict})",
                )
            )
    return out


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
