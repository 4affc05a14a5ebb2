"""`ntk-info sweep`: configs, validation before work, the point function, its ensemble cache."""

from __future__ import annotations

import collections
import inspect
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ntk_info import cli, data, experiment, sweep_cli
from ntk_info._jax import float64
from ntk_info.sweep_config import GRID_KEYS, load_config, parse_config

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))

TINY = """
[data]
dataset = "mnist1d"
labels = "parity"
n_train = [20, 30]
n_test = 25

[architecture]
W_std = [1.2]
depth = [2]

[time]
tau = [0.5, 5.0]
inf = true

[output]
quantities = ["mse", "loss_bayes"]
bounds = ["ntk_norm"]
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _nt_mse_and_bayes(ds, W_std, depth, b_std, times):
    """mse and loss_bayes from neural-tangents' gradient_descent_mse_ensemble and numpy."""
    import jax.numpy as jnp

    from ntk_info._nt import load

    nt = load()
    _, _, kernel_fn = nt.stax.serial(
        *[
            layer
            for _ in range(depth - 1)
            for layer in (nt.stax.Dense(8, W_std=W_std, b_std=b_std), nt.stax.Relu())
        ],
        nt.stax.Dense(ds.n_outputs, W_std=W_std, b_std=b_std),
    )
    with float64():
        predict = nt.predict.gradient_descent_mse_ensemble(
            kernel_fn, jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
        )
        mse, bayes = [], []
        for t in times:
            mean, cov = predict(
                t=None if np.isinf(t) else t, x_test=ds.x_test, get="ntk", compute_cov=True
            )
            mean, var = np.asarray(mean), np.diag(np.asarray(cov))
            sq = np.sum((ds.y_test - mean) ** 2, axis=1)
            k = ds.n_outputs
            mse.append(np.mean(sq) / k)
            bayes.append(np.mean(sq / (2 * (1 + var)) + 0.5 * k * np.log(2 * np.pi * (1 + var))))
    return np.array(mse), np.array(bayes)


def test_tiny_config_end_to_end_matches_neural_tangents_and_rerun_computes_nothing(
    tmp_path, monkeypatch, capsys
):
    """The CLI writes the CSV and PNGs; its mse and Bayes loss equal neural-tangents' own
    predictive (gradient_descent_mse_ensemble, float64) reduced by numpy, to 1e-8 (the two
    eigendecompositions differ in rounding only). A second run reads every point from the
    store: the point function is never called."""
    config = _write(tmp_path, TINY)
    out = tmp_path / "out"
    assert cli.main(["sweep", str(config), "--out", str(out), "--no-progress"]) == 0
    assert "2 points (n_train)" in capsys.readouterr().out
    table = pd.read_csv(out / "sweep.csv")
    for png in ("vs_t.png", "vs_n_train.png"):
        assert (out / png).stat().st_size > 1000
    assert len(table) == 2 * 3
    assert {"n_train", "W_std", "t", "tau", "mse", "loss_bayes", "ntk_norm", "error_test"} <= set(
        table.columns
    )
    pool = data.mnist1d(30, 25, labels="parity")
    ds = data.subsample(pool, 20)
    rows = table[table["n_train"] == 20]
    times = rows["t"].to_numpy()
    np.testing.assert_allclose(rows["tau"].to_numpy(), [0.5, 5.0, np.inf])
    np.testing.assert_allclose(times[:2], [0.5 * 20, 5.0 * 20])
    mse, bayes = _nt_mse_and_bayes(ds, 1.2, 2, 0.1, times)
    np.testing.assert_allclose(rows["mse"], mse, rtol=1e-8)
    np.testing.assert_allclose(rows["loss_bayes"], bayes, rtol=1e-8)

    calls = []
    monkeypatch.setattr(sweep_cli, "evaluate_point", lambda **p: calls.append(p))
    written = (out / "sweep.csv").read_text()
    sweep_cli.run_sweep(config, out=out, progress=False, plots=False)
    assert calls == []
    assert (out / "sweep.csv").read_text() == written


def test_points_sharing_an_ensemble_compute_kernels_once(monkeypatch):
    """Counts the training-kernel computations (calls of kernels.kernel_matrices on the
    training inputs alone, as InfiniteEnsemble makes them): points that differ only in the
    time grid, quantities, bounds or delta reuse one ensemble; n_train, label noise and the
    architecture each need a new one. The reused ensemble gives the numbers a fresh one gives."""
    from ntk_info import ensemble as ensemble_module

    real = ensemble_module.kernel_matrices
    train_calls = []

    def counting(kernel_fn, x1, x2=None, **kwargs):
        if x2 is None and "ntk" in kwargs.get("get", ()):
            train_calls.append(x1.shape[0])
        return real(kernel_fn, x1, x2, **kwargs)

    monkeypatch.setattr(ensemble_module, "kernel_matrices", counting)
    experiment.ENSEMBLES.clear()
    base = dict(dataset="mnist1d", labels="parity", n_train=16, n_test=12, depth=2, W_std=1.3)
    first = experiment.evaluate_point(**base, tau_grid=(0.1, 1.0), quantities=("mse",))
    experiment.evaluate_point(**base, tau_grid=(2.0,), quantities=("mse", "loss_gibbs"))
    experiment.evaluate_point(**base, t_grid=(1.0,), bounds=("ntk_norm",), delta=0.1)
    experiment.evaluate_point(**base, t_grid=(1.0,), bounds=("ntk_norm",), delta=0.2)
    assert train_calls == [16]
    assert (experiment.ENSEMBLES.builds, experiment.ENSEMBLES.hits) == (1, 3)
    experiment.evaluate_point(**{**base, "n_train": 14, "n_pool": 16}, tau_grid=(1.0,))
    experiment.evaluate_point(**base, label_noise=0.5, tau_grid=(1.0,))
    experiment.evaluate_point(**{**base, "W_std": 1.5}, tau_grid=(1.0,))
    assert train_calls == [16, 14, 16, 16]
    experiment.ENSEMBLES.clear()
    fresh = experiment.evaluate_point(**base, tau_grid=(0.1, 1.0), quantities=("mse",))
    pd.testing.assert_frame_equal(first, fresh)
    assert train_calls == [16, 14, 16, 16, 16]


def test_ensemble_cache_is_bounded_and_least_recently_used(monkeypatch):
    """With max_entries = 2 the least recently used key is evicted; max_bytes bounds memory."""
    built = []
    monkeypatch.setattr(experiment, "_build", lambda key: built.append(key) or key)
    keys = [
        experiment.EnsembleKey(
            "mnist1d", n, n, 10, "onehot", 0, 0.0, 0, 1.0, 0.1, 2, "relu", math.inf, 0, 0, "ntk", 0
        )
        for n in (10, 20, 30)
    ]
    cache = experiment.EnsembleCache(max_entries=2)
    cache.get(keys[0]), cache.get(keys[1]), cache.get(keys[0]), cache.get(keys[2])
    assert len(cache) == 2 and (cache.builds, cache.hits) == (3, 1)
    cache.get(keys[0])  # kept (used most recently before keys[2] came)
    cache.get(keys[1])  # evicted: rebuilt
    assert built == [keys[0], keys[1], keys[2], keys[1]]
    small = experiment.EnsembleCache(max_entries=10, max_bytes=keys[1].nbytes() + 1)
    small.get(keys[0]), small.get(keys[1])
    assert len(small) == 1
    with pytest.raises(ValueError, match="max_entries"):
        experiment.EnsembleCache(max_entries=0)


def test_label_noise_is_data_shuffle_labels_of_the_subsample():
    """The ensemble of label_noise = f trains on data.shuffle_labels(subsample, f, seed)."""
    experiment.ENSEMBLES.clear()
    point = dict(dataset="mnist1d", labels="parity", n_train=20, n_pool=30, n_test=10, depth=2)
    experiment.evaluate_point(**point, label_noise=0.5, noise_seed=3, tau_grid=(1.0,))
    ((key, (ds, ensemble)),) = experiment.ENSEMBLES.entries()
    expected = data.shuffle_labels(
        data.subsample(data.mnist1d(30, 10, labels="parity"), 20), 0.5, seed=3
    )
    np.testing.assert_array_equal(ensemble.y_train, expected.y_train)
    np.testing.assert_array_equal(ds.x_test, expected.x_test)
    assert key.label_noise == 0.5 and np.any(
        expected.y_train != data.subsample(data.mnist1d(30, 10, labels="parity"), 20).y_train
    )


def _raw(**changes):
    raw = {
        "data": {"dataset": "digits", "n_train": [50], "n_test": 100},
        "architecture": {"W_std": [1.0], "width": [math.inf]},
        "time": {"tau": [1.0]},
        "output": {"quantities": ["mse"]},
    }
    for where, value in changes.items():
        table, key = where.split(".")
        if value is None:
            raw[table].pop(key, None)
        else:
            raw.setdefault(table, {})[key] = value
    return raw


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"data.n_trian": [5]}, r"\[data\]: unknown key\(s\) 'n_trian' \(did you mean 'n_train'"),
        ({"model.depth": 3}, r"config: unknown key\(s\) 'model'"),
        ({"architecture.W_std": []}, r"\[architecture\] W_std is an empty list"),
        ({"data.label_noise": []}, r"\[data\] label_noise is an empty list"),
        ({"architecture.width": [64, 0]}, r"width must hold integers >= 1 or inf"),
        ({"architecture.width": [2.5]}, r"width must hold integers >= 1 or inf"),
        ({"data.n_train": [50, 1700]}, r"n_train = 1700 is larger than the data.*1697"),
        ({"data.n_test": [100]}, r"\[data\] n_test is a single value"),
        ({"time.tau": None}, r"\[time\] must give exactly one of"),
        ({"time.t": [-1.0], "time.tau": None}, r"\[time\] t must hold numbers in \[0"),
        ({"output.quantities": ["mse", "izx"]}, r"unknown name\(s\) \['izx'\]"),
        ({"output.bounds": ["gap"]}, r"bounds has unknown name\(s\) \['gap'\]"),
        ({"output.bounds": ["pac_bayes_realizable"]}, r"need binary labels"),
        ({"output.delta": [1.5]}, r"\[output\] delta must hold numbers in \(0.0, 1.0\)"),
        ({"data.dataset": "missing.npz"}, r"or an existing .npz file"),
        ({"architecture.activation": ["sigmoid"]}, r"activation must be one of"),
        ({"architecture.depth": [3, 3]}, r"repeats a value"),
    ],
)
def test_bad_configs_raise_before_any_work(changes, match):
    with pytest.raises(ValueError, match=match):
        parse_config(_raw(**changes))


def test_cli_reports_a_bad_config_and_writes_nothing(tmp_path, capsys):
    config = _write(tmp_path, TINY.replace("depth = [2]", "depth = [2]\nwidht = [4]"))
    assert cli.main(["sweep", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "unknown key(s) 'widht' (did you mean 'width'?)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_parse_into_grids_of_evaluate_point(path):
    """Every configs/*.toml validates; its grid names evaluate_point's arguments, its varying
    axes are real grid axes, and it documents its command."""
    config = load_config(path)
    parameters = set(inspect.signature(experiment.evaluate_point).parameters)
    assert set(config.grid) <= parameters
    assert set(config.varying) <= set(GRID_KEYS)
    assert config.n_points == math.prod(len(v) for v in config.grid.values()) >= 2
    assert f"ntk-info sweep configs/{path.name}" in path.read_text()


def test_two_dask_workers_give_the_serial_table(tmp_path):
    """--workers 2 (a dask LocalCluster of 2 workers: threads here, to keep the test short;
    the CLI's are processes) writes the serial run's table."""
    pytest.importorskip("distributed")
    config = load_config(_write(tmp_path, TINY))
    serial = sweep_cli.run_sweep(config, out=tmp_path / "serial", progress=False, plots=False)
    parallel = sweep_cli.run_sweep(
        config, out=tmp_path / "dask", workers=2, progress=False, plots=False, processes=False
    )
    pd.testing.assert_frame_equal(parallel, serial, check_exact=False, rtol=1e-12)


def test_finite_width_point_uses_the_monte_carlo_kernels(monkeypatch):
    """width = w calls finite.monte_carlo_kernel_fn(fc(depth, width=w, ...), n_samples=S,
    seed=mc_seed) and trains the ensemble on the kernel_fn it returns. The Monte Carlo kernel
    itself (compiling it costs minutes on 2 cores) is finite.py's to test: here a stand-in
    returns the analytic kernel_fn scaled by 2 (Theta -> 2 Theta), whose converged mean
    Theta_* Theta^{-1} Y is unchanged and whose prior variance doubles, checked against
    the infinite-width point."""
    import jax

    from ntk_info import finite

    calls = []

    def stand_in(architecture, *, n_samples, seed=0):
        init_fn, _, kernel_fn = architecture
        _, params = init_fn(jax.random.PRNGKey(0), (-1, 40))
        calls.append((params[0][0].shape, n_samples, seed))

        def scaled(x1, x2=None, get=None):
            if isinstance(get, str):
                return 2.0 * kernel_fn(x1, x2, get)
            out = kernel_fn(x1, x2, get)
            fields = collections.namedtuple("Kernels", get)
            return fields(**{name: 2.0 * getattr(out, name) for name in get})

        return scaled

    monkeypatch.setattr(finite, "monte_carlo_kernel_fn", stand_in)
    experiment.ENSEMBLES.clear()
    point = dict(dataset="mnist1d", labels="parity", n_train=12, n_test=8, depth=2, W_std=1.3)
    times = dict(t_grid=(0.0, math.inf), quantities=("mse", "loss_gibbs"))
    finite_w = experiment.evaluate_point(**point, width=32, n_samples=3, mc_seed=5, **times)
    infinite = experiment.evaluate_point(**point, **times)
    assert calls == [((40, 32), 3, 5)]
    np.testing.assert_allclose(finite_w["mse"], infinite["mse"], rtol=1e-8)
    # Gibbs loss at t = 0: (1/2) E y^2 + (k/2) s + const with s the prior variance, doubled.
    gap = finite_w["loss_gibbs"].iloc[0] - infinite["loss_gibbs"].iloc[0]
    ds = data.mnist1d(12, 8, labels="parity")
    from ntk_info.architectures import fc

    with float64():
        prior = np.asarray(fc(2, W_std=1.3)[2](ds.x_test, None, "nngp")).diagonal()
    np.testing.assert_allclose(gap, 0.5 * np.mean(prior), rtol=1e-8)


WIDTH = """
[data]
dataset = "mnist1d"
labels = "parity"
n_train = [40]
n_test = 40

[architecture]
W_std = [1.414]
depth = [2]
width = [8, inf]
n_samples = 4
seed = 0

[training]
diag_reg = 1e-6

[time]
tau_logspace = [-1, 2, 4]
inf = true

[output]
quantities = ["mse", "kl_prior"]
bounds = ["ntk_norm"]
n_points = 40
"""


def test_width_config_runs_the_real_monte_carlo_kernels_end_to_end(tmp_path):
    """A width sweep through the CLI with the real finite.monte_carlo_kernel_fn (4 networks of
    width 8): the table and vs_width.png are written, the width-inf rows equal the infinite
    point's, and the width-8 rows equal an InfiniteEnsemble built by hand on the same Monte
    Carlo kernel (same networks: same seed), so the CLI plumbs width, n_samples and seed through."""
    from ntk_info import finite
    from ntk_info.architectures import fc
    from ntk_info.ensemble import InfiniteEnsemble

    out = tmp_path / "out"
    assert (
        cli.main(["sweep", str(_write(tmp_path, WIDTH)), "--out", str(out), "--no-progress"]) == 0
    )
    assert (out / "vs_width.png").stat().st_size > 1000
    table = pd.read_csv(out / "sweep.csv")
    finite_rows = table[table["width"] == 8]
    assert len(finite_rows) == len(table) // 2 == 5
    ds = data.subsample(data.mnist1d(40, 40, labels="parity"), 40)
    kernel_fn = finite.monte_carlo_kernel_fn(fc(2, width=8, W_std=1.414), n_samples=4, seed=0)
    ensemble = InfiniteEnsemble(kernel_fn, ds.x_train, ds.y_train, diag_reg=1e-6)
    times = finite_rows["t"].to_numpy()
    mean = ensemble.predict(ds.x_test, times).mean
    mse = ((mean - ds.y_test[None]) ** 2).mean(axis=(1, 2))
    np.testing.assert_allclose(finite_rows["mse"], mse, rtol=1e-6)
    infinite_rows = table[np.isinf(table["width"])]
    assert not np.allclose(finite_rows["mse"].to_numpy(), infinite_rows["mse"].to_numpy())
