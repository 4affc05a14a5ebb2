"""Issue 10: Butakov et al.'s compressed-estimator information plane, run with --quick."""

from __future__ import annotations

import numpy as np
from figure_checks import run_quick

LAYERS = ("conv1", "conv2", "dense", "logits")


def test_compressed_plane(tmp_path):
    """ "compressed_plane": re-checked from the CSV: every (epoch, layer) row is there once;
    I(L;Y) lies in [-0.1, ln 10 + 0.1] (a k-NN estimate may dip slightly below 0); the
    accuracies are fractions and the final test accuracy beats chance; the ground-truth rows
    (known I, independent of the net) are within 0.1 + 30% of the truth and ordered as it."""
    frame, claims = run_quick("compressed_plane", tmp_path)
    plane, truth = frame[frame["kind"] == "plane"], frame[frame["kind"] == "truth"]
    counts = plane.groupby(["epoch", "layer"]).size()
    assert (counts == 1).all() and set(plane["layer"]) == set(LAYERS)
    assert plane["epoch"].min() == 0 and plane["epoch"].nunique() >= 4
    assert plane[["ixl", "ily"]].notna().all().all()
    assert ((plane["ily"] >= -0.1) & (plane["ily"] <= np.log(10) + 0.1)).all()
    for column in ("train_accuracy", "test_accuracy"):
        assert ((plane[column] >= 0) & (plane[column] <= 1)).all()
    final = plane[plane["epoch"] == plane["epoch"].max()]
    assert (final["test_accuracy"] > 0.2).all()
    assert ((truth["ixl"] - truth["true_mi"]).abs() <= 0.1 + 0.3 * truth["true_mi"]).all()
    assert np.all(np.diff(truth.sort_values("true_mi")["ixl"].to_numpy()) > 0)
    assert len(claims) == 3 + len(LAYERS)
