"""Bifurcation diagram of the dualIB paper's binary example: p(y=+1|t) vs beta, IB vs dualIB.

Reverse annealing (beta = 2^linspace(6, 1, n) downwards from the identity solution, spec dualib.md
§1, §3) with `ntk_info.ib.solve`; vertical lines at every split point of the stability matrices
(`ntk_info.ib.critical_betas`, spec §1, §2.2). Claims: the clusters the solver shows merge where
the stability analysis puts the splits (the first exactly, the others at or below them: reverse
annealing keeps a larger solution past a first-order split), and the dualIB's transitions occur at
lower beta than the IB's (spec §3). Paper: Piran, Shwartz-Ziv & Tishby, arXiv:2006.04641.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Claim, run

from ntk_info import ib

NAME = "dualib_bifurcation"
METHODS = ("ib", "dualib")
SETTINGS = {"quick": {"n_betas": 400, "tol": 1e-12}, "full": {"n_betas": 1000, "tol": 1e-13}}


def _cluster_rows(result: ib.IBResult) -> pd.DataFrame:
    """One row per (beta, cluster): p(y=+1|t) and p(t)."""
    n_beta, n_t = result.pt.shape
    return pd.DataFrame(
        {
            "record": "cluster",
            "method": result.method,
            "beta": np.repeat(result.beta, n_t),
            "cluster": np.tile(np.arange(n_t), n_beta),
            "p_y_plus": result.decoder[:, :, -1].ravel(),
            "pt": result.pt.ravel(),
        }
    )


def make(scale: str):
    """Solves the §3 problem with both methods; the tidy table and the figure."""
    setting = SETTINGS[scale]
    problem = ib.binary_exponential_problem()
    betas = 2.0 ** np.linspace(6, 1, setting["n_betas"])
    frames, results, critical = [], [], {}
    for method in METHODS:
        result = ib.solve(problem.pxy, betas, method=method, tol=setting["tol"])
        splits = ib.critical_betas(problem.pxy, method)
        found = ib.transitions(result)
        results.append(result)
        critical[f"{'IB' if method == 'ib' else 'dualIB'} first split"] = float(splits[0])
        frames += [
            _cluster_rows(result),
            pd.DataFrame(
                {
                    "record": "split_point",
                    "method": method,
                    "beta": splits,
                    "cluster": np.arange(1, splits.size + 1),
                }
            ),
            pd.DataFrame(
                {
                    "record": "transition",
                    "method": method,
                    "beta": found["beta_estimate"],
                    "cluster": found["n_clusters_low"],
                    "kind": found["kind"],
                    "beta_high": found["beta_high"],
                    "beta_low": found["beta_low"],
                }
            ),
        ]
    frame = pd.concat(frames, ignore_index=True)
    from ntk_info.ib.plotting import bifurcation_diagram

    fig = bifurcation_diagram(results, y_label="+1", critical=critical)
    ax = fig.axes[0]
    for method, colour in zip(METHODS, ("tab:blue", "tab:red"), strict=True):
        for beta in _betas(frame, "split_point", method)[1:]:
            ax.axvline(beta, ls=":", lw=0.8, color=colour)
    ax.set_title("Bifurcation diagram, binary example (dotted: later split points)")
    return frame, fig


def _betas(frame: pd.DataFrame, record: str, method: str) -> np.ndarray:
    """The betas of one kind of record of one method, increasing."""
    rows = frame[(frame["record"] == record) & (frame["method"] == method)]
    return np.sort(rows["beta"].to_numpy(dtype=float))


def _merges(frame: pd.DataFrame, method: str) -> tuple[np.ndarray, np.ndarray]:
    """(beta_low, beta_high) of each change of the cluster count under annealing, increasing."""
    rows = frame[(frame["record"] == "transition") & (frame["method"] == method)]
    rows = rows.sort_values("beta_low")
    return rows["beta_low"].to_numpy(dtype=float), rows["beta_high"].to_numpy(dtype=float)


def claims(frame: pd.DataFrame) -> list[Claim]:
    """The figure's claims, from the split points and the annealing transitions in the CSV."""
    split = {m: _betas(frame, "split_point", m) for m in METHODS}
    out = []
    for method in METHODS:
        s = split[method]
        low, high = _merges(frame, method)
        gap = max(low[0] - s[0], s[0] - high[0], 0.0) / s[0] if low.size else np.inf
        out.append(
            Claim(
                f"{method}: the last merge under reverse annealing is at the first split point",
                bool(gap <= 0.01),
                f"cluster count drops between beta {low[0]:.4f} and {high[0]:.4f}; first split "
                f"point (closed form) {s[0]:.4f}; distance {gap:.2%} (<= 1%)",
            )
        )
        same = low.size == s.size
        ratio = high / s if same else np.array([np.inf])
        out.append(
            Claim(
                f"{method}: every merge at or below its split point (hysteresis < 25%)",
                bool(same and np.all(low <= 1.01 * s) and np.all(ratio > 0.75)),
                f"{low.size} merges, last beta with more clusters {np.round(high, 3).tolist()}, "
                f"split points {np.round(s, 3).tolist()} (ratio {np.round(ratio, 3).tolist()})",
            )
        )
    h_ib, h_dual = _merges(frame, "ib")[1], _merges(frame, "dualib")[1]
    out.append(
        Claim(
            "the dualIB's transitions occur at lower beta than the IB's (spec §3)",
            bool(h_ib.size == h_dual.size and np.all(h_dual < h_ib)),
            f"annealing: dualIB {np.round(h_dual, 3).tolist()} vs IB {np.round(h_ib, 3).tolist()}; "
            f"split points: dualIB {np.round(split['dualib'], 3).tolist()} vs IB "
            f"{np.round(split['ib'], 3).tolist()}",
        )
    )
    return out


if __name__ == "__main__":
    raise SystemExit(run(NAME, make, claims, doc=__doc__))
