"""What every script in `paper_figures/` shares: its command line, its outputs, its claims.

A figure script defines

    NAME = "fig1_test_loss"          # the stem of its outputs and its name in `ntk-info figures`
    def make(scale: str) -> tuple[pandas.DataFrame, matplotlib.figure.Figure]
    def claims(frame: pandas.DataFrame) -> list[Claim]

and ends with ``if __name__ == "__main__": raise SystemExit(run(NAME, make, claims))``.
``scale`` is ``"quick"`` (seconds to a minute on 2 cores, for the test suite) or ``"full"``
(the paper's scale, the default). `run` writes ``<out>/<NAME>.png``, ``<out>/<NAME>.csv`` (the
numbers behind the figure) and ``<out>/<NAME>_claims.csv`` (each claim, whether it holds and
the number that decides it), prints the claims, and in ``--quick`` mode fails (exit status 1)
when one does not hold.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Claim", "run", "SCALES"]

SCALES = ("quick", "full")


@dataclass(frozen=True)
class Claim:
    """One statement the figure illustrates, whether the run's numbers satisfy it, and why."""

    text: str
    holds: bool
    evidence: str


def _parser(name: str, doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=(doc or "").split("\n\n")[0])
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="small settings (the test suite's)")
    scale.add_argument("--full", action="store_true", help="the paper's scale (the default)")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="output directory")
    return parser


def run(
    name: str,
    make: Callable[[str], tuple[Any, Any]],
    claims: Callable[[Any], list[Claim]],
    argv: Sequence[str] | None = None,
    doc: str | None = None,
) -> int:
    """Parse the command line, make the figure, write PNG + CSV + claims; the exit status."""
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    args = _parser(name, doc).parse_args(argv)
    scale = "quick" if args.quick else "full"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    frame, fig = make(scale)
    png, csv = out / f"{name}.png", out / f"{name}.csv"
    fig.savefig(png, dpi=130, bbox_inches="tight")
    frame.to_csv(csv, index=False)
    checked = claims(frame)
    pd.DataFrame(
        {
            "claim": [c.text for c in checked],
            "holds": [bool(c.holds) for c in checked],
            "evidence": [c.evidence for c in checked],
        }
    ).to_csv(out / f"{name}_claims.csv", index=False)
    elapsed = time.perf_counter() - start
    print(f"{name} ({scale}): wrote {png} and {csv} in {elapsed:.1f} s")
    for c in checked:
        print(f"  [{'holds' if c.holds else 'FAILS'}] {c.text}: {c.evidence}")
    failed = [c for c in checked if not c.holds]
    if failed and scale == "quick":
        print(f"{name}: {len(failed)} claim(s) fail in --quick mode", file=sys.stderr)
        return 1
    return 0
