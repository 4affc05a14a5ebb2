"""The TOML configuration of `ntk-info sweep`: parsed, validated before any work, as a grid.

A configuration has four tables (every key optional except `[time]`'s grid; defaults below)::

    [data]
    dataset = "mnist1d"        # "mnist1d", "gaussian", "digits" or the path of an .npz file
                               # (relative to the config file)
    labels = "onehot"          # "onehot" or "parity" (ignored by "gaussian")
    n_train = [100, 200]       # grid: training points (the first n of one pool: same test set)
    n_test = 200
    seed = 0                   # the dataset's seed
    label_noise = [0.0, 0.5]   # grid: fraction of training labels shuffled
    noise_seed = 0

    [architecture]             # ntk_info.architectures.fc; every key is a grid
    W_std = [1.0, 1.414]       # sigma_w
    b_std = [0.1]              # sigma_b
    depth = [3]
    activation = ["relu"]      # relu, erf, gelu, tanh
    width = [inf]              # inf = analytic infinite width; integers >= 1: Monte Carlo kernels
    n_samples = 32             # networks per Monte Carlo kernel (finite widths)
    seed = 0                   # seed of the Monte Carlo networks

    [training]
    mode = "ntk"               # or "nngp"
    diag_reg = 0.0

    [time]                     # exactly one of tau, t, tau_logspace, t_logspace
    tau_logspace = [-3, 3, 20] # 10^-3 .. 10^3, 20 points (or tau = [...], t = [...])
    zero = true                # prepend 0 (the prior)
    inf = true                 # append inf (the converged ensemble)

    [output]
    quantities = ["mse", "loss_bayes", "izx_lower", "izy_lower"]  # experiment.QUANTITIES
    bounds = ["ntk_norm", "input_compression"]  # bounds.BOUNDED_QUANTITY names, or "all"
    delta = [0.05]             # grid: failure probability of the bounds
    n_points = 200             # I(Z;X) batch (default min(1000, n_test))
    n_draws = 8
    seed = 0

`load_config(path)` returns a `SweepConfig`: its `grid` maps every `experiment.evaluate_point`
argument to a list of values (grid keys as given, fixed keys as one value), so the sweep store's
manifest records the whole configuration and refuses a store written for another one.
"""

from __future__ import annotations

import difflib
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ntk_info import experiment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["GRID_KEYS", "SECTIONS", "SweepConfig", "load_config", "parse_config"]

#: Known keys of every table: (point argument, default, is a grid axis).
SECTIONS: dict[str, dict[str, tuple[str, Any, bool]]] = {
    "data": {
        "dataset": ("dataset", "mnist1d", False),
        "labels": ("labels", "onehot", False),
        "n_train": ("n_train", [200], True),
        "n_test": ("n_test", 200, False),
        "seed": ("data_seed", 0, False),
        "label_noise": ("label_noise", [0.0], True),
        "noise_seed": ("noise_seed", 0, False),
    },
    "architecture": {
        "W_std": ("W_std", [2.0**0.5], True),
        "b_std": ("b_std", [0.1], True),
        "depth": ("depth", [3], True),
        "activation": ("activation", ["relu"], True),
        "width": ("width", [math.inf], True),
        "n_samples": ("n_samples", 32, False),
        "seed": ("mc_seed", 0, False),
    },
    "training": {
        "mode": ("mode", "ntk", False),
        "diag_reg": ("diag_reg", 0.0, False),
    },
    "output": {
        "quantities": ("quantities", ["mse", "loss_bayes"], False),
        "bounds": ("bounds", [], False),
        "delta": ("delta", [0.05], True),
        "n_points": ("n_points", None, False),
        "n_draws": ("n_draws", 8, False),
        "seed": ("seed", 0, False),
    },
}
_TIME_KEYS = ("tau", "t", "tau_logspace", "t_logspace", "zero", "inf")
#: The grid axes a configuration may vary (a list in the TOML).
GRID_KEYS = tuple(arg for table in SECTIONS.values() for arg, _, grid in table.values() if grid)


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep configuration.

    Attributes:
      path: the TOML file.
      grid: point argument -> list of values (`sweep.sweep`'s product grid, the axes in
        `GRID_KEYS` order last-fastest, then the fixed arguments as one-value lists).
      varying: the grid axes with more than one value.
      time_column: 't' or 'tau', the variable the time grid was given in.
    """

    path: Path
    grid: dict[str, list[Any]]
    varying: tuple[str, ...]
    time_column: str

    @property
    def n_points(self) -> int:
        return int(np.prod([len(v) for v in self.grid.values()]))


def _unknown(where: str, keys: Any, known: Any) -> None:
    unknown = sorted(set(keys) - set(known))
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, list(known), n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(hints)}; the known keys are {sorted(known)}."
        )


def _as_list(where: str, value: Any) -> list[Any]:
    values = list(value) if isinstance(value, list) else [value]
    if not values:
        raise ValueError(f"{where} is an empty list: give at least one value.")
    return values


def _integers(where: str, values: list[Any], minimum: int) -> list[int]:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise ValueError(f"{where} must hold integers >= {minimum}, got {v!r}.")
    return [int(v) for v in values]


def _numbers(where: str, values: list[Any], low: float, high: float, closed: str) -> list[float]:
    """Floats in the interval (low, high) with the given closed ends ('', 'l', 'r', 'lr')."""
    for v in values:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)
        ok = ok and (v >= low if "l" in closed else v > low)
        ok = ok and (v <= high if "r" in closed else v < high)
        if not ok:
            lo, hi = ("[" if "l" in closed else "("), ("]" if "r" in closed else ")")
            raise ValueError(f"{where} must hold numbers in {lo}{low}, {high}{hi}, got {v!r}.")
    return [float(v) for v in values]


def _widths(values: list[Any]) -> list[float | int]:
    out: list[float | int] = []
    for v in values:
        if isinstance(v, float) and math.isinf(v) and v > 0:
            out.append(math.inf)
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or v < 1 or v != int(v):
            raise ValueError(
                f"[architecture] width must hold integers >= 1 or inf (infinite width), got {v!r}."
            )
        else:
            out.append(int(v))
    return out


def _times(table: Mapping[str, Any]) -> tuple[str, tuple[float, ...]]:
    """('t' or 'tau', the sorted-as-given grid) of the [time] table."""
    _unknown("[time]", table, _TIME_KEYS)
    given = [k for k in ("tau", "t", "tau_logspace", "t_logspace") if k in table]
    if len(given) != 1:
        raise ValueError(
            "[time] must give exactly one of tau = [...], t = [...], "
            f"tau_logspace = [lo, hi, num], t_logspace = [lo, hi, num]; got {given or 'none'}."
        )
    key = given[0]
    column = key.removesuffix("_logspace")
    if key.endswith("_logspace"):
        spec = table[key]
        if not (isinstance(spec, list) and len(spec) == 3):
            raise ValueError(f"[time] {key} must be [lo, hi, num] (powers of ten), got {spec!r}.")
        lo, hi = _numbers(f"[time] {key}[:2]", spec[:2], -math.inf, math.inf, "")
        (num,) = _integers(f"[time] {key}[2]", spec[2:], 1)
        values = list(np.logspace(lo, hi, num))
    else:
        values = _numbers(f"[time] {key}", _as_list(f"[time] {key}", table[key]), 0, math.inf, "lr")
    for flag in ("zero", "inf"):
        if not isinstance(table.get(flag, False), bool):
            raise ValueError(f"[time] {flag} must be true or false, got {table[flag]!r}.")
    if table.get("zero", False) and 0.0 not in values:
        values = [0.0, *values]
    if table.get("inf", False) and math.inf not in values:
        values = [*values, math.inf]
    return column, tuple(float(v) for v in values)


def _check_values(arg: str, values: list[Any], where: str) -> list[Any]:
    """Type and range of the values of one point argument."""
    from ntk_info.architectures import ACTIVATIONS
    from ntk_info.data import LABELS
    from ntk_info.ensemble import MODES

    if arg in ("n_train",):
        return _integers(where, values, 1)
    if arg in ("n_test", "n_samples", "n_draws"):
        return _integers(where, values, 1 if arg != "n_test" else 2)
    if arg in ("depth",):
        return _integers(where, values, 1)
    if arg in ("data_seed", "noise_seed", "mc_seed", "seed"):
        return _integers(where, values, 0)
    if arg == "n_points":
        return [None] if values == [None] else _integers(where, values, 2)
    if arg == "label_noise":
        return _numbers(where, values, 0.0, 1.0, "lr")
    if arg == "delta":
        return _numbers(where, values, 0.0, 1.0, "")
    if arg == "W_std":
        return _numbers(where, values, 0.0, math.inf, "")
    if arg in ("b_std", "diag_reg"):
        return _numbers(where, values, 0.0, math.inf, "l")
    if arg == "width":
        return _widths(values)
    options = {"activation": ACTIVATIONS, "mode": MODES, "labels": LABELS}.get(arg)
    if options is not None:
        bad = [v for v in values if v not in options]
        if bad:
            raise ValueError(f"{where} must be one of {list(options)}, got {bad[0]!r}.")
    return values


def _section(name: str, table: Any, root: Path) -> dict[str, list[Any]]:
    """Point argument -> list of values for one TOML table (defaults filled in)."""
    known = SECTIONS[name]
    if not isinstance(table, Mapping):
        raise ValueError(f"[{name}] must be a table, got {type(table).__name__}.")
    _unknown(f"[{name}]", table, known)
    out: dict[str, list[Any]] = {}
    for key, (arg, default, is_grid) in known.items():
        where = f"[{name}] {key}"
        value = table.get(key, default)
        if arg in ("quantities", "bounds"):
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{where} must be a list of names, got {value!r}.")
            out[arg] = [tuple(value)]
            continue
        if is_grid:
            values = _as_list(where, value)
        elif isinstance(value, list):
            raise ValueError(f"{where} is a single value, not a grid; got the list {value!r}.")
        else:
            values = [value]
        if arg == "dataset":
            values = [_dataset(where, values[0], root)]
        out[arg] = _check_values(arg, values, where)
    return out


def _dataset(where: str, value: Any, root: Path) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {value!r}.")
    if value in experiment.DATASETS:
        return value
    path = (root / value).resolve()
    if path.suffix != ".npz" or not path.is_file():
        raise ValueError(
            f"{where} must be one of {experiment.DATASETS} or an existing .npz file (relative "
            f"to the config file), got {value!r} ({path} does not exist)."
        )
    return str(path)


def _check_output(point: dict[str, list[Any]]) -> None:
    (quantities,), (bounds,) = point["quantities"], point["bounds"]
    unknown = [q for q in quantities if q not in experiment.QUANTITIES]
    if unknown:
        raise ValueError(
            f"[output] quantities has unknown name(s) {unknown}; choose from "
            f"{list(experiment.QUANTITIES)}."
        )
    if not quantities and not bounds:
        raise ValueError("[output] needs at least one of quantities = [...] and bounds = [...].")
    if "all" in bounds and len(bounds) > 1:
        raise ValueError("[output] bounds: give 'all' alone or a list of column names.")
    from ntk_info.bounds import BINARY_ONLY, BOUNDED_QUANTITY

    unknown = [b for b in bounds if b not in (*BOUNDED_QUANTITY, "all")]
    if unknown:
        raise ValueError(
            f"[output] bounds has unknown name(s) {unknown}; choose from "
            f"{list(BOUNDED_QUANTITY)} (bounds.BOUNDED_QUANTITY) or 'all'."
        )
    (labels,) = point["labels"]
    binary = [b for b in bounds if b in BINARY_ONLY]
    if binary and labels != "parity":
        raise ValueError(
            f'[output] bounds {binary} need binary labels: set [data] labels = "parity" '
            "(or leave them out; 'all' takes every bound that applies)."
        )
    if labels == "regression" and "accuracy" in quantities:
        raise ValueError("[output] quantities: 'accuracy' needs labels; gaussian has none.")


def _check_sizes(point: dict[str, list[Any]]) -> None:
    (dataset,), (n_test,) = point["dataset"], point["n_test"]
    limit = experiment.available_train(dataset, n_test)
    largest = max(point["n_train"])
    if limit is not None and largest > limit:
        raise ValueError(
            f"[data] n_train = {largest} is larger than the data: {dataset!r} has {limit} "
            f"training points with n_test = {n_test}; lower n_train (or n_test)."
        )
    (n_points,) = point["n_points"]
    if n_points is not None and n_points > n_test:
        raise ValueError(f"[output] n_points = {n_points} exceeds n_test = {n_test}.")


def parse_config(raw: Mapping[str, Any], *, root: Path = Path(".")) -> SweepConfig:
    """A `SweepConfig` from the parsed TOML mapping `raw` (paths relative to `root`).

    Raises:
      ValueError: unknown tables or keys, empty grids, widths < 1, n_train larger than the
        data, values of the wrong type or range: each message names the key and the fix.
    """
    _unknown("config", raw, [*SECTIONS, "time"])
    if "time" not in raw:
        raise ValueError("config: the [time] table is required (e.g. tau_logspace = [-3, 3, 20]).")
    point: dict[str, list[Any]] = {}
    for name in SECTIONS:
        point.update(_section(name, raw.get(name, {}), root))
    if not isinstance(raw["time"], Mapping):
        raise ValueError("[time] must be a table.")
    column, times = _times(raw["time"])
    point[f"{column}_grid"] = [times]
    if point["dataset"] == ["gaussian"]:
        point["labels"] = ["regression"]  # Gaussian data has regression targets
    _check_output(point)
    _check_sizes(point)
    largest = max(point["n_train"])
    point["n_pool"] = [largest]
    grid = {k: point[k] for k in GRID_KEYS}
    grid.update({k: v for k, v in point.items() if k not in GRID_KEYS})
    varying = tuple(k for k in GRID_KEYS if len(grid[k]) > 1)
    for k in GRID_KEYS:
        if len(set(grid[k])) != len(grid[k]):
            raise ValueError(f"the grid {k} = {grid[k]} repeats a value; list each value once.")
    return SweepConfig(path=root, grid=grid, varying=varying, time_column=column)


def load_config(path: str | Path) -> SweepConfig:
    """Reads and validates a sweep TOML file (see the module docstring for its keys)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No sweep configuration at {path}.")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path} is not valid TOML: {error}") from error
    config = parse_config(raw, root=path.resolve().parent)
    return SweepConfig(
        path=path, grid=config.grid, varying=config.varying, time_column=config.time_column
    )
