"""`ntk-info figures`: find, list and run the scripts in the repository's `paper_figures/`.

Each script (``paper_figures/<name>.py``, names starting with ``_`` excluded) runs in its own
Python process with ``--quick`` or ``--full`` and ``--out DIR``; it writes ``<name>.png``,
``<name>.csv`` and ``<name>_claims.csv`` there. The directory is found next to the installed
package (an editable install or a checkout), or where ``$NTK_INFO_PAPER_FIGURES`` points.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["figures_dir", "list_figures", "describe", "run_figures"]

ENV_VAR = "NTK_INFO_PAPER_FIGURES"


def figures_dir() -> Path:
    """The `paper_figures/` directory: ``$NTK_INFO_PAPER_FIGURES`` or the checkout's own."""
    path = Path(os.environ.get(ENV_VAR, Path(__file__).resolve().parents[1] / "paper_figures"))
    if not path.is_dir():
        raise FileNotFoundError(
            f"no paper_figures/ directory at {path}: run from a checkout of ntk_info "
            f"(pip install -e .) or set ${ENV_VAR} to the directory."
        )
    return path


def list_figures(directory: Path | None = None) -> dict[str, Path]:
    """Every figure script, by name, sorted."""
    directory = figures_dir() if directory is None else Path(directory)
    return {p.stem: p for p in sorted(directory.glob("*.py")) if not p.stem.startswith("_")}


def describe(script: Path) -> str:
    """The first line of a script's docstring, read without importing it."""
    doc = ast.get_docstring(ast.parse(Path(script).read_text())) or ""
    return doc.strip().split("\n")[0]


def run_figures(
    names: Sequence[str] = (),
    *,
    quick: bool = False,
    out: Path = Path("figures"),
    directory: Path | None = None,
) -> list[tuple[str, int, float]]:
    """Run the named scripts (all when none are named); (name, exit status, seconds) each."""
    available = list_figures(directory)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(
            f"unknown figure(s) {unknown}; `ntk-info figures --list` shows {sorted(available)}."
        )
    results = []
    for name in names or list(available):
        start = time.perf_counter()
        command = [sys.executable, str(available[name]), "--quick" if quick else "--full"]
        code = subprocess.run([*command, "--out", str(out)], check=False).returncode
        results.append((name, code, time.perf_counter() - start))
    return results
