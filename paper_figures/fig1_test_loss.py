"""Fig. 1: test loss of infinite ensembles vs training time tau per sigma_w, ReLU and Erf.

Shwartz-Ziv & Alemi (2019), Fig. 1 (a ReLU, b Erf): three-layer fully-connected networks
(`fc(3)`, sigma_b = 0.1) on the Gaussian data of App. B (d_x = 30, d_y = 1, I(X;Y) = 1 nat),
n_train = n_test = 1000. The loss drawn is the expected negative log-likelihood of one ensemble
member, loss_gibbs = E_z[-log N(y; z, 1)] (the squared loss of a network drawn from the
ensemble, in nats); the CSV also has the ensemble's Bayes loss, the MSE of its mean, and the
training-set loss. Times are the dimensionless tau = eta t / (n k); tau = inf is dashed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Claim, run
from _ensembles import B_STD, early_stopping, loss_table, setting

from ntk_info import data, plotting
from ntk_info.architectures import fc

NAME = "fig1_test_loss"
ACTIVATIONS = ("relu", "erf")


def make(scale: str) -> tuple[pd.DataFrame, object]:
    """The loss table over (activation, sigma_w, tau) and its two-panel figure."""
    import matplotlib.pyplot as plt

    s = setting(scale)
    dataset = data.gaussian(s.n_train, s.n_test, seed=0)
    frames = [
        loss_table(
            dataset,
            fc(3, activation=act, W_std=w, b_std=B_STD),
            s.tau,
            activation=act,
            W_std=w,
            b_std=B_STD,
        )
        for act in ACTIVATIONS
        for w in s.w_stds
    ]
    frame = pd.concat(frames, ignore_index=True)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, act in zip(axes, ACTIVATIONS, strict=True):
        part = frame[frame["activation"] == act]
        plotting.plot_quantities(part, "loss_gibbs", x="tau", by="W_std", logy=True, ax=ax)
        ax.set_title(f"({'ab'[ACTIVATIONS.index(act)]}) {act}: test loss (train loss -> 0)")
    return frame, fig


def claims(frame: pd.DataFrame) -> list[Claim]:
    """The paper's Fig. 1 statements, decided on the CSV's numbers."""
    stops = early_stopping(frame, "loss_gibbs", ("activation", "W_std"))
    out = []
    for act in ACTIVATIONS:
        part = stops[stops["activation"] == act].sort_values("W_std")
        high, low = part.iloc[-1], part.iloc[0]
        others = part.iloc[:-1]
        out.append(
            Claim(
                f"{act}: the highest sigma_w underfits (its best test loss is the worst)",
                bool(high.loss_best > others.loss_best.max()),
                f"best loss at sigma_w={high.W_std:g}: {high.loss_best:.4g} vs at most "
                f"{others.loss_best.max():.4g} for the others",
            )
        )
        out.append(
            Claim(
                f"{act}: the lowest sigma_w overfits (early stopping beats tau = inf) and "
                "gains more from early stopping than the highest",
                bool(low.gain > 0 and low.gain > high.gain),
                f"sigma_w={low.W_std:g}: best {low.loss_best:.4g} at tau={low.tau_best:.3g}, "
                f"tau=inf {low.loss_final:.4g} (gain {low.gain:.3g}); sigma_w={high.W_std:g} "
                f"gain {high.gain:.3g}",
            )
        )
    # The paper's "Erf's final test loss diverges as sigma_w decreases" holds for the MSE of the
    # ensemble mean; loss_gibbs adds the member variance, which grows with sigma_w (evidence).
    mse = early_stopping(frame, "mse", ("activation", "W_std"))
    erf = mse[mse["activation"] == "erf"].sort_values("W_std")
    gibbs = stops[stops["activation"] == "erf"].sort_values("W_std")
    below = erf[erf["W_std"] <= 2.0]
    relu = mse[mse["activation"] == "relu"]["loss_final"]
    out.append(
        Claim(
            "erf: the tau = inf test MSE of the ensemble mean grows as sigma_w decreases "
            "(sigma_w <= 2); relu's barely moves",
            bool(np.all(np.diff(below["loss_final"].to_numpy()) < 0)),
            "erf tau=inf MSE by sigma_w: "
            + ", ".join(f"{w:g}: {v:.4g}" for w, v in zip(erf.W_std, erf.loss_final, strict=True))
            + f"; relu's spans {relu.min():.4g}-{relu.max():.4g}; erf tau=inf loss_gibbs: "
            + ", ".join(
                f"{w:g}: {v:.4g}" for w, v in zip(gibbs.W_std, gibbs.loss_final, strict=True)
            ),
        )
    )
    final = frame[np.isinf(frame["tau"])]
    out.append(
        Claim(
            "train loss -> 0 for all (train MSE at tau = inf)",
            bool(final["train_mse"].max() < 1e-8),
            f"max train MSE at tau=inf {final['train_mse'].max():.2e}; at tau=0 "
            f"{frame[frame['tau'] == 0]['train_mse'].min():.3g}",
        )
    )
    return out


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
