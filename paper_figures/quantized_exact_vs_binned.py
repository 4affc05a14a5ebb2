"""Exact information plane of a quantized output layer against three binning schemes.

Lorenzen, Igel & Nielsen (ICLR 2022): with the layer quantized to b bits, X uniform over the
data and T = Q(f(X)), I(X;T) = H(T) and I(T;Y) are exact (counted, `estimators.quantized_exact`).
Here: the 4096 12-bit patterns (x in {-1, 1}^12, SZT's input set) with a fixed nonlinear binary
rule as labels, an erf net 12-10-10-2 (`architectures.fc`) trained by full-batch gradient descent
on squared loss (`finite.train_ensemble`, several independent networks), its output layer
quantized to 8 (and 4) bits with per-layer bounds. The binned estimates of the same layer use
the schemes of the literature (`estimators.binning`): 30 uniform bins per neuron (Shwartz-Ziv &
Tishby), 30 adaptive equal-mass bins (Lorenzen et al.'s alternative) and Saxe et al.'s fixed bin
size 0.07.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Claim, run
from _szt import dataset, train

from ntk_info import estimators

NAME = "quantized_exact_vs_binned"
SETTINGS = {
    "quick": dict(networks=1, steps=1000, records=8),
    "full": dict(networks=10, steps=8000, records=30),
}
SCHEMES = {
    "exact_8bit": ("quantized_exact", dict(bits=8, bounds="layer")),
    "exact_4bit": ("quantized_exact", dict(bits=4, bounds="layer")),
    "bin_uniform_neuron": ("binning", dict(n_bins=30, bounds="neuron")),
    "bin_adaptive": ("binning", dict(n_bins=30, strategy="adaptive")),
    "bin_saxe_0.07": ("binning", dict(bin_size=0.07)),
}


def make(scale: str):
    """Trains the networks, then every scheme's I(X;T) and I(T;Y) at every recorded step."""
    setting = SETTINGS[scale]
    x, labels, _ = dataset()
    trained = train(**setting)
    rows = []
    for net, outputs in enumerate(trained.train_outputs):
        for step, layer in zip(trained.steps, outputs, strict=True):
            accuracy = float(np.mean((layer[:, 1] > layer[:, 0]) == labels))
            for scheme, (name, options) in SCHEMES.items():
                fn = getattr(estimators, name)
                rows.append(
                    dict(
                        network=net,
                        step=int(step),
                        scheme=scheme,
                        ixt=fn(x, layer, **options),
                        ity=fn(labels, layer, **options),
                        accuracy=accuracy,
                    )
                )
    frame = pd.DataFrame(rows)
    return frame, _figure(frame)


def _mean(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """(step x scheme) means over networks."""
    return frame.groupby(["step", "scheme"])[column].mean().unstack()


def _figure(frame: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4))
    ixt, ity = _mean(frame, "ixt"), _mean(frame, "ity")
    for i, scheme in enumerate(SCHEMES):
        style = "-o" if scheme.startswith("exact") else "--o"
        axes[0].plot(ixt[scheme], ity[scheme], style, ms=3, color=f"C{i}", label=scheme)
        steps = ixt.index.to_numpy()
        axes[1].plot(np.maximum(steps, 0.5), ixt[scheme], style, ms=3, color=f"C{i}")
    axes[0].set_xlabel("I(X;T) (nats)")
    axes[0].set_ylabel("I(T;Y) (nats)")
    axes[0].set_title("information plane of the output layer", fontsize=10)
    axes[0].legend(fontsize=7)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("gradient-descent step (step 0 at 0.5)")
    axes[1].set_ylabel("I(X;T) (nats)")
    axes[1].set_title("I(X;T) over training", fontsize=10)
    fig.tight_layout()
    return fig


def claims(frame: pd.DataFrame) -> list[Claim]:
    """Exact compression and fit, disagreement between binning schemes, binning below exact."""
    ixt, ity = _mean(frame, "ixt"), _mean(frame, "ity")
    exact = ixt["exact_8bit"]
    binned = [s for s in SCHEMES if s.startswith("bin")]
    final = ixt.iloc[-1]
    peaks = {s: int(ixt[s].idxmax()) for s in SCHEMES}
    below = float((ixt[binned].max(axis=1) - exact).max())
    return [
        Claim(
            "the exact I(X;T) of the 8-bit output layer compresses (>= 1 nat below its peak)",
            bool(exact.max() - exact.iloc[-1] >= 1.0),
            f"peak {exact.max():.3f} nats at step {peaks['exact_8bit']}, final "
            f"{exact.iloc[-1]:.3f} (log 4096 = {np.log(4096):.3f})",
        ),
        Claim(
            "the exact I(T;Y) of the output layer rises to H(Y) = log 2 (within 0.02 nats)",
            bool(abs(ity["exact_8bit"].iloc[-1] - np.log(2)) < 0.02),
            f"I(T;Y) {ity['exact_8bit'].iloc[0]:.3f} -> {ity['exact_8bit'].iloc[-1]:.3f} nats",
        ),
        Claim(
            "binning schemes disagree: final I(X;T) spread > 1 nat, peaks at different steps",
            bool(
                final[binned].max() - final[binned].min() > 1.0
                and len({peaks[s] for s in binned}) >= 2
            ),
            "final "
            + ", ".join(f"{s} {final[s]:.3f}" for s in binned)
            + "; peak steps "
            + ", ".join(f"{s} {peaks[s]}" for s in binned),
        ),
        Claim(
            "every binned I(X;T) is below the exact 8-bit value at every step (coarser cells)",
            bool(below < 0),
            f"max over steps of (largest binned - exact) = {below:.3f} nats",
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
