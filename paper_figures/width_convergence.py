"""Information quantities of width-w ensembles converging to the infinite-width limit.

No paper has this figure. Depth-3 ReLU networks (`fc(3, width=w)`, sigma_b = 0.1) on a
linearly separable +-1 task (16 training and 16 test points in d = 8, seeded), at t = 8, 32,
128 (tau = 0.5, 2, 8). For each width w: the Gaussian process with the Monte Carlo kernels of
S width-w networks (`finite.monte_carlo_kernel_fn`, source 'mc'), and M width-w networks
trained by full-batch GD with eta = 0.5 (moment-matched, `width.trained_information`, source
'trained'). Each panel shows the distance (rms over t) of one quantity from its infinite-width
value against w, log-log, with the OLS slope (`width.width_convergence`): I(Z;X) bounds,
I(Z;Y) bound, test losses, KL to the prior and the mean predictive variance. The CSV has one
row per (source, quantity, width) with the slope and its standard error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Claim, run

from ntk_info.architectures import fc
from ntk_info.width import width_convergence, width_tables

NAME = "width_convergence"
SCALES = {
    "quick": dict(widths=(4, 16, 64), n_samples=64, n_networks=64),
    "full": dict(widths=(4, 8, 16, 32, 64, 128, 256), n_samples=256, n_networks=256),
}
TIMES = (8.0, 32.0, 128.0)


def _problem(n: int = 16, m: int = 16, d: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    x, x_test = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    direction = rng.normal(size=d) / np.sqrt(d)
    return x, np.sign(x @ direction)[:, None], x_test, np.sign(x_test @ direction)[:, None]


def make(scale: str) -> tuple[pd.DataFrame, object]:
    """The distance table over (source, quantity, width) and its panels."""
    import matplotlib.pyplot as plt

    s = SCALES[scale]
    x, y, x_test, y_test = _problem()
    frames = []
    for source in ("mc", "trained"):
        tables = width_tables(
            lambda w: fc(3, width=w), s["widths"], x, y, x_test, y_test, TIMES,
            source=source, n_samples=s["n_samples"], n_networks=s["n_networks"],
            learning_rate=0.5, seed=0,
        )  # fmt: skip
        frames.append(width_convergence(tables))
    frame = pd.concat(frames, ignore_index=True)
    names = list(dict.fromkeys(frame["quantity"]))
    fig, axes = plt.subplots(2, (len(names) + 1) // 2, figsize=(16, 7), squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        for source, part in frame[frame["quantity"] == name].groupby("source"):
            slope = part["slope"].iloc[0]
            ax.loglog(part["width"], part["distance"], "o-", label=f"{source}: slope {slope:.2f}")
        ax.set_title(name)
        ax.set_xlabel("width w")
        ax.set_ylabel("distance to w = inf (nats)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return frame, fig


def claims(frame: pd.DataFrame) -> list[Claim]:
    """Distances shrink from the smallest to the largest width; the slopes the data shows."""
    out = []
    ends = frame.sort_values("width").groupby(["source", "quantity"])["distance"]
    ratio = (ends.last() / ends.first()).rename("ratio").reset_index()
    for source, part in ratio.groupby("source"):
        shrunk = int((part["ratio"] < 1).sum())
        out.append(
            Claim(
                f"{source}: the distance to the infinite-width value decreases from the "
                "smallest to the largest width for most quantities",
                shrunk > len(part) / 2,
                f"{shrunk}/{len(part)} quantities; median d(w_max)/d(w_min) = "
                f"{part['ratio'].median():.3f}",
            )
        )
    slopes = frame.drop_duplicates(["source", "quantity"]).set_index(["source", "quantity"])
    median = float(slopes["slope"].median())
    out.append(
        Claim(
            "fitted log-log slopes lie between -1 (O(1/w) finite-width bias) and 0 (a Monte "
            "Carlo floor in S or M): median slope in [-1.5, 0)",
            -1.5 <= median < 0,
            f"median {median:.2f}; "
            + ", ".join(f"{s}/{q} {v:.2f}" for (s, q), v in slopes["slope"].items()),
        )
    )
    return out


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
