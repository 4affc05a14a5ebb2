"""Figures of the discrete IB and dualIB: bifurcation diagram and normalised information plane.

Every function returns the matplotlib Figure, takes an optional `ax`, labels its axes with
units and never calls `plt.show()`. Spec dualib.md §6, figures 1-2.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ntk_info.ib.result import PT_TOL, IBResult

__all__ = ["bifurcation_diagram", "information_plane"]

STYLES = {
    "ib": {"color": "tab:blue", "label": "IB", "ls": "-"},
    "dualib": {"color": "tab:red", "label": "dualIB", "ls": "--"},
}


def _by_method(results: Sequence[IBResult]) -> Iterator[tuple[IBResult, dict, np.ndarray]]:
    """The loop both figures share: each result with its method's style and its beta order."""
    for result in results:
        style = STYLES.get(result.method, {"color": None, "label": result.method})
        yield result, style, np.argsort(result.beta)


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
        return fig, ax
    return ax.figure, ax


def bifurcation_diagram(
    results: Sequence[IBResult],
    *,
    y_index: int = -1,
    y_label: str | None = None,
    critical: dict[str, float] | None = None,
    ax=None,
    pt_tol: float = 1e-6,
):
    """p(y|t) of every live cluster vs beta (log axis), one colour per method.

    Args:
      results: IBResults (e.g. the IB and the dualIB of one problem).
      y_index: which label's probability is drawn (default the last, y = +1 for §3).
      y_label: how that label is named on the axis (default its index).
      critical: optional {label: beta_c}; drawn as vertical dashed lines.
      ax: optional matplotlib Axes.
      pt_tol: clusters with p(t) <= pt_tol are not drawn.

    Returns:
      the Figure.
    """
    fig, ax = _axes(ax)
    for result, style, order in _by_method(results):
        beta = result.beta[order]
        prob = result.decoder[order, :, y_index]
        alive = result.pt[order] > max(pt_tol, PT_TOL)
        prob = np.where(alive, prob, np.nan)
        for t in range(prob.shape[1]):
            ax.plot(beta, prob[:, t], ".", ms=1.5, color=style["color"])
        ax.plot([], [], ".", color=style["color"], label=style["label"])
    for (label, beta_c), colour in zip(
        (critical or {}).items(), ("tab:blue", "tab:red", "k", "tab:green"), strict=False
    ):
        ax.axvline(beta_c, ls="--", lw=1, color=colour, label=f"{label} $\\beta_c$ = {beta_c:.3f}")
    ax.set_xscale("log")
    from matplotlib import ticker

    # Plain numbers on the log axis: beta spans barely two decades.
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel(r"$\beta$ (dimensionless trade-off, log scale)")
    name = str(y_index) if y_label is None else y_label
    ax.set_ylabel(f"$p(y = {name}\\,|\\,t)$ (probability)")
    ax.set_title("Bifurcation diagram")
    ax.legend(fontsize="small")
    return fig


def information_plane(results: Sequence[IBResult], *, ax=None):
    """Normalised information plane I(X;T)/H(X) vs I(T;Y)/I(X;Y), one curve per result.

    I(T;Y) uses the Markov decoder for both methods (spec dualib.md §2, information plane).

    Args:
      results: IBResults.
      ax: optional matplotlib Axes.

    Returns:
      the Figure.
    """
    fig, ax = _axes(ax)
    for result, style, order in _by_method(results):
        ax.plot(
            result.ixt[order] / result.hx,
            result.ity[order] / result.ixy,
            style.get("ls", "-"),
            lw=1.2,
            color=style["color"],
            label=style["label"],
        )
    ax.set_xlabel(r"$I(X;T)\,/\,H(X)$ (nats / nats)")
    ax.set_ylabel(r"$I(T;Y)\,/\,I(X;Y)$ (nats / nats)")
    ax.set_title("Information plane (Markov decoder)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return fig
