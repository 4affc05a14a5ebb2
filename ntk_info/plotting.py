"""Figures: the information plane with the Gaussian-IB optimum, and quantities vs training time.

Every function takes a tidy table (`information.information_plane`), an optional matplotlib
`Axes`, returns the `Figure`, labels its axes with units, and never calls `plt.show()`.
matplotlib's backend is never set here: scripts without a display get Agg automatically,
notebooks keep their inline backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "UNITS",
    "plot_information_plane",
    "plot_quantities",
    "unit_of",
    "plot_bifurcation_diagram",
    "plot_ib_information_plane",
]

#: Units of the information-plane columns (anything else is labelled by its name only).
UNITS = {
    "izx_lower": "nats",
    "izx_upper": "nats",
    "izx_mc": "nats",
    "izy_lower": "nats",
    "izy_lower_paper": "nats",
    "entropy_y": "nats",
    "kl_prior": "nats",
    "kl_prior_joint": "nats",
    "weight_information": "nats",
    "weight_information_rate_per_tau": "nats per unit tau",
    "loss_bayes": "nats per point",
    "loss_gibbs": "nats per point",
    "loss_bayes_joint": "nats per point",
    "mse": "squared error",
    "accuracy": "fraction correct",
    "fisher_trace": "Tr F",
    "parameter_energy": "Fisher-metric energy",
    "mean_var": "output variance",
    "decoder_sigma2": "decoder variance",
}

_TIME_LABELS = {
    "t": "training time t (neural-tangents units, eta * steps)",
    "tau": "dimensionless time tau = eta t / (n k)",
}


def unit_of(column: str) -> str:
    """The unit of a table column ('' if unknown); `_se` columns share their quantity's unit."""
    return UNITS.get(column.removesuffix("_se"), "")


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _check_columns(frame: Any, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"`frame` must be a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"`frame` lacks column(s) {missing}; pass a table from information.information_plane "
            f"(it has {list(frame.columns)[:8]}...)."
        )
    if frame.empty:
        raise ValueError("`frame` is empty.")
    return frame


def _groups(frame: pd.DataFrame, by: str | None) -> list[tuple[Any, pd.DataFrame]]:
    if by is None:
        return [(None, frame)]
    _check_columns(frame, [by])
    return list(frame.groupby(by, sort=True))


def _gib_points(gib: Any, x_max: float) -> tuple[np.ndarray, np.ndarray]:
    if callable(gib):
        ix = np.linspace(0.0, x_max, 400)
        return ix, np.asarray(gib(ix), dtype=np.float64)
    try:
        ix, iy = (np.asarray(v, dtype=np.float64) for v in gib)
    except (TypeError, ValueError) as error:
        raise TypeError(
            "`gib` must be a callable ix -> iy or a pair of arrays (ix, iy)."
        ) from error
    if ix.shape != iy.shape:
        raise ValueError(f"`gib` arrays have shapes {ix.shape} and {iy.shape}; they must match.")
    return ix, iy


def plot_information_plane(
    frame: pd.DataFrame,
    *,
    ax: Any = None,
    gib: Callable[[np.ndarray], np.ndarray] | tuple[Any, Any] | None = None,
    x: str = "izx_lower",
    y: str = "izy_lower",
    band: bool = True,
    by: str | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    figsize: tuple[float, float] = (6.0, 4.5),
) -> Any:
    """Information-plane trajectory: I(Z;X) bound vs I(Z;Y) bound over training time.

    Points are coloured by t on a log scale (t = 0 drawn as a grey square, t = inf as a black
    star); the band spans the InfoNCE lower and leave-one-out upper bounds on I(Z;X) at each
    time, with vertical error bars of +-1 SE of the I(Z;Y) bound; the analytic cap log N of the
    minibatch bounds is a dashed vertical line; the Gaussian-IB optimum (red) is drawn if given.

    Args:
      frame: table from `information_plane` (columns x, y, t, and for the band izx_upper;
        izx_cap and izy_lower_se are used when present).
      ax: matplotlib Axes to draw into (a new figure otherwise).
      gib: the optimum, a callable I_X -> I_Y (e.g. `lambda ix: gib.gib_curve_from_dataset(d,
        ix)`) or arrays (ix, iy).
      x, y: the columns on the axes.
      band: draw the lower-upper band of I(Z;X).
      by: a configuration column: one trajectory per value (e.g. 'W_std').
      cmap: colour map of t.
      colorbar: add a colour bar of log10 t.
      figsize: size of a new figure.

    Returns:
      matplotlib Figure.

    Reference: Shwartz-Ziv & Alemi (2019), Fig. 2.
    """
    import matplotlib as mpl

    frame = _check_columns(frame, [x, y, "t"])
    fig, ax = _axes(ax, figsize)
    t_all = frame["t"].to_numpy(dtype=np.float64)
    positive = t_all[(t_all > 0) & np.isfinite(t_all)]
    lo, hi = (positive.min(), positive.max()) if positive.size else (1.0, 10.0)
    norm = mpl.colors.LogNorm(vmin=lo, vmax=max(hi, lo * 1.0001))
    colours = mpl.colormaps[cmap]
    x_max = 0.0
    for name, group in _groups(frame, by):
        group = group.sort_values("t")
        t = group["t"].to_numpy(dtype=np.float64)
        xs = group[x].to_numpy(dtype=np.float64)
        ys = group[y].to_numpy(dtype=np.float64)
        x_max = max(x_max, np.nanmax(xs))
        label = None if name is None else f"{by} = {name}"
        (line,) = ax.plot(xs, ys, "-", lw=1.0, alpha=0.6, label=label, zorder=1)
        if band and x == "izx_lower" and "izx_upper" in group:
            upper = group["izx_upper"].to_numpy(dtype=np.float64)
            ax.hlines(ys, xs, upper, colors=line.get_color(), alpha=0.35, lw=3, zorder=0)
            x_max = max(x_max, np.nanmax(upper))
        if f"{y}_se" in group:
            ax.errorbar(xs, ys, yerr=group[f"{y}_se"], fmt="none", ecolor="0.5", lw=0.8, zorder=1)
        mid = (t > 0) & np.isfinite(t)
        ax.scatter(xs[mid], ys[mid], c=t[mid], cmap=colours, norm=norm, s=22, zorder=3)
        ax.scatter(xs[t == 0], ys[t == 0], marker="s", c="0.6", s=30, zorder=3)
        ax.scatter(xs[np.isinf(t)], ys[np.isinf(t)], marker="*", c="k", s=80, zorder=4)
    if "izx_cap" in frame and x.startswith("izx"):
        cap = float(frame["izx_cap"].max())
        ax.axvline(cap, ls="--", c="0.4", lw=1)
        ax.annotate(
            "log N",
            (cap, 1.0),
            xycoords=("data", "axes fraction"),
            ha="right",
            va="top",
            fontsize=8,
            color="0.3",
            xytext=(-3, -3),
            textcoords="offset points",
        )
        x_max = max(x_max, cap)
    if gib is not None:
        gx, gy = _gib_points(gib, 1.05 * x_max if x_max > 0 else 1.0)
        ax.plot(gx, gy, "-", c="tab:red", lw=1.5, label="Gaussian IB optimum", zorder=2)
    ax.set_xlabel(f"I(Z;X) {'lower bound' if x == 'izx_lower' else x} [nats]")
    ax.set_ylabel(f"I(Z;Y) {'lower bound' if y == 'izy_lower' else y} [nats]")
    if colorbar and positive.size:
        mappable = mpl.cm.ScalarMappable(norm=norm, cmap=colours)
        fig.colorbar(mappable, ax=ax, label="t (grey square: t = 0, star: t = inf)")
    if by is not None or gib is not None:
        ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_quantities(
    frame: pd.DataFrame,
    columns: Sequence[str] | str,
    *,
    ax: Any = None,
    x: str = "t",
    logy: bool | str = "auto",
    by: str | None = None,
    figsize: tuple[float, float] = (6.0, 4.0),
) -> Any:
    """Quantities vs training time on log axes, with their standard-error bands.

    Times 0 and inf cannot sit on a log axis: values at finite t > 0 are drawn as curves, the
    value at t = inf as a dashed horizontal line of the same colour, t = 0 is left out.

    Args:
      frame: table from `information_plane`.
      columns: column name(s) to draw; a `<name>_se` column, if present, gives a +-1 SE band.
      ax: Axes to draw into (a new figure otherwise).
      x: 't' or 'tau'.
      logy: True, False, or 'auto' (log when all values are > 0 and span > 2 decades).
      by: a configuration column: one curve per value and quantity.
      figsize: size of a new figure.

    Returns:
      matplotlib Figure.

    Reference: Shwartz-Ziv & Alemi (2019), Fig. 1 and 4.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    if not columns:
        raise ValueError("`columns` is empty; name at least one column to plot.")
    frame = _check_columns(frame, [x, *columns])
    fig, ax = _axes(ax, figsize)
    drawn: list[np.ndarray] = []
    for name, group in _groups(frame, by):
        group = group.sort_values(x)
        xs = group[x].to_numpy(dtype=np.float64)
        finite = (xs > 0) & np.isfinite(xs)
        for column in columns:
            values = group[column].to_numpy(dtype=np.float64)
            label = column if name is None else f"{column} ({by} = {name})"
            (line,) = ax.plot(xs[finite], values[finite], "-", lw=1.4, label=label)
            drawn.append(values[finite])
            se_column = f"{column}_se"
            if se_column in group:
                se = group[se_column].to_numpy(dtype=np.float64)[finite]
                ax.fill_between(
                    xs[finite],
                    values[finite] - se,
                    values[finite] + se,
                    color=line.get_color(),
                    alpha=0.25,
                    lw=0,
                )
            at_inf = values[np.isinf(xs)]
            if at_inf.size and np.isfinite(at_inf[0]):
                ax.axhline(at_inf[0], ls="--", lw=1, color=line.get_color())
                drawn.append(at_inf[:1])
    ax.set_xscale("log")
    values = np.concatenate(drawn) if drawn else np.array([])
    values = values[np.isfinite(values)]
    if logy == "auto":
        logy = bool(values.size) and values.min() > 0 and values.max() > 100 * values.min()
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(_TIME_LABELS.get(x, x) + " (dashed: t = inf)")
    units = sorted({unit_of(c) for c in columns} - {""})
    names = ", ".join(columns) if len(columns) <= 3 else "value"
    ax.set_ylabel(f"{names} [{'; '.join(units)}]" if units else names)
    ax.legend(fontsize=8)
    return fig


def plot_bifurcation_diagram(*args: Any, **kwargs: Any) -> Any:
    """Bifurcation diagram of discrete IB / dual-IB solutions, p(y|t) per cluster vs beta.

    Re-exported from `ntk_info.ib.plotting.bifurcation_diagram` (same arguments).
    """
    from ntk_info.ib.plotting import bifurcation_diagram

    return bifurcation_diagram(*args, **kwargs)


def plot_ib_information_plane(*args: Any, **kwargs: Any) -> Any:
    """Normalised IB information plane I(X;T)/H(X) vs I(T;Y)/I(X;Y) of IB / dual-IB results.

    Re-exported from `ntk_info.ib.plotting.information_plane` (same arguments).
    """
    from ntk_info.ib.plotting import information_plane

    return information_plane(*args, **kwargs)
