"""Exact information planes of every quantized layer against three binning schemes.

Lorenzen, Igel & Nielsen (ICLR 2022): with the layer quantized to b bits, X uniform over the
data and T = Q(f(X)), I(X;T) = H(T) and I(T;Y) are exact (counted, `estimators.quantized_exact`);
they report that with exact MI every layer fits, the output layer always compresses and
hidden-layer compression depends on the activation. Here: the 4096 12-bit patterns (x in
{-1, 1}^12, SZT's input set) with a fixed nonlinear binary rule as labels, an erf and a ReLU net
12-10-10-2 (`architectures.fc`) trained by full-batch gradient descent on squared loss (several
independent networks), every layer (`_szt.train_layers`: both hidden layers after their
activation, and the output) quantized to 8 (and 4) bits with per-layer bounds. The binned
estimates of the same layers use the schemes of the literature (`estimators.binning`): 30
uniform bins per neuron (Shwartz-Ziv & Tishby), 30 adaptive equal-mass bins (Lorenzen et al.'s
alternative) and Saxe et al.'s fixed bin size 0.07.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Claim, run
from _szt import LAYER_NAMES, dataset, train_layers

from ntk_info import estimators

NAME = "quantized_exact_vs_binned"
LEARNING_RATES = {"erf": 0.5, "relu": 0.1}
COMPRESSION_NATS = 0.1  # a drop of the exact 8-bit I(X;T) from its peak larger than this
FIT_NATS = 0.01  # a rise of the exact 8-bit I(T;Y) from step 0 larger than this
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
BINNED = [s for s in SCHEMES if s.startswith("bin")]
BIN_STYLES = ("--", ":", "-.")


def _layer_rows(x: np.ndarray, labels: np.ndarray, t: np.ndarray, accuracy: float) -> list:
    """Every scheme's I(X;T) and I(T;Y) of one layer's activations t (n, width)."""
    rows = []
    for scheme, (name, options) in SCHEMES.items():
        fn = getattr(estimators, name)
        rows.append(
            dict(scheme=scheme, ixt=fn(x, t, **options), ity=fn(labels, t, **options))
            | dict(accuracy=accuracy)
        )
    return rows


def make(scale: str):
    """Trains erf and relu nets, then every scheme's I(X;T), I(T;Y) of every layer and step."""
    setting = SETTINGS[scale]
    x, labels, _ = dataset()
    rows = []
    for activation, lr in LEARNING_RATES.items():
        record = train_layers(**setting, activation=activation, lr=lr)
        outputs = record.layers[-1]
        for layer, activations in zip(record.names, record.layers, strict=True):
            for net, per_step in enumerate(activations):
                for s, (step, t) in enumerate(zip(record.steps, per_step, strict=True)):
                    f = outputs[net, s]
                    accuracy = float(np.mean((f[:, 1] > f[:, 0]) == labels))
                    key = dict(activation=activation, layer=layer, network=net, step=int(step))
                    rows += [key | row for row in _layer_rows(x, labels, t, accuracy)]
    frame = pd.DataFrame(rows)
    return frame, _figure(frame)


def _mean(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """(step x scheme) means over networks of one (activation, layer) sub-frame."""
    return frame.groupby(["step", "scheme"])[column].mean().unstack()


def _figure(frame: pd.DataFrame):
    import matplotlib.pyplot as plt

    activations = list(LEARNING_RATES)
    fig, axes = plt.subplots(len(activations), 3, figsize=(13, 3.6 * len(activations)))
    for row, activation in zip(axes, activations, strict=True):
        sub = frame[frame["activation"] == activation]
        for i, layer in enumerate(LAYER_NAMES):
            ixt, ity = (_mean(sub[sub["layer"] == layer], c) for c in ("ixt", "ity"))
            for scheme in ("exact_8bit", "exact_4bit"):
                style = "-o" if scheme == "exact_8bit" else "--s"
                row[0].plot(ixt[scheme], ity[scheme], style, ms=3, color=f"C{i}")
            row[0].plot([], [], "-", color=f"C{i}", label=layer)
            steps = np.maximum(ixt.index.to_numpy(), 0.5)
            row[1].plot(steps, ixt["exact_8bit"], "-o", ms=3, color=f"C{i}", label=layer)
            for style, scheme in zip(BIN_STYLES, BINNED, strict=True):
                row[2].plot(steps, ixt[scheme], style, color=f"C{i}")
        for style, scheme in zip(BIN_STYLES, BINNED, strict=True):
            row[2].plot([], [], style, color="k", label=f"{scheme} (colour: layer)")
        row[0].set_title(f"{activation}: exact planes (8-bit solid, 4-bit dashed)", fontsize=9)
        row[0].set_xlabel("I(X;T) (nats)")
        row[0].set_ylabel("I(T;Y) (nats)")
        row[1].set_title(f"{activation}: exact 8-bit I(X;T) over training", fontsize=9)
        row[2].set_title(f"{activation}: binned I(X;T) over training", fontsize=9)
        for ax in row[1:]:
            ax.set_xscale("log")
            ax.set_xlabel("gradient-descent step (step 0 at 0.5)")
            ax.set_ylabel("I(X;T) (nats)")
        row[0].legend(fontsize=7)
        row[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _correctness(frame: pd.DataFrame) -> list[Claim]:
    """Checks that hold by construction: ranges, data processing, nested 4-bit cells."""
    dpi = float((frame["ity"] - frame["ixt"]).max())
    wide = frame.pivot_table(
        index=["activation", "layer", "network", "step"], columns="scheme", values="ixt"
    )
    nested = float((wide["exact_4bit"] - wide["exact_8bit"]).max())
    in_range = bool((frame["ity"] >= -1e-9).all() and (frame["ixt"] <= np.log(4096) + 1e-9).all())
    return [
        Claim(
            "every layer and scheme: 0 <= I(T;Y) <= I(X;T) = H(T) <= log 4096 (T a function of X)",
            bool(in_range and dpi <= 1e-9),
            f"max (I(T;Y) - I(X;T)) = {dpi:.2e} nats, max I(X;T) {frame['ixt'].max():.3f}",
        ),
        Claim(
            "every layer: exact 4-bit I(X;T) <= 8-bit (its 15 levels are unions of the 255 levels)",
            bool(nested <= 1e-9),
            f"max (4-bit - 8-bit) = {nested:.3f} nats",
        ),
    ]


def _fits(frame: pd.DataFrame) -> list[Claim]:
    """Per activation and layer: does the exact 8-bit I(T;Y) rise (Lorenzen: every layer fits)?"""
    out = []
    for (activation, layer), sub in frame.groupby(["activation", "layer"], sort=False):
        ity = _mean(sub, "ity")["exact_8bit"]
        rise = float(ity.iloc[-1] - ity.iloc[0])
        verdict = "reproduced" if rise > FIT_NATS else "not reproduced"
        if ity.iloc[0] > np.log(2) - FIT_NATS:
            verdict += ": already at H(Y) at step 0 (T separates the labels from the start)"
        out.append(
            Claim(
                f"{activation} {layer}: report whether the exact 8-bit I(T;Y) rises "
                "(Lorenzen: every layer fits)",
                True,
                f"I(T;Y) {ity.iloc[0]:.3f} -> {ity.iloc[-1]:.3f} nats (H(Y) = "
                f"{np.log(2):.3f}), rise {rise:.3f}; {verdict}",
            )
        )
    return out


def _drops(frame: pd.DataFrame, layer: str) -> dict[str, tuple[float, str]]:
    """activation -> (8-bit drop, 'peak, final, drop' of the exact 8-bit and 4-bit I(X;T))."""
    out = {}
    for activation in LEARNING_RATES:
        sub = frame[(frame["activation"] == activation) & (frame["layer"] == layer)]
        ixt = _mean(sub, "ixt")
        drops = {s: float(ixt[s].max() - ixt[s].iloc[-1]) for s in ("exact_8bit", "exact_4bit")}
        out[activation] = (
            drops["exact_8bit"],
            f"{activation}: 8-bit peak {ixt['exact_8bit'].max():.3f} nats at step "
            f"{int(ixt['exact_8bit'].idxmax())}, final {ixt['exact_8bit'].iloc[-1]:.3f}, drop "
            f"{drops['exact_8bit']:.3f} (4-bit: peak {ixt['exact_4bit'].max():.3f} at step "
            f"{int(ixt['exact_4bit'].idxmax())}, drop {drops['exact_4bit']:.3f})",
        )
    return out


def _compression(frame: pd.DataFrame) -> list[Claim]:
    """Output layer: compresses for every activation? Hidden layers: depends on it?"""
    out = []
    for layer in LAYER_NAMES:
        drops = _drops(frame, layer)
        compresses = {a: d > COMPRESSION_NATS for a, (d, _) in drops.items()}
        if layer == "output":
            text = "output layer: exact 8-bit I(X;T) compresses (Lorenzen: always)"
            reproduced = all(compresses.values())
        else:
            text = f"{layer}: exact 8-bit compression depends on the activation (Lorenzen)"
            reproduced = len(set(compresses.values())) == 2
        out.append(
            Claim(
                f"{text}; report",
                True,
                "; ".join(e for _, e in drops.values())
                + f" (threshold {COMPRESSION_NATS}; "
                + ("reproduced)" if reproduced else "not reproduced)"),
            )
        )
    return out


def _binning(frame: pd.DataFrame) -> list[Claim]:
    """Per layer: do the binning schemes disagree; per activation: are they below exact?"""
    out = []
    for layer in LAYER_NAMES:
        parts, disagree = [], []
        for activation in LEARNING_RATES:
            sub = frame[(frame["activation"] == activation) & (frame["layer"] == layer)]
            ixt = _mean(sub, "ixt")
            final = ixt.iloc[-1][BINNED]
            peaks = {s: int(ixt[s].idxmax()) for s in BINNED}
            disagree.append(final.max() - final.min() > 1.0 or len(set(peaks.values())) >= 2)
            parts.append(
                f"{activation}: final "
                + ", ".join(f"{s} {final[s]:.3f}" for s in BINNED)
                + ", peak steps "
                + ", ".join(str(peaks[s]) for s in BINNED)
            )
        verdict = "reproduced" if all(disagree) else "not reproduced"
        out.append(
            Claim(
                f"{layer}: binning schemes disagree (final spread > 1 nat or peaks at different "
                "steps; Lorenzen: qualitatively different planes); report",
                True,
                "; ".join(parts) + f" ({verdict})",
            )
        )
    for activation in LEARNING_RATES:
        sub = frame[frame["activation"] == activation]
        ixt = sub.pivot_table(index=["layer", "network", "step"], columns="scheme", values="ixt")
        gap = (ixt[BINNED].max(axis=1) - ixt["exact_8bit"]).groupby("layer").max()
        out.append(
            Claim(
                f"{activation}: report whether every binned I(X;T) is below the exact 8-bit value",
                True,
                "max over steps of (largest binned - exact 8-bit): "
                + ", ".join(f"{layer} {gap[layer]:.3f}" for layer in LAYER_NAMES)
                + " nats",
            )
        )
    return out


def claims(frame: pd.DataFrame) -> list[Claim]:
    """Correctness checks, then Lorenzen et al.'s fit, compression and binning findings."""
    return _correctness(frame) + _fits(frame) + _compression(frame) + _binning(frame)


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
