"""The `ntk-info` command: the demo and the dual-IB figure on small settings."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ntk_info import cli


def test_demo_writes_information_plane_table_and_figures(tmp_path, capsys):
    """The demo on the Gaussian dataset prints the table, writes both PNGs and the CSV; the
    CSV has the API-contract columns, the I(Z;X) batch is the --n-points asked for, and the
    InfoNCE bound respects its cap log N."""
    n_test = 40
    code = cli.main(
        [
            "demo",
            "--dataset", "gaussian",
            "--n-train", "60",
            "--n-test", str(n_test),
            "--times", "6",
            "--n-points", str(n_test // 2),
            "--draws", "2",
            "--out", str(tmp_path),
            "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "izx_lower" in printed and "gaussian" in printed
    for name in ("information_plane.png", "quantities.png"):
        assert (tmp_path / name).stat().st_size > 1000
    frame = pd.read_csv(tmp_path / "information_plane.csv")
    assert len(frame) == 6 + 2
    for column in ("t", "izx_lower", "izx_upper", "izy_lower", "loss_bayes", "loss_gibbs"):
        assert column in frame
    assert np.all(frame["n_points"] == n_test // 2)
    assert np.all(frame["izx_lower"] <= np.log(n_test // 2) + 1e-9)
    assert f"N={n_test // 2} test points" in printed
    assert frame["t"].iloc[0] == 0 and np.isinf(frame["t"].iloc[-1])


def test_dualib_command_writes_both_figures(tmp_path):
    assert cli.main(["dualib", "--betas", "80", "--tol", "1e-9", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "dualib_bifurcation.png").stat().st_size > 1000
    assert (tmp_path / "dualib_information_plane.png").stat().st_size > 1000


def test_console_script_is_installed():
    """`pip install` puts the console script next to the interpreter running the tests."""
    exe = Path(sys.executable).parent / "ntk-info"
    assert exe.exists(), "the `ntk-info` console script is missing: install the package"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    assert "demo" in out and "dualib" in out


def test_every_figure_script_is_listed_and_tested(capsys):
    """`ntk-info figures --list` shows every script in paper_figures/ with its description, and
    every script is run in --quick mode by some tests/test_figures_*.py."""
    from ntk_info import figures

    assert cli.main(["figures", "--list"]) == 0
    printed = capsys.readouterr().out
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_figures_*.py"))
    for name, script in figures.list_figures().items():
        assert name in printed and figures.describe(script), name
        assert f'"{name}"' in tests, f"no tests/test_figures_*.py runs {name} --quick"


def test_figures_command_refuses_unknown_names():
    import pytest

    with pytest.raises(ValueError, match="unknown figure"):
        cli.main(["figures", "no_such_figure", "--quick"])
