"""`paper_figures/bounds_vs_n.py --quick`: bounds vs the true gap over n_train, random labels.

Beyond the script's own claims (checked by `run_quick`), the CSV's numbers against independent
facts: at t = inf the ensemble interpolates (train error 0, so the error gap is the test error);
with every training label shuffled, the expected error on the noisy label law is 1 - p_{h(x)}
averaged over the test points, within [min p, max p] of the training label frequencies.
"""

from __future__ import annotations

import numpy as np
from figure_checks import run_quick


def test_bounds_vs_n_quick(tmp_path):
    frame, claims = run_quick("bounds_vs_n", tmp_path)
    assert len(claims) >= 4
    assert set(frame["label_noise"]) == {0.0, 1.0}
    assert np.all(frame["error_train"] == 0.0)
    np.testing.assert_allclose(frame["error_gap"], frame["error_test"], atol=1e-15)
    random = frame[frame["label_noise"] == 1.0]
    assert np.all((random["error_test_noisy"] > 0.3) & (random["error_test_noisy"] < 0.7))
    # Weight-space bounds are infinite (KL of the weights diverges at t = inf): vacuous.
    assert np.all(frame["pac_bayes_kl_inverse_vacuous"]) and np.all(frame["xu_raginsky_vacuous"])
    clean = frame[frame["label_noise"] == 0.0].sort_values("n_train")
    assert np.all(np.diff(clean["orthant_information"]) > 0)  # more labels, more information
