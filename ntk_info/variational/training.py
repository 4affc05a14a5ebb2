"""Training of VIB / VdualIB networks in jax + optax, resumable, with per-epoch evaluation.

`train(dataset, objective=..., beta=...)` fits the model of `encoders.py` with Adam on the loss
of `losses.py` (one reparameterised z per example in training, the mean z for accuracy) and
returns a `VariationalResult` whose `history` has one row per epoch:

  epoch, beta, loss (training loss, mean over the epoch's steps),
  rate, izy_lower, izy_noise_lower, test_loss, test_accuracy   (test set),
  train_rate, train_izy_lower, train_izy_noise_lower, train_accuracy   (training set),

rate = E KL[e(z|x) || r(z)] >= I(X;Z), izy_lower = ln K - CE >= I(Z;Y) for balanced classes,
izy_noise_lower = ln K - KL(q || p~) (spec dualib.md §4, "Metrics").

Randomness: the initial parameters come from fold_in(PRNGKey(seed), 0), epoch e's permutation
and samples from fold_in(fold_in(key, 1), e), its evaluation samples from fold_in(fold_in(key,
2), e): the same seed gives the same history, and a run resumed from `checkpoint_dir` after epoch
e replays epochs e+1, ... exactly (bit for bit on the same platform).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ntk_info._checks import check_count, check_nonnegative, check_option, check_positive
from ntk_info._jax import float64
from ntk_info.variational.checkpoint import fingerprint, load_checkpoint, save_checkpoint
from ntk_info.variational.encoders import Model, build_model
from ntk_info.variational.noise import LabelSmoothing, check_classes

__all__ = ["VariationalResult", "train", "OBJECTIVES", "SCHEDULES", "HISTORY_COLUMNS"]

OBJECTIVES = ("vib", "vdualib")
SCHEDULES = ("constant", "warmup")
HISTORY_COLUMNS = (
    "epoch",
    "beta",
    "loss",
    "rate",
    "izy_lower",
    "izy_noise_lower",
    "test_loss",
    "test_accuracy",
    "train_rate",
    "train_izy_lower",
    "train_izy_noise_lower",
    "train_accuracy",
)
EVAL_CHUNK = 4096


@dataclass
class VariationalResult:
    """A trained variational network.

    Attributes:
      history: DataFrame, one row per epoch, columns `HISTORY_COLUMNS`.
      params: {'encoder', 'decoder', 'backward'} parameter pytrees (jax arrays).
      model: the `Model` (encoder, decoder, prior).
      config: the training arguments.
    """

    history: pd.DataFrame
    params: dict
    model: Model
    config: dict = field(default_factory=dict)

    def predict(self, x: Any) -> np.ndarray:
        """Class probabilities q(y | z = mu(x)) at the encoder's mean, (m, K) float64."""
        from ntk_info.variational.steps import predict_proba

        with float64():
            return np.asarray(predict_proba(self.model, self.params, np.asarray(x, np.float64)))

    def encode(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """(mu, sigma) of e(z|x), each (m, d) float64."""
        with float64():
            mu, sigma = self.model.encode(self.params, np.asarray(x, np.float64))
            return np.asarray(mu), np.asarray(sigma)


def _classes(name: str, y: np.ndarray, classes: Any, n_classes: int) -> np.ndarray:
    if classes is None:
        classes = np.argmax(y, axis=1)
    return check_classes(classes, n_classes, name)


def _check_dataset(dataset: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(x_train, classes_train, x_test, classes_test, K) of a classification `Dataset`."""
    for attr in ("x_train", "y_train", "x_test", "y_test"):
        if not hasattr(dataset, attr):
            raise TypeError(
                f"`dataset` must be an ntk_info.data.Dataset, got {type(dataset).__name__}."
            )
    if getattr(dataset, "labels", "onehot") != "onehot":
        raise ValueError(
            f"`dataset` has labels={dataset.labels!r}; variational training needs class labels: "
            "load it with labels='onehot'."
        )
    x_train = np.asarray(dataset.x_train, np.float64)
    x_test = np.asarray(dataset.x_test, np.float64)
    if x_train.shape[0] == 0 or x_test.shape[0] == 0:
        raise ValueError(
            f"`dataset` is empty (n_train = {x_train.shape[0]}, n_test = {x_test.shape[0]}); "
            "training and evaluation need at least one example each."
        )
    if not (np.all(np.isfinite(x_train)) and np.all(np.isfinite(x_test))):
        raise ValueError("`dataset` inputs contain NaN or infinite values; clean them first.")
    n_classes = int(np.shape(dataset.y_train)[1])
    if n_classes < 2:
        raise ValueError(f"`dataset` has {n_classes} output(s); need one-hot labels, K >= 2.")
    c_train = _classes("dataset.classes_train", dataset.y_train, dataset.classes_train, n_classes)
    c_test = _classes("dataset.classes_test", dataset.y_test, dataset.classes_test, n_classes)
    if c_train.shape[0] != x_train.shape[0] or c_test.shape[0] != x_test.shape[0]:
        raise ValueError("`dataset` has different numbers of inputs and labels.")
    return x_train, c_train, x_test, c_test, n_classes


def _batch(x: np.ndarray, classes: np.ndarray, noise: Any, n_classes: int, noisy_labels: bool):
    """`Batch` of a data set: labels, CE targets (p~ if `noisy_labels`, else one-hot), log p~."""
    from ntk_info.variational.steps import Batch

    labels = np.eye(n_classes)[classes]
    soft = np.asarray(noise(classes, x, n_classes), dtype=np.float64)
    if soft.shape != labels.shape or not np.allclose(soft.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError(
            f"the noise model returned shape {soft.shape} or rows not summing to 1; it must "
            f"return ({len(classes)}, {n_classes}) probabilities."
        )
    if np.any(soft <= 0):
        raise ValueError(
            "the noise model returned p~(y|x) = 0 somewhere: the VdualIB distortion "
            "KL(q || p~) is then infinite; floor it (e.g. LabelSmoothing, ConfusionNoise)."
        )
    return Batch(x, labels, soft if noisy_labels else labels, np.log(soft))


def _chunk_size(n: int) -> int:
    """Evaluation chunk: the next power of two >= n, at least 256, at most EVAL_CHUNK."""
    return int(min(EVAL_CHUNK, max(256, 1 << (int(n) - 1).bit_length())))


def _evaluate(model, objective, params, data, key, beta) -> dict:
    """Metrics over a data set in zero-padded chunks of one size, weighted by chunk size."""
    import jax
    import jax.numpy as jnp

    from ntk_info.variational.steps import Batch, evaluate

    n = data.x.shape[0]
    size = _chunk_size(n)
    totals: dict[str, float] = {}
    for i, start in enumerate(range(0, n, size)):
        count = min(size, n - start)
        pad = [(0, size - count)]
        chunk = Batch(
            *(jnp.pad(a[start : start + count], pad + [(0, 0)] * (a.ndim - 1)) for a in data)
        )
        weights = jnp.pad(jnp.ones(count), pad)
        metrics = evaluate(model, params, chunk, weights, jax.random.fold_in(key, i), beta)
        metrics["loss"] = metrics.pop(f"loss_{objective}")
        for name, value in metrics.items():
            if name.startswith("loss_"):
                continue
            totals[name] = totals.get(name, 0.0) + count / n * float(value)
    return totals


def train(
    dataset: Any,
    *,
    objective: str = "vib",
    beta: float,
    latent_dim: int = 16,
    encoder: str | tuple = "fc",
    noise: Any = None,
    prior: str = "standard",
    noisy_labels: bool = True,
    width: int = 128,
    epochs: int = 20,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    beta_schedule: str = "constant",
    warmup_steps: int = 4000,
    warmup_start: float = 100.0,
    seed: int = 0,
    checkpoint_dir: Any = None,
    progress: bool = True,
) -> VariationalResult:
    """Trains a VIB or VdualIB network on a classification dataset; history per epoch.

    Loss per batch (losses.py; IB convention, beta multiplies the distortion):
      vib:     rate + beta * CE(t, q)            (t = p~ with noisy_labels=True, the
                                                  reference's `noisy_learning`, else one-hot)
      vdualib: rate + beta * KL(q(.|z) || p~(.|x))
    rate = KL[N(mu, diag sigma^2) || N(0, I)] (prior='standard') or || b(z|y) (prior='backward').

    Args:
      dataset: `ntk_info.data.Dataset` with one-hot labels (n_train, n_test >= 1).
      objective: 'vib' or 'vdualib'.
      beta: target beta >= 0.
      latent_dim: d, the latent dimension.
      encoder: 'fc', 'cnn' or a stax triple/pair with 2 * latent_dim outputs.
      noise: label-noise model (noise.py), called as noise(classes, x, K) on the training and
        the test set; None is `LabelSmoothing(0.02)` (the reference's `smooth_noise`).
      prior: 'standard' (N(0, I)) or 'backward' (learned b(z|y), CEB-style).
      noisy_labels: the VIB cross-entropy targets: p~ (True, the reference's default
        `noisy_learning`, for a comparison on the same noisy labels) or the one-hot labels.
      width: hidden width / channels of the named encoders.
      epochs: number of epochs (a resumed run continues up to this number).
      batch_size: examples per Adam step (at most n_train); each epoch runs
        floor(n_train / batch_size) steps on a fresh permutation.
      learning_rate: Adam step size.
      beta_schedule: 'constant', or 'warmup': beta falls linearly from `warmup_start` to the
        target over `warmup_steps` steps when the target is below `warmup_start` (the
        reference's `lerp`: 100 -> target over 4000 steps).
      seed: PRNG seed (initialisation, batches, samples).
      checkpoint_dir: if given, the state is saved atomically after every epoch and a later
        call with the same arguments resumes from it (checkpoint.py).
      progress: show a tqdm bar over epochs.

    Returns:
      `VariationalResult` (history, params, model, config, predict).

    Reference: Alemi et al. (2017); Piran, Shwartz-Ziv & Tishby (2020), §5; spec dualib.md §4.
    """
    objective = check_option("objective", objective, OBJECTIVES)
    beta = check_nonnegative("beta", beta)
    epochs = check_count("epochs", epochs, 1, "the number of epochs")
    batch_size = check_count("batch_size", batch_size, 1, "examples per step")
    learning_rate = check_positive("learning_rate", learning_rate)
    beta_schedule = check_option("beta_schedule", beta_schedule, SCHEDULES)
    warmup_steps = check_count("warmup_steps", warmup_steps, 0, "the warm-up length")
    warmup_start = check_nonnegative("warmup_start", warmup_start)
    seed = check_count("seed", seed, 0, "a PRNG seed")
    noise = LabelSmoothing(0.02) if noise is None else noise
    if not callable(noise):
        raise TypeError(
            "`noise` must be a label-noise model (ntk_info.variational.LabelSmoothing, "
            f"ConfusionNoise, GaussianNoise, TeacherNoise) or None, got {type(noise).__name__}."
        )
    x_train, c_train, x_test, c_test, n_classes = _check_dataset(dataset)
    model = build_model(
        encoder,
        latent_dim=latent_dim,
        n_classes=n_classes,
        prior=prior,
        width=width,
        input_ndim=x_train.ndim,
    )
    config = dict(
        objective=objective,
        beta=beta,
        latent_dim=int(latent_dim),
        encoder=encoder if isinstance(encoder, str) else "custom",
        noise=noise,
        prior=prior,
        noisy_labels=bool(noisy_labels),
        width=int(width),
        batch_size=batch_size,
        learning_rate=learning_rate,
        beta_schedule=beta_schedule,
        warmup_steps=warmup_steps,
        warmup_start=warmup_start,
        seed=seed,
    )
    train_data = _batch(x_train, c_train, noise, n_classes, noisy_labels)
    test_data = _batch(x_test, c_test, noise, n_classes, noisy_labels)
    with float64():
        return _fit(model, config, epochs, train_data, test_data, dataset, checkpoint_dir, progress)


def _fit(model, config, epochs, train_data, test_data, dataset, checkpoint_dir, progress):
    """The epoch loop of `train` (inside float64): init or resume, run, evaluate, save."""
    import jax
    import jax.numpy as jnp
    from tqdm.auto import tqdm

    from ntk_info.variational.steps import Batch, Hyper, adam, beta_at, run_epoch

    n_train = train_data.x.shape[0]
    batch_size = min(config["batch_size"], n_train)
    n_steps = n_train // batch_size
    warmup = config["warmup_steps"] if config["beta_schedule"] == "warmup" else 0
    hyper = Hyper(
        *(
            jnp.asarray(v, jnp.float64)
            for v in (config["beta"], config["learning_rate"], config["warmup_start"], warmup)
        )
    )
    base = jax.random.PRNGKey(config["seed"])
    train_keys, eval_keys = jax.random.fold_in(base, 1), jax.random.fold_in(base, 2)
    run_id = fingerprint(dataset, config)
    saved = None if checkpoint_dir is None else load_checkpoint(checkpoint_dir, run_id)
    if saved is None:
        params = model.init(jax.random.fold_in(base, 0), train_data.x.shape)
        opt_state, rows = adam().init(params), []
    else:
        to_jax = lambda tree: jax.tree_util.tree_map(jnp.asarray, tree)  # noqa: E731
        params, opt_state, rows = to_jax(saved["params"]), to_jax(saved["opt_state"]), saved["rows"]
    train_jax = Batch(*(jnp.asarray(a) for a in train_data))
    test_jax = Batch(*(jnp.asarray(a) for a in test_data))
    bar = tqdm(total=epochs, initial=len(rows), disable=not progress, desc="train", unit="epoch")
    try:
        for epoch in range(len(rows) + 1, epochs + 1):
            first_step = jnp.asarray((epoch - 1) * n_steps, jnp.float64)
            params, opt_state, loss = run_epoch(
                model,
                config["objective"],
                n_steps,
                batch_size,
                params,
                opt_state,
                train_jax,
                jax.random.fold_in(train_keys, epoch),
                first_step,
                hyper,
            )
            beta = beta_at(first_step + n_steps, hyper)
            key = jax.random.fold_in(eval_keys, epoch)
            test = _evaluate(model, config["objective"], params, test_jax, key, beta)
            fit = _evaluate(model, config["objective"], params, train_jax, key, beta)
            rows.append(_row(epoch, float(beta), float(loss), test, fit))
            if checkpoint_dir is not None:
                save_checkpoint(
                    checkpoint_dir,
                    dict(
                        fingerprint=run_id,
                        epoch=epoch,
                        params=params,
                        opt_state=opt_state,
                        key=base,
                        rows=rows,
                    ),
                )
            bar.set_postfix(loss=f"{float(loss):.3g}", test_acc=f"{test['accuracy']:.3f}")
            bar.update(1)
    finally:
        bar.close()
    history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    return VariationalResult(history, params, model, {**config, "epochs": epochs})


def _row(epoch: int, beta: float, loss: float, test: dict, fit: dict) -> dict:
    """One history row from the test and training metrics."""
    if not np.isfinite(loss):
        raise FloatingPointError(
            f"the training loss is {loss} at epoch {epoch}; lower `learning_rate` or `beta`."
        )
    return dict(
        epoch=epoch,
        beta=beta,
        loss=loss,
        rate=test["rate"],
        izy_lower=test["izy_lower"],
        izy_noise_lower=test["izy_noise_lower"],
        test_loss=test["loss"],
        test_accuracy=test["accuracy"],
        train_rate=fit["rate"],
        train_izy_lower=fit["izy_lower"],
        train_izy_noise_lower=fit["izy_noise_lower"],
        train_accuracy=fit["accuracy"],
    )
