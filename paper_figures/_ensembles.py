"""Settings and tables shared by Figs. 1-4 of Shwartz-Ziv & Alemi (2019), toolkit calls only.

Every table has one row per (configuration, tau) with tau the paper's dimensionless time
(0 = the prior, inf = the converged ensemble), the configuration in columns (activation,
W_std, b_std, dataset, n_train), and the columns of `ntk_info.information` (test set) plus the
training-set loss (`train_mse`, `train_loss_gibbs`). Settings where the paper is silent follow
spec information_ntk.md §6: Gaussian data with I(X;Y) = 1 nat, sigma_b = 0.1, tau in
[1e-2, 1e10] log-spaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ntk_info import information
from ntk_info.data import Dataset
from ntk_info.ensemble import InfiniteEnsemble, Prediction

B_STD = 0.1  # sigma_b^2 = 0.01 (spec §6)
TAU_RANGE = (-2.0, 10.0)  # log10 tau, the paper's axis


@dataclass(frozen=True)
class Setting:
    """Sizes and grids of one scale: n_train, n_test, the sigma_w values, the tau grid."""

    n_train: int
    n_test: int
    w_stds: tuple[float, ...]
    n_tau: int
    n_points: int  # N of the I(Z;X) minibatch bounds (the paper: 1000)

    @property
    def tau(self) -> np.ndarray:
        """0, n_tau log-spaced values in [1e-2, 1e10], inf."""
        return np.concatenate([[0.0], np.logspace(*TAU_RANGE, self.n_tau), [np.inf]])


SETTINGS = {
    "quick": Setting(n_train=300, n_test=300, w_stds=(0.25, 1.0, 4.0), n_tau=13, n_points=300),
    "full": Setting(
        n_train=1000, n_test=1000, w_stds=(0.25, 0.5, 1.0, 2.0, 4.0), n_tau=49, n_points=1000
    ),
}


def setting(scale: str) -> Setting:
    """The `Setting` of 'quick' or 'full'."""
    if scale not in SETTINGS:
        raise ValueError(f"`scale` must be one of {sorted(SETTINGS)}, got {scale!r}.")
    return SETTINGS[scale]


def _train_columns(ensemble: InfiniteEnsemble, t: np.ndarray) -> dict[str, np.ndarray]:
    train = ensemble.predict_train(t)
    y = ensemble.y_train
    return dict(
        train_mse=information.mse(train, y), train_loss_gibbs=information.loss_gibbs(train, y)
    )


def loss_table(dataset: Dataset, architecture: Any, tau: np.ndarray, **config: Any) -> pd.DataFrame:
    """Test and training losses of the infinite ensemble over tau (no information quantities).

    Columns: tau, t, loss_gibbs, loss_bayes (NLL per point, nats), mse, mean_var (test set);
    train_mse, train_loss_gibbs; the `config` values.
    """
    ensemble = InfiniteEnsemble(architecture, dataset.x_train, dataset.y_train)
    t = ensemble.time_from_tau(tau)
    test = ensemble.predict(dataset.x_test, t)
    y = dataset.y_test
    frame = pd.DataFrame(
        dict(
            tau=tau,
            t=t,
            loss_gibbs=information.loss_gibbs(test, y),
            loss_bayes=information.loss_bayes(test, y),
            mse=information.mse(test, y),
            mean_var=test.var.mean(axis=1),
            **_train_columns(ensemble, t),
        )
    )
    return _with_config(frame, dataset, config)


def plane_table(
    dataset: Dataset,
    architecture: Any,
    tau: np.ndarray,
    *,
    n_points: int,
    diag_reg: float = 0.0,
    **config: Any,
) -> pd.DataFrame:
    """`information.information_plane_from_dataset` on the test set, plus the training loss.

    I(Z;Y) uses the fitted decoder variance for regression targets (a valid, tighter bound
    than the paper's unit variance, which stays in `izy_lower_paper`). `izy_lower_test_se` is
    its sampling error over the finite test set (`test_set_se`). `diag_reg` is the
    ensemble's ridge (relative to the mean NTK diagonal), recorded as a column.
    """
    ensemble = InfiniteEnsemble(architecture, dataset.x_train, dataset.y_train, diag_reg=diag_reg)
    t = ensemble.time_from_tau(tau)
    frame = information.information_plane_from_dataset(
        ensemble,
        dataset,
        t,
        n_points=n_points,
        seed=0,
        sigma2="fit" if dataset.labels == "regression" else None,
    )
    for name, values in _train_columns(ensemble, t).items():
        frame[name] = values
    frame["izy_lower_test_se"] = test_set_se(
        ensemble.predict(dataset.x_test, t), dataset.y_test, frame["decoder_sigma2"].to_numpy()
    )
    return _with_config(frame, dataset, {**config, "diag_reg": diag_reg})


def test_set_se(pred: Prediction, y: np.ndarray, sigma2: np.ndarray, n_batches: int = 10):
    """Sampling standard error of E log q(y|z) averaged over the m test points, per time.

    Batch means: `information.expected_log_decoder` on `n_batches` disjoint contiguous parts
    of the test set, se = std over batches / sqrt(n_batches). H(Y) is exact, so this is the
    sampling error of the I(Z;Y) bound (and of the Gibbs loss) over the finite test set.
    """
    parts = np.array_split(np.arange(y.shape[0]), n_batches)
    means = [
        information.expected_log_decoder(
            Prediction(t=pred.t, tau=pred.tau, mean=pred.mean[:, p], var=pred.var[:, p]),
            y[p],
            sigma2,
        ).value
        for p in parts
    ]
    return np.std(means, axis=0, ddof=1) / np.sqrt(n_batches)


def _with_config(frame: pd.DataFrame, dataset: Dataset, config: dict[str, Any]) -> pd.DataFrame:
    for name, value in {**config, "n_train": dataset.n_train}.items():
        frame[name] = value
    frame["dataset"] = dataset.name
    return frame


def early_stopping(frame: pd.DataFrame, loss: str, by: tuple[str, ...]) -> pd.DataFrame:
    """Per configuration: the best finite-tau loss, its tau, the tau = inf loss and the gain.

    Columns: `by`, tau_best, loss_best, loss_final, gain (= loss_final - loss_best >= 0 when
    early stopping helps), loss_start (tau = 0).
    """
    rows = []
    for key, group in frame.groupby(list(by), sort=True):
        tau = group["tau"].to_numpy()
        values = group[loss].to_numpy()
        finite = np.isfinite(tau) & (tau > 0)
        best = int(np.argmin(np.where(finite, values, np.inf)))
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(
            tau_best=float(tau[best]),
            loss_best=float(values[best]),
            loss_final=float(values[np.isinf(tau)][0]),
            loss_start=float(values[tau == 0][0]),
        )
        row["gain"] = row["loss_final"] - row["loss_best"]
        rows.append(row)
    return pd.DataFrame(rows)
