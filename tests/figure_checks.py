"""Run a `paper_figures/` script in --quick mode, as a user would, and read back what it wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from ntk_info import figures


def run_quick(name: str, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the figure's CSV, its claims table) after ``<name>.py --quick --out out``.

    Fails when the script exits non-zero (a claim that does not hold in --quick mode does), when
    the PNG or the CSV is missing or empty.
    """
    script = figures.list_figures()[name]
    done = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"{name} --quick failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    png, csv = out / f"{name}.png", out / f"{name}.csv"
    assert png.stat().st_size > 1000, f"{png} is empty"
    frame = pd.read_csv(csv)
    assert len(frame) > 0 and frame.notna().any().all(), f"{csv} is empty or has all-NaN columns"
    claims = pd.read_csv(out / f"{name}_claims.csv")
    assert len(claims) > 0 and claims["holds"].all(), claims.to_string()
    return frame, claims
