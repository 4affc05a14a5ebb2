"""Datasets: deterministic given a seed, no download at run time.

- `gaussian`: y = A x + noise (Shwartz-Ziv & Alemi 2019, App. B) with its exact I(X;Y) and the
  covariances that the Gaussian information-bottleneck optimum needs;
- `mnist1d`: generated offline by the mnist1d package's generator (Greydanus 2020);
- `digits`: scikit-learn's bundled 8x8 digits;
- `from_arrays` / `load_npz`: users' own data (e.g. a real MNIST file), validated.

Every loader returns a `Dataset`: x (n, ...features), y (n, k) float64 arrays plus metadata.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ntk_info._checks import as_float_array, check_positive

__all__ = [
    "Dataset",
    "GaussianInfo",
    "LABELS",
    "gaussian",
    "mnist1d",
    "digits",
    "from_arrays",
    "load_npz",
    "one_hot",
    "parity_labels",
    "subsample",
    "shuffle_labels",
]

LABELS = ("onehot", "parity")


@dataclass(frozen=True)
class GaussianInfo:
    """Exact information of the jointly Gaussian (X, Y) of `gaussian`.

    Attributes:
      mutual_information: I(X;Y) = 1/2 sum_i log(1 + sigma_x^2 s_i^2 / sigma_y^2), nats.
      entropy_y: differential H(Y) = 1/2 log det(2 pi e Sigma_y), nats.
      cov_x: Sigma_x = sigma_x^2 I, (d_x, d_x).
      cov_y: Sigma_y = sigma_y^2 I + sigma_x^2 A A^T, (d_y, d_y).
      cov_xy: Sigma_xy = sigma_x^2 A^T, (d_x, d_y).
      A: (d_y, d_x) mixing matrix; sigma_x, sigma_y: the noise scales.
    """

    mutual_information: float
    entropy_y: float
    cov_x: np.ndarray
    cov_y: np.ndarray
    cov_xy: np.ndarray
    A: np.ndarray
    sigma_x: float
    sigma_y: float


@dataclass(frozen=True)
class Dataset:
    """Training and test arrays with their metadata.

    Attributes:
      x_train: (n, ...features); y_train: (n, k); x_test: (m, ...features); y_test: (m, k).
      name: the dataset's name.
      labels: 'onehot', 'parity' (+-1) or 'regression'.
      classes_train, classes_test: integer class labels (n,), (m,), or None for regression.
      gaussian: exact information of the Gaussian dataset, else None.
      meta: the loader's arguments, for tidy tables.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    labels: str
    classes_train: np.ndarray | None = None
    classes_test: np.ndarray | None = None
    gaussian: GaussianInfo | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_test(self) -> int:
        return self.x_test.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.y_train.shape[1]

    def entropy_y(self) -> float | None:
        """H(Y) in nats: differential for 'regression' on Gaussian data, discrete for labels.

        The discrete entropy is that of the empirical distribution of the test labels (distinct
        rows of y_test: 10 classes for 'onehot', 2 for 'parity'); None for non-Gaussian
        regression targets.
        """
        if self.gaussian is not None:
            return self.gaussian.entropy_y
        if self.labels not in LABELS:
            return None
        from ntk_info.discrete import entropy

        _, counts = np.unique(self.y_test, axis=0, return_counts=True)
        return float(entropy(counts / counts.sum()))


def one_hot(classes: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """One-hot float64 labels (n, n_classes) of integer classes (n,)."""
    classes = np.asarray(classes)
    if classes.ndim != 1 or not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(
            f"`classes` must be a 1-D integer array, got {classes.dtype} {classes.shape}."
        )
    if classes.size and classes.min() < 0:
        raise ValueError("`classes` must be >= 0.")
    k = int(classes.max()) + 1 if n_classes is None else int(n_classes)
    return np.eye(k, dtype=np.float64)[classes]


def parity_labels(classes: np.ndarray) -> np.ndarray:
    """+1 for even digits, -1 for odd, shape (n, 1) (the paper's MNIST parity task)."""
    classes = np.asarray(classes)
    return np.where(classes % 2 == 0, 1.0, -1.0)[:, None]


def _labels_from_classes(classes: np.ndarray, labels: str, n_classes: int) -> np.ndarray:
    if labels == "onehot":
        return one_hot(classes, n_classes)
    if labels == "parity":
        return parity_labels(classes)
    raise ValueError(f"`labels` must be one of {LABELS}, got {labels!r}.")


def _check_sizes(n_train: int, n_test: int) -> tuple[int, int]:
    if int(n_train) != n_train or n_train < 1:
        raise ValueError(f"`n_train` must be an integer >= 1, got {n_train}.")
    if int(n_test) != n_test or n_test < 0:
        raise ValueError(f"`n_test` must be an integer >= 0, got {n_test}.")
    return int(n_train), int(n_test)


def _standardize(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature z-score with the training statistics (constant features are only centred)."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (x_train - mean) / std, (x_test - mean) / std


# ------------------------------------------------------------------------------- Gaussian
def gaussian(
    n_train: int,
    n_test: int,
    *,
    d_x: int = 30,
    d_y: int = 1,
    sigma_x: float = 1.0,
    sigma_y: float | None = None,
    mutual_information: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """Jointly Gaussian data y = A x + sigma_y eps_y, x = sigma_x eps_x, with exact I(X;Y).

    A ~ N(0, I / d_x) has shape (d_y, d_x). Then
        I(X;Y) = 1/2 sum_i log(1 + sigma_x^2 s_i^2 / sigma_y^2),   s_i the singular values of A,
        Sigma_y = sigma_y^2 I + sigma_x^2 A A^T,   Sigma_xy = sigma_x^2 A^T,
        H(Y) = 1/2 log det(2 pi e Sigma_y)   [the paper's App. B has a stray n_y/2; fixed].
    If `sigma_y` is None it is chosen so that I(X;Y) equals `mutual_information` (default 1 nat,
    the spec's default; the paper does not give its values).

    Args:
      n_train, n_test: numbers of points.
      d_x, d_y: dimensions of X and Y.
      sigma_x: input scale. sigma_y: noise scale, or None to set it from `mutual_information`.
      mutual_information: target I(X;Y) in nats when sigma_y is None.
      seed: seed of A and of the samples.

    Returns:
      `Dataset` with labels='regression' and `gaussian` = `GaussianInfo`.

    Reference: Shwartz-Ziv & Alemi (2019), App. B; information_ntk.md §6.
    """
    n_train, n_test = _check_sizes(n_train, n_test)
    sigma_x = check_positive("sigma_x", sigma_x)
    if int(d_x) != d_x or d_x < 1 or int(d_y) != d_y or d_y < 1:
        raise ValueError(f"`d_x` and `d_y` must be integers >= 1, got {d_x}, {d_y}.")
    rng = np.random.default_rng(seed)
    A = rng.normal(scale=1.0 / np.sqrt(d_x), size=(d_y, d_x))
    singular = np.linalg.svd(A, compute_uv=False)
    signal = sigma_x**2 * singular**2

    def mi_of(sy: float) -> float:
        return 0.5 * float(np.sum(np.log1p(signal / sy**2)))

    if sigma_y is None:
        target = check_positive("mutual_information", mutual_information)
        from scipy.optimize import brentq

        # I(sigma_y) decreases from inf to 0: bracket in log space.
        log_sy = brentq(lambda s: mi_of(np.exp(s)) - target, -30.0, 30.0, xtol=1e-14)
        sigma_y = float(np.exp(log_sy))
    sigma_y = check_positive("sigma_y", sigma_y)
    n = n_train + n_test
    x = sigma_x * rng.normal(size=(n, d_x))
    y = x @ A.T + sigma_y * rng.normal(size=(n, d_y))
    cov_y = sigma_y**2 * np.eye(d_y) + sigma_x**2 * A @ A.T
    info = GaussianInfo(
        mutual_information=mi_of(sigma_y),
        entropy_y=0.5 * float(np.linalg.slogdet(2 * np.pi * np.e * cov_y)[1]),
        cov_x=sigma_x**2 * np.eye(d_x),
        cov_y=cov_y,
        cov_xy=sigma_x**2 * A.T,
        A=A,
        sigma_x=sigma_x,
        sigma_y=sigma_y,
    )
    return Dataset(
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_test=x[n_train:],
        y_test=y[n_train:],
        name="gaussian",
        labels="regression",
        gaussian=info,
        meta=dict(d_x=d_x, d_y=d_y, sigma_x=sigma_x, sigma_y=sigma_y, seed=seed),
    )


# -------------------------------------------------------------------------------- MNIST-1D
@functools.lru_cache(maxsize=4)
def _mnist1d_raw(n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Generates MNIST-1D with the package's own generator (never its download)."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = n_samples
    args.train_split = 1.0
    args.seed = seed
    state = np.random.get_state()  # noqa: NPY002 - the generator reseeds NumPy's global RNG: restore it
    try:
        generated = make_dataset(args)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    x = np.asarray(generated["x"], dtype=np.float64)
    y = np.asarray(generated["y"], dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def mnist1d(
    n_train: int = 1000,
    n_test: int = 1000,
    *,
    labels: str = "onehot",
    seed: int = 0,
    standardize: bool = True,
) -> Dataset:
    """MNIST-1D (40-dimensional signals of 10 digit classes), generated offline.

    Args:
      n_train, n_test: numbers of points (any sizes: enough samples are generated).
      labels: 'onehot' (k = 10) or 'parity' (+1 even digit, -1 odd; k = 1).
      seed: the generator's seed.
      standardize: per-feature z-score with the training statistics.

    Returns:
      `Dataset` of shapes x (n, 40), y (n, k).

    Reference: Greydanus, "Scaling down deep learning" (2020), the `mnist1d` package.
    """
    n_train, n_test = _check_sizes(n_train, n_test)
    if labels not in LABELS:
        raise ValueError(f"`labels` must be one of {LABELS}, got {labels!r}.")
    total = n_train + n_test
    x, classes = _mnist1d_raw(int(np.ceil(total / 10) * 10), int(seed))
    x_train, x_test = x[:n_train], x[n_train:total]
    if standardize:
        x_train, x_test = _standardize(x_train, x_test)
    c_train, c_test = classes[:n_train], classes[n_train:total]
    return Dataset(
        x_train=np.array(x_train),
        y_train=_labels_from_classes(c_train, labels, 10),
        x_test=np.array(x_test),
        y_test=_labels_from_classes(c_test, labels, 10),
        name="mnist1d",
        labels=labels,
        classes_train=np.array(c_train),
        classes_test=np.array(c_test),
        meta=dict(seed=seed, standardize=standardize),
    )


# --------------------------------------------------------------------------------- digits
def digits(
    n_train: int = 1000,
    n_test: int = 797,
    *,
    labels: str = "onehot",
    seed: int = 0,
    standardize: bool = True,
) -> Dataset:
    """scikit-learn's 8x8 handwritten digits (1797 images, bundled: no download).

    Args:
      n_train, n_test: sizes, n_train + n_test <= 1797; the split is a seeded permutation.
      labels: 'onehot' (k = 10) or 'parity' (k = 1).
      seed: seed of the permutation.
      standardize: per-feature z-score with the training statistics (pixels otherwise /16).

    Returns:
      `Dataset` of shapes x (n, 64), y (n, k).
    """
    from sklearn.datasets import load_digits

    n_train, n_test = _check_sizes(n_train, n_test)
    if labels not in LABELS:
        raise ValueError(f"`labels` must be one of {LABELS}, got {labels!r}.")
    bunch = load_digits()
    if n_train + n_test > bunch.data.shape[0]:
        raise ValueError(
            f"`n_train + n_test` = {n_train + n_test} exceeds the {bunch.data.shape[0]} digits."
        )
    order = np.random.default_rng(seed).permutation(bunch.data.shape[0])
    x = bunch.data[order].astype(np.float64) / 16.0
    classes = bunch.target[order].astype(np.int64)
    x_train, x_test = x[:n_train], x[n_train : n_train + n_test]
    if standardize:
        x_train, x_test = _standardize(x_train, x_test)
    c_train, c_test = classes[:n_train], classes[n_train : n_train + n_test]
    return Dataset(
        x_train=x_train,
        y_train=_labels_from_classes(c_train, labels, 10),
        x_test=x_test,
        y_test=_labels_from_classes(c_test, labels, 10),
        name="digits",
        labels=labels,
        classes_train=c_train,
        classes_test=c_test,
        meta=dict(seed=seed, standardize=standardize),
    )


# ------------------------------------------------------------------------------ user data
def _targets(name: str, y: Any, labels: str, n_classes: int | None):
    """(targets (n, k), classes or None, resolved label kind) from user labels."""
    array = np.asarray(y)
    if labels == "auto":
        if array.ndim == 1 and np.issubdtype(array.dtype, np.integer):
            labels = "onehot"
        else:
            labels = "regression"
    if labels in LABELS:
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"`{name}` must be 1-D integer class labels for labels={labels!r}, got "
                f"{array.dtype} with shape {array.shape}."
            )
        return _labels_from_classes(array, labels, n_classes), array.astype(np.int64), labels
    if labels != "regression":
        raise ValueError(
            f"`labels` must be 'auto', 'regression' or one of {LABELS}, got {labels!r}."
        )
    targets = as_float_array(name, array, ndim=(1, 2))
    if targets.ndim == 1:
        targets = targets[:, None]
    return targets, None, labels


def from_arrays(
    x_train: Any,
    y_train: Any,
    x_test: Any = None,
    y_test: Any = None,
    *,
    n_test: int | None = None,
    labels: str = "auto",
    n_classes: int | None = None,
    standardize: bool = False,
    seed: int = 0,
    name: str = "arrays",
) -> Dataset:
    """A `Dataset` from user arrays, validated.

    Either pass explicit test arrays, or `n_test` to hold out a seeded random subset of
    (x_train, y_train). Labels: 1-D integer classes become one-hot ('onehot', the 'auto'
    default for integers) or +-1 parity ('parity'); float targets (n,) or (n, k) are
    regression targets.

    Raises:
      ValueError: NaN/inf, mismatched numbers of rows, wrong label shapes, missing test data.
    """
    x = as_float_array("x_train", x_train, min_ndim=2)
    if x_test is None:
        if n_test is None:
            raise ValueError("Pass `x_test`/`y_test`, or `n_test` to hold out part of the data.")
        y_all = np.asarray(y_train)
        if y_all.shape[0] != x.shape[0]:
            raise ValueError(f"`y_train` has {y_all.shape[0]} rows, `x_train` has {x.shape[0]}.")
        if not 0 < n_test < x.shape[0]:
            raise ValueError(f"`n_test` must be in [1, {x.shape[0] - 1}], got {n_test}.")
        order = np.random.default_rng(seed).permutation(x.shape[0])
        x, x_test = x[order[n_test:]], x[order[:n_test]]
        y_train, y_test = y_all[order[n_test:]], y_all[order[:n_test]]
    elif y_test is None:
        raise ValueError("`x_test` was given without `y_test`.")
    xt = as_float_array("x_test", x_test, min_ndim=2)
    if xt.shape[1:] != x.shape[1:]:
        raise ValueError(f"`x_test` has features {xt.shape[1:]}, `x_train` has {x.shape[1:]}.")
    if labels == "auto" and np.issubdtype(np.asarray(y_train).dtype, np.integer):
        n_classes = n_classes or int(max(np.max(y_train), np.max(y_test))) + 1
    y, c_train, kind = _targets("y_train", y_train, labels, n_classes)
    yt, c_test, _ = _targets(
        "y_test", y_test, kind, n_classes or (y.shape[1] if c_train is not None else None)
    )
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"`y_train` has {y.shape[0]} rows but `x_train` has {x.shape[0]}.")
    if yt.shape[0] != xt.shape[0]:
        raise ValueError(f"`y_test` has {yt.shape[0]} rows but `x_test` has {xt.shape[0]}.")
    if yt.shape[1] != y.shape[1]:
        raise ValueError(f"`y_test` has {yt.shape[1]} outputs but `y_train` has {y.shape[1]}.")
    if standardize:
        flat, flat_t = _standardize(x.reshape(len(x), -1), xt.reshape(len(xt), -1))
        x, xt = flat.reshape(x.shape), flat_t.reshape(xt.shape)
    return Dataset(
        x_train=x,
        y_train=y,
        x_test=xt,
        y_test=yt,
        name=name,
        labels=kind,
        classes_train=c_train,
        classes_test=c_test,
        meta=dict(seed=seed, standardize=standardize),
    )


def load_npz(path: str | Path, **kwargs: Any) -> Dataset:
    """A `Dataset` from an .npz file with arrays (x_train, y_train, x_test, y_test) or (x, y).

    With (x, y) only, pass `n_test=` to hold out a test set. Other keyword arguments go to
    `from_arrays`. No network access: the file must be local (e.g. a saved MNIST subset).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No .npz file at {path}.")
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        if {"x_train", "y_train"} <= keys:
            arrays = [archive["x_train"], archive["y_train"]]
            if {"x_test", "y_test"} <= keys:
                arrays += [archive["x_test"], archive["y_test"]]
        elif {"x", "y"} <= keys:
            arrays = [archive["x"], archive["y"]]
        else:
            raise ValueError(
                f"{path} must contain arrays 'x_train', 'y_train' (and 'x_test', 'y_test') or "
                f"'x', 'y'; it has {sorted(keys)}."
            )
    kwargs.setdefault("name", path.stem)
    return from_arrays(*arrays, **kwargs)


# ------------------------------------------------------------- sample size and label noise
def subsample(dataset: Dataset, n_train: int, *, seed: int = 0) -> Dataset:
    """The first `n_train` points of a seeded permutation of the training split; test split kept.

    The same seed gives nested subsets: subsample(d, 50) is contained in subsample(d, 100), so a
    learning curve adds points instead of redrawing them.

    Args:
      dataset: a `Dataset`.
      n_train: number of training points kept, 1 <= n_train <= dataset.n_train.
      seed: seed of the permutation.

    Returns:
      `Dataset` with x_train (n_train, ...), y_train (n_train, k) (and classes_train) subsampled
      and meta['n_train_subsample'], meta['subsample_seed'] recorded.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"`dataset` must be an ntk_info.data.Dataset, got {type(dataset).__name__}."
        )
    if isinstance(n_train, bool) or int(n_train) != n_train or n_train < 1:
        raise ValueError(f"`n_train` must be an integer >= 1, got {n_train}.")
    n_train = int(n_train)
    if n_train > dataset.n_train:
        raise ValueError(
            f"`n_train` = {n_train} is larger than the {dataset.n_train} training points of "
            f"{dataset.name!r}; load more data (e.g. mnist1d(n_train={n_train}, ...))."
        )
    rows = np.sort(np.random.default_rng(seed).permutation(dataset.n_train)[:n_train])
    classes = None if dataset.classes_train is None else dataset.classes_train[rows]
    return dataclasses.replace(
        dataset,
        x_train=dataset.x_train[rows],
        y_train=dataset.y_train[rows],
        classes_train=classes,
        meta={**dataset.meta, "n_train_subsample": n_train, "subsample_seed": seed},
    )


def shuffle_labels(dataset: Dataset, fraction: float, *, seed: int = 0) -> Dataset:
    """Random-label control: a seeded `fraction` of the training labels permuted among themselves.

    round(fraction * n) training points are drawn without replacement and their labels (rows of
    y_train, and classes_train) are permuted at random among them; the test split is untouched.
    fraction = 1 is the fully shuffled training set of Zhang et al. (2017); every fraction keeps
    the label counts exactly. A permuted label may equal the original one: the expected fraction
    of labels actually changed is about fraction * (1 - sum_c p_c^2) (fraction / 2 for balanced
    binary labels), recorded in meta['label_noise_changed'].

    Args:
      dataset: a `Dataset` (labels or regression targets).
      fraction: fraction of training labels shuffled, in [0, 1].
      seed: seed of the choice and of the permutation.

    Returns:
      `Dataset` with shuffled y_train (and classes_train); meta['label_noise'] = fraction.

    Reference: Zhang, Bengio, Hardt, Recht & Vinyals, "Understanding deep learning requires
    rethinking generalization", ICLR 2017 (random and partially corrupted labels).
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(
            f"`dataset` must be an ntk_info.data.Dataset, got {type(dataset).__name__}."
        )
    fraction = float(fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(
            f"`fraction` (of training labels shuffled) must lie in [0, 1], got {fraction}."
        )
    n = dataset.n_train
    rng = np.random.default_rng(seed)
    chosen = rng.choice(n, size=int(round(fraction * n)), replace=False)
    source = chosen[rng.permutation(chosen.size)]
    y = np.array(dataset.y_train)
    y[chosen] = dataset.y_train[source]
    classes = dataset.classes_train
    if classes is not None:
        classes = np.array(classes)
        classes[chosen] = dataset.classes_train[source]
    changed = float(np.mean(np.any(y != dataset.y_train, axis=1)))
    return dataclasses.replace(
        dataset,
        y_train=y,
        classes_train=classes,
        meta={
            **dataset.meta,
            "label_noise": fraction,
            "label_noise_seed": seed,
            "label_noise_changed": changed,
        },
    )
