"""Fig. 4: I(X;Z|D), I(theta;D), dI(theta;D)/dtau and test loss vs tau, sigma_w = 0.25 (log-log).

Shwartz-Ziv & Alemi (2019), Fig. 4: Gaussian data (App. B, I(X;Y) = 1 nat, n_train = 1000),
three-layer FC, sigma_w = 0.25 taken as the weight standard deviation W_std (the paper does not
say whether 0.25 is sigma_w or sigma_w^2; W_std = 0.5 is the variance reading), sigma_b = 0.1,
ReLU and Erf panels. Quantities: the InfoNCE lower bound I_L(Z;X|D) on N = 1000 test points,
the paper's closed form of the information in the weights I(theta;D) (`weight_information`,
form 'paper', an upper bound: KL to the prior), its rate dI/dtau (closed form; -> Tr F as tau
-> inf), and the test loss (loss_gibbs, nats per point), each on its own log y axis. The claim
locates each quantity's feature (steepest rise of I(Z;X) per decade, peak of the rate, largest
log-log slope of I(theta;D)) relative to the test-loss minimum, in decades of tau: the rate's
peak is within a decade of it; I(X;Z|D)'s steepest rise comes before it (0.25 decades for Erf,
2 for ReLU at full scale).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from _common import Claim, run
from _ensembles import B_STD, plane_table, setting

from ntk_info import data
from ntk_info.architectures import fc

NAME = "fig4_weights_information"
ACTIVATIONS = ("relu", "erf")
W_STD = 0.25
CURVES = {  # column: (label, colour)
    "izx_lower": ("I(X;Z|D) lower bound [nats]", "tab:blue"),
    "weight_information": ("I(theta;D) (paper form) [nats]", "tab:orange"),
    "weight_information_rate_per_tau": ("dI(theta;D)/dtau [nats per tau]", "tab:green"),
    "loss_gibbs": ("test loss [nats per point]", "tab:red"),
}


def make(scale: str) -> tuple[pd.DataFrame, object]:
    """The table over (activation, tau) at sigma_w = 0.25 and its log-log panels."""
    import matplotlib.pyplot as plt

    s = dataclasses.replace(setting(scale), n_tau=49 if scale == "full" else 25)
    dataset = data.gaussian(s.n_train, s.n_test, seed=0)
    frame = pd.concat(
        [
            plane_table(
                dataset,
                fc(3, activation=act, W_std=W_STD, b_std=B_STD),
                s.tau,
                n_points=s.n_points,
                activation=act,
                W_std=W_STD,
                b_std=B_STD,
            )
            for act in ACTIVATIONS
        ],
        ignore_index=True,
    )
    fig, axes = plt.subplots(1, 2, figsize=(17, 5))
    fig.subplots_adjust(wspace=0.75, right=0.85)
    for ax, act in zip(axes, ACTIVATIONS, strict=True):
        _panel(ax, frame[frame["activation"] == act], act)
    return frame, fig


def _panel(ax, part: pd.DataFrame, act: str) -> None:
    """Four quantities on one log tau axis, each with its own log y axis."""
    part = part[np.isfinite(part["tau"]) & (part["tau"] > 0)]
    for i, (column, (label, colour)) in enumerate(CURVES.items()):
        axis = ax if i == 0 else ax.twinx()
        if i > 1:
            axis.spines["right"].set_position(("axes", 1.0 + 0.12 * (i - 1)))
        values = part[column].to_numpy()
        keep = values > 0  # log axes: I_L(Z;X) is ~0 (and can dip below) at small tau
        axis.loglog(part["tau"].to_numpy()[keep], values[keep], color=colour, lw=1.6)
        axis.set_ylabel(label, color=colour)
        axis.tick_params(axis="y", colors=colour)
    best = part["tau"].to_numpy()[np.argmin(part["loss_gibbs"].to_numpy())]
    ax.axvline(best, color="0.4", ls=":", lw=1)
    ax.set_xlabel("dimensionless time tau (dotted: test-loss minimum)")
    ax.set_title(f"{act}, sigma_w = {W_STD}")


def features(part: pd.DataFrame) -> dict[str, float]:
    """log10 tau of the test-loss minimum and of each quantity's feature (finite tau > 0)."""
    part = part[np.isfinite(part["tau"]) & (part["tau"] > 0)].sort_values("tau")
    log_tau = np.log10(part["tau"].to_numpy())
    info = part["weight_information"].to_numpy()
    return dict(
        test_loss_min=log_tau[np.argmin(part["loss_gibbs"].to_numpy())],
        izx_steepest=log_tau[np.argmax(np.gradient(part["izx_lower"].to_numpy(), log_tau))],
        rate_peak=log_tau[np.argmax(part["weight_information_rate_per_tau"].to_numpy())],
        weight_info_steepest=log_tau[np.argmax(np.gradient(np.log10(info), log_tau))],
    )


def claims(frame: pd.DataFrame) -> list[Claim]:
    """Fig. 4's statement ("clear features near the optimal test loss"), in decades of tau."""
    out = []
    for act in ACTIVATIONS:
        part = frame[frame["activation"] == act]
        found = features(part)
        best = found.pop("test_loss_min")
        distance = {name: value - best for name, value in found.items()}
        evidence = (
            f"test-loss minimum at log10 tau = {best:.2f}; feature - minimum [decades]: "
            + ", ".join(f"{k} {v:+.2f}" for k, v in distance.items())
        )
        out.append(
            Claim(
                f"{act}: the peak of dI(theta;D)/dtau lies within one decade of tau of the "
                "test-loss minimum",
                bool(abs(distance["rate_peak"]) <= 1),
                evidence,
            )
        )
        out.append(
            Claim(
                f"{act}: I(X;Z|D) rises fastest before the test-loss minimum (distance in the "
                "evidence; within one decade or not)",
                bool(distance["izx_steepest"] < 0),
                evidence,
            )
        )
        final = part[np.isinf(part["tau"])].iloc[0]
        out.append(
            Claim(
                f"{act}: dI(theta;D)/dtau -> Tr F and I(theta;D) -> inf as tau -> inf",
                bool(
                    np.isclose(final.weight_information_rate_per_tau, final.fisher_trace)
                    and np.isinf(final.weight_information)
                ),
                f"rate at tau=inf {final.weight_information_rate_per_tau:.6g}, Tr F "
                f"{final.fisher_trace:.6g}; I(theta;D) at the largest finite tau "
                f"{part[np.isfinite(part['tau'])]['weight_information'].max():.3g}",
            )
        )
    return out


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
