"""Generic discrete IB and dualIB solvers: self-consistent iterations with annealing.

Backend: the inner loop (sweeps until convergence at one beta) is a jitted JAX `lax.while_loop`
in float64 (`backend='jax'`, the default); `backend='numpy'` runs the same sweep in a Python
loop. Measured on the §3 problem (1000 betas, tol 1e-12, 2 cores): JAX 1.1 s vs NumPy 14 s for
the IB (see benchmarks/bench_ib.py). The JAX loop is pinned to the host CPU even when a GPU is
JAX's default device (the sweeps are small and latency-bound); results are NumPy arrays.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ntk_info._checks import as_float_array, check_positive
from ntk_info.ib import _core
from ntk_info.ib.problems import ValidatedJoint, validate_betas, validate_joint
from ntk_info.ib.result import (
    CLUSTER_TOL,
    PT_TOL,
    IBResult,
    cluster_posterior,
    count_clusters,
    dual_decoder,
    evaluate,
    expected_dual_distortion,
    group_clusters,
    information_t_y,
    information_x_t,
    joint_summary,
    markov_decoder,
)

__all__ = ["solve", "lagrangian", "DEFAULT_MAX_ITER", "PERTURBATION"]

DEFAULT_MAX_ITER = 100_000
PERTURBATION = 1e-3  # epsilon of the forward-annealing duplication p(t|x)(1 +- eps u)


def _check_options(method: str, anneal: str, tol: float, max_iter: int, backend: str) -> None:
    if method not in ("ib", "dualib"):
        raise ValueError(f"`method` must be 'ib' or 'dualib', got {method!r}.")
    if anneal not in ("reverse", "forward"):
        raise ValueError(
            f"`anneal` must be 'reverse' (from the identity solution, beta high to low) or "
            f"'forward' (from one cluster, beta low to high), got {anneal!r}."
        )
    check_positive("tol", tol)
    if int(max_iter) != max_iter or max_iter < 1:
        raise ValueError(f"`max_iter` must be an integer >= 1, got {max_iter}.")
    if backend not in ("jax", "numpy"):
        raise ValueError(f"`backend` must be 'jax' or 'numpy', got {backend!r}.")


def solve(
    pxy: Any,
    betas: Any,
    *,
    method: str = "ib",
    anneal: str = "reverse",
    n_clusters: int | None = None,
    tol: float = 1e-12,
    max_iter: int = DEFAULT_MAX_ITER,
    normalize: bool = False,
    floor: float | None = None,
    seed: int = 0,
    cluster_tol: float = CLUSTER_TOL,
    backend: str = "jax",
    merge: bool = True,
) -> IBResult:
    """Solves the IB or the dualIB at every beta by self-consistent iterations with annealing.

    IB:     min_{p(t|x)} I(X;T) - beta I(T;Y);  d_IB(x,t) = D[p(y|x) || p(y|t)],
            p(y|t) = sum_x p(y|x) p(x|t) (arithmetic mean).
    dualIB: min_{p(t|x), p(y|t)} I(X;T) + beta E[d_dual];  d_dual(x,t) = D[p(y|t) || p(y|x)],
            p(y|t) = prod_x p(y|x)^{p(x|t)} / Z_y(t) (geometric mean).
    Both: p(t|x) = p(t) exp(-beta d(x,t)) / Z(x, beta), p(t) = sum_x p(x) p(t|x), iterated in log
    space until mean_x JS(p_i(t|x), p_{i-1}(t|x)) < tol.

    Annealing: 'reverse' starts at the largest beta from the identity solution (|T| = |X|,
    p(y|t=i) = p(y|x_i)) and warm-starts each beta from the previous one, high to low;
    'forward' starts at the smallest beta from one cluster and, at each beta, duplicates every
    live cluster with a seeded perturbation p(t|x)(1 +- 1e-3 u), u ~ U(-1, 1), converges, and
    merges clusters whose decoders coincide (within `cluster_tol`). Results are returned in the
    order of `betas` whatever the annealing direction.

    Args:
      pxy: (|X|, |Y|) joint p(x, y).
      betas: (B,) trade-off parameters > 0 (a scalar is allowed).
      method: 'ib' or 'dualib'.
      anneal: 'reverse' or 'forward'.
      n_clusters: |T|. Reverse: None or >= |X| (default |X|; extra clusters start dead).
        Forward: the maximal number of clusters (default |X|).
      tol: convergence tolerance on the mean JS change of the encoder (nats).
      max_iter: sweeps per beta before giving up (a warning names the betas).
      normalize: divide pxy by its sum instead of raising when it does not sum to 1.
      floor: clip p(y|x) at `floor` and renormalise (a label-noise model; needed by the dualIB
        when p(y|x) = 0 somewhere).
      seed: seed of the forward-annealing perturbations.
      cluster_tol: max-abs decoder difference under which clusters count as one (n_clusters)
        and are merged (forward annealing).
      backend: 'jax' (jitted while-loop on the host CPU, default) or 'numpy'.
      merge: reverse annealing only. When the distinct live clusters (p(t) > 0, p(x|t) equal
        within MERGE_TOL = 1e-12 count as one) fit in half of the slots the sweep runs on
        (and |T| > MIN_BLOCK = 64), duplicates are merged into the heaviest one (p(t) summed,
        the others left with p(t) = 0 in the result) and later betas iterate only a
        power-of-two block holding the live clusters. Duplicates with equal decoders are one
        cluster of the summed mass, so the fixed point is unchanged (tested against
        merge=False to 1e-8 in I(X;T), I(T;Y)). merge=False keeps the duplicates and iterates
        all |T| clusters at every beta.

    Returns:
      IBResult with per-beta beta, ixt, ity, ity_dual, n_clusters, iterations, converged,
      lagrangian_ib, lagrangian_dualib and stacked encoder (B, T, X), decoder (B, T, Y), pt (B, T).

    Raises:
      ValueError: invalid joint (negative, not summing to 1, non-finite, p(y|x) = 0 for the
        dualIB without `floor`), beta <= 0, unknown method/anneal.

    Reference: N. Tishby, F. Pereira, W. Bialek, "The information bottleneck method" (1999),
    eqs. (28)-(30); Z. Piran, R. Shwartz-Ziv, N. Tishby, "The Dual Information Bottleneck",
    arXiv:2006.04641, self-consistent equations of the dualIB; spec dualib.md §1-§2.
    """
    _check_options(method, anneal, tol, max_iter, backend)
    betas = validate_betas(betas)
    joint = validate_joint(pxy, method=method, normalize=normalize, floor=floor)
    data = _core.make_data(method, joint.px, joint.py_x)
    encoders, iterations, converged = anneal_path(
        joint,
        betas,
        data,
        core_method=method,
        anneal=anneal,
        n_clusters=n_clusters,
        tol=tol,
        max_iter=int(max_iter),
        seed=seed,
        cluster_tol=cluster_tol,
        backend=backend,
        decoder_fn=None,
        merge=merge,
    )
    return build_result(
        joint, betas, encoders, iterations, converged, method, anneal, tol, cluster_tol
    )


def build_result(
    joint: ValidatedJoint,
    betas: np.ndarray,
    encoders: np.ndarray,
    iterations: np.ndarray,
    converged: np.ndarray,
    method: str,
    anneal: str,
    tol: float,
    cluster_tol: float,
    dual_statistics: np.ndarray | None = None,
) -> IBResult:
    """Evaluates every per-beta quantity from the encoders and packs the IBResult."""
    values = evaluate(encoders, betas, joint.px, joint.py_x, method)
    hx, hy, ixy = joint_summary(joint.pxy)
    n_distinct = count_clusters(values["decoder"], values["pt"], cluster_tol=cluster_tol)
    if not np.all(converged):
        missed = betas[~converged]
        warnings.warn(
            f"{method} did not converge to tol={tol:g} within max_iter sweeps at "
            f"{missed.size} of {betas.size} beta(s) (e.g. beta={missed[:3].tolist()}); "
            "increase `max_iter` or loosen `tol` (result.converged flags them).",
            RuntimeWarning,
            stacklevel=3,
        )
    return IBResult(
        method=method,
        anneal=anneal,
        beta=betas,
        ixt=values["ixt"],
        ity=values["ity"],
        ity_dual=values["ity_dual"],
        n_clusters=n_distinct,
        iterations=iterations,
        converged=converged,
        encoder=encoders,
        decoder=values["decoder"],
        pt=values["pt"],
        lagrangian_ib=values["lagrangian_ib"],
        lagrangian_dualib=values["lagrangian_dualib"],
        hx=hx,
        hy=hy,
        ixy=ixy,
        pxy=joint.pxy,
        kept_rows=joint.kept_rows,
        tol=float(tol),
        dual_statistics=dual_statistics,
    )


def anneal_path(
    joint: ValidatedJoint,
    betas: np.ndarray,
    data: tuple,
    *,
    core_method: str,
    anneal: str,
    n_clusters: int | None,
    tol: float,
    max_iter: int,
    seed: int,
    cluster_tol: float,
    backend: str,
    decoder_fn: Any,
    merge: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs the annealing; returns encoders (B, T, X), iterations (B,), converged (B,).

    Results are in the order of `betas`.

    `decoder_fn(state) -> (T, Y) decoder` is needed by forward annealing to merge clusters when
    the state's parameters are not the log decoder (exponential family). `merge`: merge
    duplicate clusters and compact the live ones during reverse annealing (see `solve`).
    """
    n_x = joint.px.shape[0]
    converge = _core.get_converge(backend)
    if anneal == "reverse":
        size = n_x if n_clusters is None else int(n_clusters)
        if size < n_x:
            raise ValueError(
                f"`n_clusters`={size} < |X|={n_x}: reverse annealing starts from the identity "
                "solution with one cluster per x; use anneal='forward' to cap the clusters."
            )
        order = np.argsort(-betas, kind="stable")
        state = _core.identity_state(n_x, size, data, core_method)
        step = None
        merger = _ReverseMerge(size, joint.px, data, core_method) if merge else None
    else:
        size = n_x if n_clusters is None else int(n_clusters)
        if size < 1:
            raise ValueError(f"`n_clusters` must be >= 1, got {size}.")
        order = np.argsort(betas, kind="stable")
        capacity = 2 * size
        log_encoder = np.full((capacity, n_x), -np.inf)
        log_encoder[0] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            state = _core.state_from_encoder(log_encoder, data, core_method, np)
        rng = np.random.default_rng(seed)
        step = _ForwardStep(size, data, core_method, rng, cluster_tol, decoder_fn)
        merger = None
    n_t = size
    encoders = np.empty((betas.size, n_t, n_x))
    iterations = np.zeros(betas.size, dtype=np.int64)
    converged = np.zeros(betas.size, dtype=bool)
    for index in order:
        beta = float(betas[index])
        if step is not None:
            state = step.duplicate(state)
        state, n_iter, change = converge(state, beta, tol, max_iter, data, core_method)
        if step is not None:
            state = step.merge(state)
        if merger is not None:
            encoders[index], state = merger(state)
        else:
            with np.errstate(under="ignore"):
                encoders[index] = np.exp(state.log_encoder[:n_t])
        iterations[index] = n_iter
        converged[index] = change < tol
    return encoders, iterations, converged


MERGE_TOL = 1e-12  # max-abs difference of p(x|t) under which reverse annealing merges clusters
MIN_BLOCK = 64  # smallest block the sweep is compacted to (each new block size is one compile)


class _ReverseMerge:
    """Merging of duplicate clusters and compaction of the live ones for reverse annealing.

    The state holds `slots.size` rows; row i is the user's cluster `slots[i]` (-1: padding, dead).
    Called after each beta: returns the (T, X) encoder in the user's slots (merged clusters
    with p(t) = 0) and the state to warm-start the next beta from.
    """

    def __init__(self, n_t: int, px: np.ndarray, data: tuple, method: str):
        self.n_t = n_t
        self.px = px
        self.data = data
        self.method = method
        self.slots = np.arange(n_t)
        self.direction = np.random.default_rng(0).uniform(1.0, 2.0, size=px.size)

    def __call__(self, state: _core.State) -> tuple[np.ndarray, _core.State]:
        with np.errstate(under="ignore"):
            encoder = np.exp(state.log_encoder)
            pt = np.exp(state.log_pt)
        live = np.flatnonzero((pt > 0) & (self.slots >= 0))
        rows = encoder.shape[0]
        groups = []
        if rows > MIN_BLOCK:
            groups = self._duplicates(encoder[live] * self.px / pt[live, None], pt[live])
        n_groups = len(groups)
        if not (rows > MIN_BLOCK and n_groups <= rows // 2):
            # no smaller block: leave the state as it is (duplicates kept, as with merge=False)
            full = np.zeros((self.n_t, encoder.shape[1]))
            full[self.slots[live]] = encoder[live]
            return full, state
        block = max(MIN_BLOCK, 1 << int(np.ceil(np.log2(max(n_groups, 1)))))
        merged = np.zeros((block, encoder.shape[1]))
        slots = np.full(block, -1)
        for row, group in enumerate(groups):
            members = live[group]
            merged[row] = encoder[members].sum(axis=0)
            slots[row] = self.slots[members[np.argmax(pt[members])]]
        merged /= merged.sum(axis=0, keepdims=True)
        self.slots = slots
        full = np.zeros((self.n_t, encoder.shape[1]))
        full[slots[:n_groups]] = merged[:n_groups]
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            state = _core.state_from_encoder(np.log(merged), self.data, self.method, np)
        return full, state

    def _duplicates(self, px_t: np.ndarray, pt: np.ndarray) -> list[np.ndarray]:
        """Groups rows of p(x|t) equal within MERGE_TOL (max-abs), each group heaviest first.

        Candidates come from a projection on a fixed positive direction w (rows within the
        tolerance project within MERGE_TOL * sum(w)), then are checked row by row.
        """
        projection = px_t @ self.direction
        order = np.argsort(projection, kind="stable")
        bound = MERGE_TOL * self.direction.sum()
        breaks = np.flatnonzero(np.diff(projection[order]) > bound) + 1
        groups = []
        for run in np.split(order, breaks):
            if run.size == 1:
                groups.append(run)
                continue
            run = run[np.argsort(-pt[run], kind="stable")]
            while run.size:
                member = np.max(np.abs(px_t[run] - px_t[run[0]]), axis=1) < MERGE_TOL
                groups.append(run[member])
                run = run[~member]
        groups.sort(key=lambda g: int(g.min()))
        return groups


class _ForwardStep:
    """Duplication and merging of clusters for forward (deterministic) annealing.

    Clusters live in 2 * n_max slots; dead slots have p(t) = 0. After merging, the live clusters
    are moved to the first slots.
    """

    def __init__(self, n_max, data, method, rng, cluster_tol, decoder_fn):
        self.n_max = n_max
        self.data = data
        self.method = method
        self.rng = rng
        self.cluster_tol = cluster_tol
        self.decoder_fn = decoder_fn

    def _state(self, encoder: np.ndarray) -> _core.State:
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            return _core.state_from_encoder(np.log(encoder), self.data, self.method, np)

    def duplicate(self, state: _core.State) -> _core.State:
        """Splits every live cluster in two copies p(t|x)(1 +- eps u)/2, u ~ U(-1, 1)."""
        encoder = np.exp(state.log_encoder)
        live = np.flatnonzero(np.exp(state.log_pt) > PT_TOL)
        free = np.flatnonzero(~(np.exp(state.log_pt) > PT_TOL))
        n_copy = min(live.size, free.size)
        source, target = live[:n_copy], free[:n_copy]
        noise = PERTURBATION * self.rng.uniform(-1.0, 1.0, size=(n_copy, encoder.shape[1]))
        encoder[target] = encoder[source] * (1.0 - noise) / 2.0
        encoder[source] = encoder[source] * (1.0 + noise) / 2.0
        return self._state(encoder)

    def merge(self, state: _core.State) -> _core.State:
        """Sums the encoders of clusters with coinciding decoders; drops dead clusters."""
        encoder = np.exp(state.log_encoder)
        pt = np.exp(state.log_pt)
        decoder = np.exp(state.params) if self.decoder_fn is None else self.decoder_fn(state)
        groups = group_clusters(decoder, pt, self.cluster_tol, PT_TOL)
        groups = [list(g) for g in groups]
        while len(groups) > self.n_max:  # merge the two closest groups
            leaders = decoder[[g[0] for g in groups]]
            gaps = np.max(np.abs(leaders[:, None] - leaders[None, :]), axis=-1)
            gaps[np.diag_indices_from(gaps)] = np.inf
            i, j = np.unravel_index(np.argmin(gaps), gaps.shape)
            groups[min(i, j)] += groups.pop(max(i, j))
        merged = np.zeros_like(encoder)
        for slot, group in enumerate(groups):
            merged[slot] = encoder[group].sum(axis=0)
        merged /= merged.sum(axis=0, keepdims=True)
        return self._state(merged)


def lagrangian(
    pxy: Any,
    encoder: Any,
    beta: Any,
    *,
    method: str = "ib",
    normalize: bool = False,
) -> np.ndarray:
    """IB or dualIB Lagrangian at any encoder p(t|x), with the optimal decoder for that encoder.

    IB:     F_IB = I(X;T) - beta I(T;Y), p(y|t) = sum_x p(y|x) p(x|t).
    dualIB: F_dual = I(X;T) + beta sum_t p(t) sum_x p(x|t) D[p(y|t) || p(y|x)], with the
            geometric-mean decoder p(y|t) that minimises it for the given encoder.

    Args:
      pxy: (|X|, |Y|) joint (rows with p(x) = 0 must be absent, as in the solver's result).
      encoder: (T, X) or (B, T, X) p(t|x), columns summing to 1.
      beta: scalar or (B,).
      method: 'ib' or 'dualib'.
      normalize: divide pxy by its sum instead of raising.

    Returns:
      float array of shape () or (B,).

    Reference: spec dualib.md §1-§2.
    """
    if method not in ("ib", "dualib"):
        raise ValueError(f"`method` must be 'ib' or 'dualib', got {method!r}.")
    joint = validate_joint(pxy, method=method, normalize=normalize)
    if joint.kept_rows.size != np.asarray(pxy).shape[0]:
        raise ValueError("`pxy` has rows with p(x) = 0; pass result.pxy (rows dropped).")
    encoder = as_float_array("encoder", encoder, ndim=(2, 3))
    if encoder.shape[-1] != joint.px.size:
        raise ValueError(
            f"`encoder` must be (T, |X|) or (B, T, |X|) with |X|={joint.px.size}, "
            f"got {encoder.shape}."
        )
    if np.any(encoder < 0) or not np.allclose(encoder.sum(axis=-2), 1.0, atol=1e-9):
        raise ValueError("`encoder` must be >= 0 with columns p(.|x) summing to 1 over t.")
    beta = np.asarray(beta, dtype=np.float64)
    if np.any(~np.isfinite(beta)) or np.any(beta <= 0):
        raise ValueError(f"`beta` must be finite and > 0, got {beta}.")
    pt, px_t = cluster_posterior(encoder, joint.px)
    ixt = information_x_t(encoder, joint.px)
    if method == "ib":
        return ixt - beta * information_t_y(pt, markov_decoder(px_t, joint.py_x))
    decoder = dual_decoder(px_t, joint.py_x)
    return ixt + beta * expected_dual_distortion(pt, px_t, decoder, joint.py_x)
