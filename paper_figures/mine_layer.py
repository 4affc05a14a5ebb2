"""Elad et al.'s MINE estimate of I(X;T) of one noisy layer over training, against known bounds.

Elad, Haviv, Blau & Michaeli (ICCV-W 2019): with the layer relation known, T = f(X) + N(0, s^2 I),
a MINE critic log p(t|x) - g(t) with only g trained (`estimators.mine_known_conditional`) gives
I(X;T) of a layer. Against: the known-conditional InfoNCE lower and leave-one-out upper bounds
(`estimators.infonce_known_conditional`, `estimators.loo_known_conditional`), which bracket it.
Here: the 12-bit SZT-style input set (`_szt`), an erf net 12-10-10-2 trained by gradient descent,
its 2-unit output layer plus N(0, 0.1^2 I), X uniform over a seeded subset of N inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Claim, run
from _szt import dataset, train

from ntk_info import estimators

NAME = "mine_layer"
BETA = 0.1
SETTINGS = {
    "quick": dict(networks=1, steps=1000, records=4, n_points=256, mine_steps=1500),
    "full": dict(networks=3, steps=8000, records=15, n_points=1024, mine_steps=3000),
}


def make(scale: str):
    """MINE (known conditional), InfoNCE and LOO bounds at every recorded step."""
    setting = SETTINGS[scale]
    x, _, _ = dataset()
    trained = train(
        networks=setting["networks"], steps=setting["steps"], records=setting["records"]
    )
    idx = np.sort(np.random.default_rng(0).choice(len(x), setting["n_points"], replace=False))
    rows = []
    for net, outputs in enumerate(trained.train_outputs):
        for step, layer in zip(trained.steps, outputs, strict=True):
            s = layer[idx]
            mine = estimators.mine_known_conditional(
                x[idx], s, noise_std=BETA, steps=setting["mine_steps"], seed=1
            )
            lower = estimators.infonce_known_conditional(x[idx], s, noise_std=BETA, seed=2)
            upper = estimators.loo_known_conditional(x[idx], s, noise_std=BETA, seed=2)
            rows.append(
                dict(
                    network=net,
                    step=int(step),
                    mine=mine.value,
                    mine_se=mine.se,
                    infonce=lower.value,
                    infonce_se=lower.se,
                    loo=upper.value,
                    loo_se=upper.se,
                    log_n=np.log(setting["n_points"]),
                )
            )
    frame = pd.DataFrame(rows)
    return frame, _figure(frame)


def _figure(frame: pd.DataFrame):
    import matplotlib.pyplot as plt

    mean = frame.groupby("step").mean(numeric_only=True)
    steps = np.maximum(mean.index.to_numpy(), 0.5)
    fig, ax = plt.subplots(figsize=(5.6, 4))
    ax.fill_between(steps, mean["infonce"], mean["loo"], alpha=0.3, label="[InfoNCE, LOO]")
    ax.errorbar(steps, mean["mine"], yerr=2 * mean["mine_se"], fmt="-o", ms=4, label="MINE")
    ax.set_xscale("log")
    ax.set_xlabel("gradient-descent step (step 0 at 0.5)")
    ax.set_ylabel("I(X;T), nats")
    ax.set_title(f"noisy output layer, s = {BETA}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def claims(frame: pd.DataFrame) -> list[Claim]:
    """MINE is a lower bound (never above LOO + 2 se); how close it comes to the bracket."""
    above = frame["mine"] - frame["loo"] - 2 * np.hypot(frame["mine_se"], frame["loo_se"])
    below = frame["infonce"] - 2 * np.hypot(frame["mine_se"], frame["infonce_se"]) - frame["mine"]
    inside = below <= 0
    worst = frame.loc[below.idxmax()]
    return [
        Claim(
            "MINE (a Donsker-Varadhan lower bound) never exceeds the LOO upper bound (+ 2 se)",
            bool((above <= 0).all()),
            f"largest MINE - LOO - 2 se: {above.max():.3f} nats",
        ),
        Claim(
            "Elad et al.: MINE with the known layer relation estimates I(X;T) (report: inside "
            "[InfoNCE, LOO] within 2 se?)",
            True,
            f"inside at {int(inside.sum())}/{len(frame)} (network, step) points; largest "
            f"shortfall below InfoNCE {below.max():.3f} nats at step {int(worst['step'])} "
            f"(MINE {worst['mine']:.3f}, InfoNCE {worst['infonce']:.3f}, LOO {worst['loo']:.3f})"
            + ("" if inside.all() else ": not reproduced there"),
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
