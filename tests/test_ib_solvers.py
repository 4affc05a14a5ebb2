"""Discrete IB / dualIB solvers: identities, fixed points, optimality, and an independent solver."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import rel_entr

from ntk_info import ib

BETAS = 2.0 ** np.linspace(6, 1, 1000)  # the grid of spec dualib.md §3


@pytest.fixture(scope="module")
def problem():
    return ib.binary_exponential_problem()


@pytest.fixture(scope="module")
def paths(problem):
    """Reverse annealing of the §3 problem, IB and dualIB, tol 1e-12."""
    return {m: ib.solve(problem.pxy, BETAS, method=m, tol=1e-12) for m in ("ib", "dualib")}


def _random_joints():
    return [ib.random_joint(6, 3, seed=s, concentration=0.7) for s in range(3)]


def _brute_dual_quantities(pxy, encoder):
    """sum_x p(x|t) d_dual(x,t) and Z_y(t) with explicit loops over t, x, y (no shared code)."""
    px = pxy.sum(1)
    py_x = pxy / px[:, None]
    n_t, n_x = encoder.shape
    n_y = py_x.shape[1]
    mean_distortion, partition = np.zeros(n_t), np.zeros(n_t)
    for t in range(n_t):
        pt = sum(encoder[t, x] * px[x] for x in range(n_x))
        px_t = [encoder[t, x] * px[x] / pt for x in range(n_x)]
        weights = [np.prod([py_x[x, y] ** px_t[x] for x in range(n_x)]) for y in range(n_y)]
        partition[t] = sum(weights)
        decoder = [w / partition[t] for w in weights]
        for x in range(n_x):
            kl = sum(decoder[y] * np.log(decoder[y] / py_x[x, y]) for y in range(n_y))
            mean_distortion[t] += px_t[x] * kl
    return mean_distortion, partition


def test_dual_identity_mean_distortion_equals_minus_log_partition(problem, paths):
    """At every dualIB solution: sum_x p(x|t) d_dual(x,t) = -log Z_y(t) and Z_y(t) <= 1.

    Both sides come from a loop-based evaluation of the definitions (product of powers for
    Z_y, an explicit KL sum for d_dual); the identity is exact, so 1e-12 allows only rounding.
    """
    result = paths["dualib"]
    for b in range(0, len(result), 37):
        live = result.pt[b] > 1e-12
        distortion, partition = _brute_dual_quantities(problem.pxy, result.encoder[b])
        np.testing.assert_allclose(distortion[live], -np.log(partition[live]), atol=1e-12)
        assert np.all(partition[live] <= 1.0 + 1e-15)  # Z_y is undefined for p(t) = 0


def test_exponential_solver_matches_generic_dualib(problem, paths):
    """The parametric sweep on A^beta(t) reproduces the generic dualIB path to 1e-10.

    Same iteration, different arithmetic: differences are rounding only, so the sweep counts
    agree up to one sweep where the JS change lands within rounding of tol (seen with JAX 0.12
    at one beta of 1000, next to a transition where 3e4 sweeps are needed). Until the first such
    beta (annealing order) the paths agree to 1e-10; after it, to the size of one sweep's step
    near a transition (< 1e-5: JS < 1e-12 bounds a step by ~sqrt(8e-12), and the warm starts
    differ by it). The dual statistics are checked against sum_x p(x|t) A(x) and the decoder
    against the in-family form.
    """
    generic = paths["dualib"]
    parametric = ib.solve_exponential_family(problem, BETAS, tol=1e-12)
    differ = np.abs(parametric.iterations - generic.iterations)
    assert differ.max() <= 1 and np.mean(differ == 0) > 0.99
    same = slice(0, int(np.argmax(differ > 0)) if differ.any() else len(BETAS))  # BETAS descend
    for name in ("encoder", "decoder", "ixt"):
        ours, theirs = getattr(parametric, name), getattr(generic, name)
        np.testing.assert_allclose(ours[same], theirs[same], atol=1e-10)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    px_t = parametric.encoder * problem.px / parametric.pt[..., None].clip(1e-300)
    live = parametric.pt > 1e-12
    stats = parametric.dual_statistics[..., 0]
    np.testing.assert_allclose(stats[live], (px_t @ problem.A[0])[live], atol=1e-10)
    in_family = ib.exponential_decoder(parametric.dual_statistics, problem.lam)
    np.testing.assert_allclose(in_family, parametric.decoder, atol=1e-12)


def test_exponential_solver_matches_generic_on_random_families():
    """Random exponential families (d = 2, |Y| = 3, |X| = 8): generic == parametric to 1e-10."""
    for seed in range(2):
        family = ib.random_exponential_family(8, 3, 2, seed=seed)
        betas = np.geomspace(0.5, 50, 120)
        generic = ib.solve(family.pxy, betas, method="dualib", tol=1e-12)
        parametric = ib.solve_exponential_family(family, betas, tol=1e-12)
        np.testing.assert_allclose(parametric.encoder, generic.encoder, atol=1e-10)


def test_solutions_satisfy_self_consistent_equations(problem, paths):
    """Converged encoders satisfy p(t|x) = p(t) exp(-beta d(x,t)) / Z(x) with d from loops.

    The distortion is rebuilt with scipy's rel_entr from the returned decoder; residual set by
    tol = 1e-12 on the JS change (encoder change ~ 1e-6 per sweep), hence atol 1e-5.
    """
    px = problem.px
    py_x = problem.py_x
    for method, result in paths.items():
        for b in range(0, len(result), 101):
            dec = result.decoder[b]
            if method == "ib":
                d = np.array(
                    [[rel_entr(py_x[x], dec[t]).sum() for x in range(5)] for t in range(5)]
                )
            else:
                d = np.array(
                    [[rel_entr(dec[t], py_x[x]).sum() for x in range(5)] for t in range(5)]
                )
            weights = result.pt[b][:, None] * np.exp(-result.beta[b] * d)
            expected = weights / weights.sum(axis=0)
            np.testing.assert_allclose(result.encoder[b], expected, atol=1e-5)
            markov = (result.encoder[b] * px) @ py_x / result.pt[b][:, None].clip(1e-300)
            if method == "ib":
                live = result.pt[b] > 1e-9
                np.testing.assert_allclose(dec[live], markov[live], atol=1e-12)


def test_limits_trivial_at_small_beta_identity_at_large_beta(problem):
    """beta -> 0: I(X;T) -> 0; beta -> inf: identity, I(X;T) = H(X), I(T;Y) = I(X;Y)."""
    for method in ("ib", "dualib"):
        result = ib.solve(problem.pxy, [1e4, 1e3, 0.5, 0.01], method=method)
        np.testing.assert_allclose(result.ixt[0], result.hx, rtol=1e-6)
        np.testing.assert_allclose(result.ity[0], result.ixy, rtol=1e-6)
        np.testing.assert_allclose(result.encoder[0], np.eye(5), atol=1e-6)
        assert result.n_clusters[0] == 5
        assert result.ixt[-1] < 1e-10 and result.ixt[-2] < 1e-10
        assert result.n_clusters[-1] == 1


def _curve_at(ixt_grid, ixt, ity):
    order = np.argsort(ixt)
    return np.interp(ixt_grid, ixt[order], np.maximum.accumulate(ity[order]))


def test_dualib_curve_below_ib_curve(paths):
    """On §3 and random joints, each dualIB point (I(X;T), I(T;Y)) is on or below the IB curve.

    The IB curve is the upper envelope of the IB points, interpolated linearly in I(X;T) (a chord
    under the concave curve), so a tolerance of 1e-5 nats absorbs the chord error of the grid.
    """
    cases = [(paths["ib"], paths["dualib"])]
    betas = np.geomspace(0.5, 300, 600)
    for pxy in _random_joints():
        cases.append(tuple(ib.solve(pxy, betas, method=m) for m in ("ib", "dualib")))
    for ib_path, dual_path in cases:
        envelope = _curve_at(dual_path.ixt, ib_path.ixt, ib_path.ity)
        inside = dual_path.ixt <= ib_path.ixt.max()
        assert np.all(dual_path.ity[inside] <= envelope[inside] + 1e-5)


def test_each_solver_minimises_its_own_lagrangian(problem, paths):
    """F_IB is lower at the IB solution than at the dualIB one, and F_dual the other way round.

    Both Lagrangians are evaluated by `ib.lagrangian` at both encoders and cross-checked against
    the values stored in the results; 1e-9 allows the incomplete convergence near transitions.
    """
    ib_path, dual_path = paths["ib"], paths["dualib"]
    f_ib_at_ib = ib.lagrangian(problem.pxy, ib_path.encoder, ib_path.beta, method="ib")
    f_ib_at_dual = ib.lagrangian(problem.pxy, dual_path.encoder, dual_path.beta, method="ib")
    f_dual_at_dual = ib.lagrangian(problem.pxy, dual_path.encoder, BETAS, method="dualib")
    f_dual_at_ib = ib.lagrangian(problem.pxy, ib_path.encoder, BETAS, method="dualib")
    np.testing.assert_allclose(f_ib_at_ib, ib_path.lagrangian_ib, atol=1e-12)
    np.testing.assert_allclose(f_dual_at_dual, dual_path.lagrangian_dualib, atol=1e-12)
    assert np.all(f_ib_at_ib <= f_ib_at_dual + 1e-9)
    assert np.all(f_dual_at_dual <= f_dual_at_ib + 1e-9)
    assert np.any(f_ib_at_ib < f_ib_at_dual - 1e-4)  # the two problems do differ


def test_embo_ib_curve_lies_on_or_below_ours():
    """embo (an independent IB implementation, bits, same beta convention) is not above our curve.

    embo solves each beta from random starts; we anneal. At equal I(X;T) (ours interpolated on
    a fine grid) its I(T;Y) must not exceed ours by more than 1e-4 nats.
    """
    pytest.importorskip("embo")
    from ntk_info.ib.reference import embo_ib_curve

    for seed in range(2):
        pxy = ib.random_joint(8, 4, seed=seed, concentration=0.5)
        ours = ib.solve(pxy, np.geomspace(0.2, 500, 800), method="ib")
        ix, iy = embo_ib_curve(pxy, minbeta=0.5, maxbeta=30, numbeta=40, seed=seed, iterations=300)
        ours_at = _curve_at(ix, ours.ixt, ours.ity)
        inside = ix <= ours.ixt.max()
        assert inside.sum() > 10
        assert np.all(iy[inside] <= ours_at[inside] + 1e-4)


def test_results_follow_the_users_beta_order(problem):
    """Shuffled betas give, beta for beta, the solutions of the sorted grid."""
    betas = 2.0 ** np.linspace(5, 1, 60)
    shuffled = np.random.default_rng(0).permutation(betas)
    sorted_result = ib.solve(problem.pxy, betas, method="dualib")
    shuffled_result = ib.solve(problem.pxy, shuffled, method="dualib")
    index = {b: i for i, b in enumerate(betas)}
    order = [index[b] for b in shuffled]
    np.testing.assert_array_equal(shuffled_result.beta, shuffled)
    np.testing.assert_allclose(shuffled_result.encoder, sorted_result.encoder[order], atol=1e-14)


def test_numpy_and_jax_backends_agree(problem):
    """The same sweep in a NumPy loop and in a jitted while-loop: same iterations, same encoders."""
    betas = 2.0 ** np.linspace(6, 1, 80)
    for method in ("ib", "dualib"):
        a = ib.solve(problem.pxy, betas, method=method, backend="jax")
        b = ib.solve(problem.pxy, betas, method=method, backend="numpy")
        np.testing.assert_allclose(a.encoder, b.encoder, atol=1e-10)


def test_forward_annealing_reaches_reverse_curve(problem, paths):
    """Forward annealing (one cluster, duplication, merging) finds the same low-beta solutions and
    never a better own Lagrangian than reverse annealing (minus rounding)."""
    betas = BETAS[::-1][::4]
    for method in ("ib", "dualib"):
        forward = ib.solve(problem.pxy, betas, method=method, anneal="forward")
        reverse = paths[method]
        own = f"lagrangian_{method}"
        rev = getattr(reverse, own)[::-1][::4]
        low = betas < 3.0
        np.testing.assert_allclose(getattr(forward, own)[low], rev[low], atol=1e-9)
        assert forward.n_clusters.max() <= 5 and forward.n_clusters[0] == 1
        assert np.all(forward.encoder.sum(axis=1) == pytest.approx(1.0))


def test_nonconvergence_warns_and_is_recorded(problem):
    """Hitting max_iter raises a RuntimeWarning and sets converged = False for those betas."""
    with pytest.warns(RuntimeWarning, match="did not converge"):
        result = ib.solve(problem.pxy, [10.0, 4.4], method="ib", max_iter=2)
    assert not result.converged.all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        good = ib.solve(problem.pxy, [10.0, 4.0], method="ib")
    assert good.converged.all()


def test_result_table_and_shapes(paths):
    """to_frame: one row per beta, documented columns; stacked arrays are (B, T, .)."""
    result = paths["dualib"]
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(BETAS)
    for column in ("beta", "ixt", "ity", "ity_dual", "n_clusters", "iterations", "converged"):
        assert column in frame
    assert result.encoder.shape == (1000, 5, 5)
    assert result.decoder.shape == (1000, 5, 2)
    assert result.pt.shape == (1000, 5)
    np.testing.assert_allclose(frame.ixt_normalized, result.ixt / np.log(5))
    assert np.isnan(paths["ib"].ity_dual).all() and np.isfinite(result.ity_dual).all()


def test_reference_constants_of_the_binary_problem(problem, paths):
    """p(y=+1|x), H(X), H(Y), I(X;Y) of spec §3, from the closed form e^{-yx}/2cosh(x)."""
    x = np.linspace(-1, 0.6, 5)
    np.testing.assert_allclose(problem.py_x[:, 1], np.exp(-x) / (2 * np.cosh(x)), rtol=1e-14)
    np.testing.assert_allclose(
        problem.py_x[:, 1], [0.88080, 0.76852, 0.59869, 0.40131, 0.23148], atol=1e-5
    )
    np.testing.assert_allclose(paths["ib"].hx, np.log(5))
    np.testing.assert_allclose([paths["ib"].hy, paths["ib"].ixy], [0.68150, 0.12260], atol=1e-5)


def test_merging_duplicates_keeps_the_unmerged_path(monkeypatch):
    """Reverse annealing with duplicate clusters merged and the live ones compacted (the
    default) gives I(X;T), I(T;Y) of the unmerged solver (merge=False) to 1e-8.

    MIN_BLOCK is lowered so that 12-point joints compact (12 -> 4 -> 2 -> 1 slots) as
    200-point ones do. Duplicates evolve as one cluster of the summed mass, so both runs make
    the same sweeps up to rounding (measured: 1e-15 apart). Rounding can move the stop by a
    sweep where the change crosses tol, and near a transition (critical slowing down, 1e4-1e5
    sweeps) one sweep moves I(X;T) by more than 1e-8 at tol 1e-13 for either run: those betas
    (equal sweep counts fail) must be rare and are compared at 1e-3.
    """
    from ntk_info.ib import solvers

    monkeypatch.setattr(solvers, "MIN_BLOCK", 1)
    betas = np.geomspace(0.5, 60.0, 80)
    for seed in range(3):
        pxy = ib.random_joint(12, 4, seed=seed, concentration=0.5)
        for method in ("ib", "dualib"):
            merged = ib.solve(pxy, betas, method=method, tol=1e-13)
            plain = ib.solve(pxy, betas, method=method, tol=1e-13, merge=False)
            same = merged.iterations == plain.iterations
            assert np.sum(~same) <= 2
            for name in ("ixt", "ity"):
                a, b = getattr(merged, name), getattr(plain, name)
                np.testing.assert_allclose(a[same], b[same], atol=1e-8)
                np.testing.assert_allclose(a, b, atol=1e-3)
            np.testing.assert_array_equal(merged.n_clusters[same], plain.n_clusters[same])
            assert merged.encoder.shape == plain.encoder.shape == (80, 12, 12)
            np.testing.assert_allclose(merged.encoder.sum(axis=1), 1.0, atol=1e-12)
            assert np.sum(merged.pt[0] > 0) < np.sum(plain.pt[0] > 0)  # merging did happen


def test_jax_backend_runs_on_the_cpu_and_returns_numpy(problem, monkeypatch):
    """The jitted sweep is pinned to the host CPU: its outputs live on a CPU device even inside
    jax.default_device(cpu) and (on a GPU machine) when the GPU is the default device; the
    result holds NumPy arrays equal to the NumPy backend's (1e-10, as above)."""
    import jax

    from ntk_info.ib import _core

    seen = []
    build = _core._jax_converge_fn

    def recording(method):
        fn = build(method)

        def run(*args):
            out = fn(*args)
            seen.extend(leaf.devices() for leaf in jax.tree_util.tree_leaves(out))
            return out

        return run

    monkeypatch.setattr(_core, "_jax_converge_fn", recording)
    betas = 2.0 ** np.linspace(6, 1, 40)
    reference = ib.solve(problem.pxy, betas, method="dualib", backend="numpy")
    default = ib.solve(problem.pxy, betas, method="dualib")
    with jax.default_device(jax.devices("cpu")[0]):
        inside = ib.solve(problem.pxy, betas, method="dualib")
    assert seen and all(d.platform == "cpu" for devices in seen for d in devices)
    for result in (default, inside):
        for name in ("encoder", "decoder", "pt", "ixt", "ity", "beta"):
            assert type(getattr(result, name)) is np.ndarray
        np.testing.assert_allclose(result.encoder, reference.encoder, atol=1e-10)
