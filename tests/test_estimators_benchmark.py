"""The estimator benchmark: `ntk-info estimators-benchmark --quick`, its table, its resumability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ntk_info import estimators_benchmark as bench
from ntk_info.cli import main


def test_quick_cli_writes_tidy_table_and_resumes(tmp_path, capsys):
    """The --quick command writes raw.csv, summary.csv and the figure; the summary's bias is the
    mean of (estimate - truth) recomputed here from raw.csv; the Gaussian task's truth is the
    exact 1 nat; consistent estimators with known noise (SP, the known-conditional InfoNCE) are
    within 0.1 nat of the MC truth on the noisy-network task, and that truth's se is >= 20x
    smaller than the errors the benchmark reports for binning and the KDE upper bound. A second
    run with the same store recomputes nothing (same numbers, including the timings)."""
    out = tmp_path / "bench"
    assert main(["estimators-benchmark", "--quick", "--out", str(out), "--no-progress"]) == 0
    raw = pd.read_csv(out / "raw.csv")
    summary = pd.read_csv(out / "summary.csv")
    assert (out / "estimate_vs_truth.png").stat().st_size > 1000
    assert set(raw["task"]) == {"gaussian", "noisy_network"}
    gaussian = raw[raw["task"] == "gaussian"]
    np.testing.assert_allclose(gaussian["true_mi"], 1.0, atol=1e-12)
    row = summary[(summary["task"] == "gaussian") & (summary["estimator"] == "ksg")].iloc[0]
    part = raw[(raw["task"] == "gaussian") & (raw["estimator"] == "ksg")]
    assert row["bias"] == pytest.approx((part["estimate"] - part["true_mi"]).mean(), abs=1e-12)
    assert row["std"] == pytest.approx(part["estimate"].std(ddof=1), abs=1e-12)
    noisy = summary[summary["task"] == "noisy_network"].set_index("estimator")
    for name in ("sample_propagation", "infonce_known_conditional"):
        assert abs(noisy.loc[name, "bias"]) < 0.1, noisy.loc[name]
    for name in ("binning", "kde_upper"):
        assert noisy.loc[name, "truth_se_ratio"] >= 20, noisy.loc[name]
    assert "sample_propagation" in capsys.readouterr().out
    again = bench.run("quick", store=out / "store-quick", progress=False)
    pd.testing.assert_series_equal(again["time_s"], raw["time_s"], check_names=False)


def test_bad_task_and_scale_raise():
    """Unknown task names and scales name the argument; an unattainable channel MI says so."""
    with pytest.raises(ValueError, match="task"):
        bench.build_task("spirals", 2, 1.0)
    with pytest.raises(ValueError, match="scale"):
        bench.run("medium", store="unused")
    with pytest.raises(ValueError, match="mi"):
        bench.build_task("noisy_network", 2, 10.0)


def test_cli_grid_overrides_on_two_workers_match_serial(tmp_path):
    """--tasks/--estimators/--dims/--mis/--n-samples/--seeds replace the grid's entries, and a
    run on a 2-worker dask cluster gives the serial run's estimates (same seeds, same points)."""
    args = ["estimators-benchmark", "--quick", "--no-progress", "--tasks", "gaussian"]
    args += ["--estimators", "ksg", "kozachenko_leonenko", "--dims", "1", "3", "--mis", "0.5"]
    args += ["--n-samples", "150", "--seeds", "3"]
    assert main([*args, "--out", str(tmp_path / "serial")]) == 0
    assert main([*args, "--out", str(tmp_path / "dask"), "--workers", "2"]) == 0
    serial = pd.read_csv(tmp_path / "serial" / "raw.csv")
    assert len(serial) == 2 * 1 * 1 * 3 * 2
    assert set(serial["dim"]) == {1, 3} and set(serial["seed"]) == {0, 1, 2}
    assert set(serial["estimator"]) == {"ksg", "kozachenko_leonenko"}
    np.testing.assert_allclose(serial["true_mi"], 0.5, atol=1e-12)
    dask = pd.read_csv(tmp_path / "dask" / "raw.csv")
    np.testing.assert_array_equal(dask["estimate"], serial["estimate"])


def test_unknown_estimator_or_task_in_grid_raises():
    """A misspelt estimator or task is refused by name, not silently dropped from the grid."""
    with pytest.raises(ValueError, match="ksgg"):
        bench.grid(
            tasks=["gaussian"], dims=[1], mis=[1.0], n_samples=[100], seeds=[0], estimators=["ksgg"]
        )
    with pytest.raises(ValueError, match="spirals"):
        bench.grid(tasks=["spirals"], dims=[1], mis=[1.0], n_samples=[100], seeds=[0])


def test_entropy_estimators_get_labels_for_a_discrete_x():
    """On a channel task X is uniform over N inputs (rows repeat): KL sees x as labels and
    estimates h(Z) - sum_x p(x) h(Z|X=x) (finite, within 0.2 nats of the MC truth at 3000
    samples), instead of refusing the zero neighbour distances of h(X)."""
    x = np.repeat(np.eye(3), 2, axis=0)
    np.testing.assert_array_equal(bench._as_labels_if_discrete(x), [2, 2, 1, 1, 0, 0])
    continuous = np.random.default_rng(0).standard_normal((5, 2))
    assert bench._as_labels_if_discrete(continuous) is continuous
    row = bench.run_point("noisy_network", 2, 1.0, 3000, 0, "kozachenko_leonenko")
    assert row["error"] == "" and abs(row["estimate"] - row["true_mi"]) < 0.2
