"""Goldfeld et al.'s sample-propagation estimate of I(X;T_l) in a noisy net, every layer.

Goldfeld et al. (ICML 2019) study a noisy DNN, T_l = f_l(T_{l-1}) + N(0, beta^2 I) in every
layer (beta = 0.1 for their tanh SZT net): I(X;T_l) is finite and depends on the weights; the
SP estimator (`estimators.sample_propagation`) gets it from R samples of S_l = f_l(T_{l-1}) per
input; its drops over training ("compression") come from the clustering of the representations
of different inputs to within ~beta; binning a deterministic layer measures how many outputs
are distinct, not I(X;T). Here: the 12-bit SZT-style input set (`_szt`), an erf (tanh-like)
net 12-10-10-2 trained by deterministic full-batch gradient descent (`_szt.train_parameters`;
Goldfeld et al. trained the noisy net itself, with SGD), evaluated at each recorded step as a
noisy net with beta = 0.1 after hidden 1, hidden 2 and the output (`_szt.noisy_layer_samples`,
R seeded noise chains per input), X uniform over a seeded subset of N inputs. Per layer: SP
I(X;T_l) and I(T_l;Y); layer 1 (deterministic S_1) against the mixture engine's
high-precision MC truth (`tasks.GaussianChannelTask`); the deterministic net's H(Bin(S_l))
with Goldfeld's bin size 0.007; clustering seen directly as the fraction of inputs whose clean
codeword has another input's within beta.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
from _common import Claim, run
from _szt import LAYER_NAMES, dataset, layer_activations, noisy_layer_samples, train_parameters
from scipy.spatial import cKDTree

from ntk_info import estimators, tasks

NAME = "sp_information_flow"
BETA = 0.1
BIN_SIZE = 0.007
SETTINGS = {
    "quick": dict(networks=1, steps=1000, records=6, n_points=128, replicas=8, se=1e-2),
    "full": dict(networks=3, steps=8000, records=12, n_points=512, replicas=8, se=2e-3),
}


def nearest_codeword_distances(codewords: np.ndarray) -> np.ndarray:
    """Euclidean distance from each input's codeword to the nearest other input's: (n,)."""
    return cKDTree(codewords).query(codewords, k=2)[0][:, 1]


def _layer_rows(x, labels, params, seeds, setting) -> list[dict]:
    """One row per layer: SP I(X;T_l), I(T_l;Y), binned clean layer, clustering (+ truth)."""
    noisy = noisy_layer_samples(
        params, x, "erf", beta=BETA, replicas=setting["replicas"], seed=seeds
    )
    clean = [np.asarray(h, np.float64) for h in layer_activations(params, x, "erf")]
    rows = []
    for layer, (name, s, c) in enumerate(zip(LAYER_NAMES, noisy, clean, strict=True)):
        nearest = nearest_codeword_distances(c)
        ixt = estimators.sample_propagation(x, s, beta=BETA, seed=seeds + 7 * layer)
        ity = estimators.sample_propagation(labels, s, beta=BETA, seed=seeds + 7 * layer + 3)
        row = dict(
            layer=name,
            ixt=float(ixt.value),
            ixt_se=float(ixt.se),
            ity=float(ity.value),
            ity_se=float(ity.se),
            true=np.nan,
            true_se=np.nan,
            binned_clean=estimators.binning(x, c, bin_size=BIN_SIZE),
            clustered=float(np.mean(nearest <= BETA)),
            nn_median=float(np.median(nearest)),
        )
        if layer == 0:
            truth = tasks.GaussianChannelTask(
                x, s, np.full(len(s), BETA**2), mi_se=setting["se"], seed=1
            )
            row.update(true=float(truth.mutual_information), true_se=truth.mutual_information_se)
        rows.append(row)
    return rows


def make(scale: str):
    """Every layer's SP I(X;T), I(T;Y), binned clean entropy and clustering at every step.

    `true`/`true_se` (the MC truth) exist for layer 1 only (its S_1 is deterministic, so
    I(X;T_1) is one Gaussian-mixture channel); they are NaN for the later layers.
    """
    setting = SETTINGS[scale]
    x_all, labels_all, _ = dataset()
    steps, params_at = train_parameters(
        networks=setting["networks"], steps=setting["steps"], records=setting["records"]
    )
    n = setting["n_points"]
    rows_idx = np.sort(np.random.default_rng(0).choice(len(x_all), n, replace=False))
    x, labels = x_all[rows_idx], labels_all[rows_idx]
    rows = []
    for k, (step, params) in enumerate(zip(steps, params_at, strict=True)):
        for net in range(setting["networks"]):
            one = jax.tree_util.tree_map(lambda p, j=net: p[j], params)
            for row in _layer_rows(x, labels, one, 1000 * net + 10 * k, setting):
                rows.append(dict(network=net, step=int(step), **row, log_n=np.log(n)))
    frame = pd.DataFrame(rows)
    return frame, _figure(frame)


def _figure(frame: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    for ax, name in zip(axes, LAYER_NAMES, strict=True):
        mean = frame[frame["layer"] == name].groupby("step").mean(numeric_only=True)
        steps = np.maximum(mean.index.to_numpy(), 0.5)
        ax.errorbar(steps, mean["ixt"], yerr=2 * mean["ixt_se"], fmt="-o", ms=4, label="SP I(X;T)")
        if mean["true"].notna().all():
            ax.plot(steps, mean["true"], "k:", lw=2, label="I(X;T), mixture MC (truth)")
        ax.errorbar(steps, mean["ity"], yerr=2 * mean["ity_se"], fmt="-s", ms=3, label="SP I(T;Y)")
        ax.plot(steps, mean["binned_clean"], ":^", ms=3, label="H(Bin(S)) of the clean net")
        ax.plot(
            steps,
            mean["clustered"] * mean["log_n"],
            "--",
            color="grey",
            label="(fraction clustered within beta) x log N",
        )
        ax.axhline(mean["log_n"].iloc[0], color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("gradient-descent step (step 0 at 0.5)")
        ax.set_title(f"{name}, noise beta = {BETA} in every layer", fontsize=10)
    axes[0].set_ylabel("nats")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _correctness_claims(frame: pd.DataFrame) -> list[Claim]:
    """Layer-1 SP vs the MC truth, the data-processing inequality, the ranges."""
    first = frame[frame["layer"] == LAYER_NAMES[0]]
    err = (first["ixt"] - first["true"]).abs()
    tol = 4 * np.hypot(first["ixt_se"], first["true_se"]) + 0.02
    wide = frame.pivot_table(index=["network", "step"], columns="layer", values=["ixt", "ixt_se"])
    gaps = []
    for upper, lower in zip(LAYER_NAMES[:-1], LAYER_NAMES[1:], strict=True):
        se = np.hypot(wide["ixt_se"][upper], wide["ixt_se"][lower])
        gaps.append((wide["ixt"][lower] - wide["ixt"][upper] - 4 * se).to_numpy())
    excess = np.max(np.concatenate(gaps))
    low = (frame[["ixt", "ity"]].to_numpy() + 4 * frame[["ixt_se", "ity_se"]].to_numpy()).min()
    high_x = (frame["ixt"] - 4 * frame["ixt_se"] - frame["log_n"]).max()
    high_y = (frame["ity"] - 4 * frame["ity_se"] - np.log(2)).max()
    return [
        Claim(
            "layer 1: SP equals the mixture-MC truth within 4 combined se + 0.02 nats at "
            "every step",
            bool((err <= tol).all()),
            f"max |SP - truth| {err.max():.4f} nats (median SP se {first['ixt_se'].median():.4f})",
        ),
        Claim(
            "data processing: I(X;T_1) >= I(X;T_2) >= I(X;T_3) within 4 combined se + 0.02 nats "
            "at every step (T_1 -> T_2 -> T_3 is a Markov chain)",
            bool(excess <= 0.02),
            f"largest I(X;T_l+1) - I(X;T_l) - 4 se: {excess:.4f} nats",
        ),
        Claim(
            "SP I(X;T) in [0, log N] and I(T;Y) in [0, log 2] within 4 se",
            bool(low >= 0 and high_x <= 0 and high_y <= 0),
            f"min value + 4 se {low:.4f}; max excess over log N {high_x:.4f}, over log 2 "
            f"{high_y:.4f} nats",
        ),
    ]


def _paper_claims(frame: pd.DataFrame) -> list[Claim]:
    """Compression per layer, clustering, binning vs SP: reported with numbers, never failed."""
    drops, clusters, binned = [], [], []
    for name in LAYER_NAMES:
        mean = frame[frame["layer"] == name].groupby("step").mean(numeric_only=True)
        ixt = mean["ixt"].to_numpy()
        peak = int(np.argmax(ixt))
        drop = float(ixt[peak] - ixt[-1])
        verdict = "compresses" if drop >= 0.5 else "not reproduced"
        drops.append(
            f"{name}: {verdict}, peak {ixt[peak]:.3f} at step {int(mean.index[peak])} -> "
            f"final {ixt[-1]:.3f} (drop {drop:.3f}, se {mean['ixt_se'].iloc[-1]:.3f})"
        )
        varies = ixt.std() > 0 and mean["clustered"].std() > 0
        rho = f"{np.corrcoef(ixt, mean['clustered'])[0, 1]:.2f}" if varies else "undefined"
        clusters.append(
            f"{name}: clustered fraction {mean['clustered'].iloc[0]:.2f} -> "
            f"{mean['clustered'].iloc[-1]:.2f}, median nearest-codeword distance "
            f"{mean['nn_median'].iloc[0]:.3f} -> {mean['nn_median'].iloc[-1]:.3f}, "
            f"corr(I(X;T), clustered) {rho}"
        )
        binned.append(
            f"{name}: H(Bin(S)) in [{mean['binned_clean'].min():.3f}, "
            f"{mean['binned_clean'].max():.3f}] vs SP drop {drop:.3f}"
        )
    log_n = frame["log_n"].iloc[0]
    return [
        Claim(
            "I(X;T_l) of the noisy net compresses over training (>= 0.5 nat below its peak)",
            True,
            "; ".join(drops),
        ),
        Claim(
            "compression goes with clustering of the clean codewords to within beta",
            True,
            "; ".join(clusters),
        ),
        Claim(
            "binning the deterministic net (bin 0.007) counts distinct codewords, not the "
            "noisy net's I(X;T)",
            True,
            f"log N = {log_n:.3f}; " + "; ".join(binned),
        ),
    ]


def claims(frame: pd.DataFrame) -> list[Claim]:
    """Correctness checks that can fail, then the paper's claims reported with numbers."""
    return _correctness_claims(frame) + _paper_claims(frame)


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
