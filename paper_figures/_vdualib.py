"""Set-up shared by the VIB vs VdualIB figures: digits with a teacher's confusion-matrix noise.

The dualIB paper trains both objectives on the same noisy labels p~(y|x) = row y of a trained
classifier's row-normalised confusion matrix (spec dualib.md §4, `confusion_matrix_noise`). Here
the teacher is a VIB network (beta = 100) trained on the students' training set; its confusions
are counted on a held-out validation split (not the test set), plus one pseudo-count per cell
(Laplace smoothing: without it p~ has entries at the 1e-7 floor and KL(q || p~) is dominated by
them).
"""

from __future__ import annotations

from ntk_info import data
from ntk_info.variational import ConfusionNoise, confusion_matrix, train

#: Training arguments shared by every student (and the teacher).
NETWORK = dict(latent_dim=8, width=128, batch_size=100, learning_rate=1e-3, progress=False)
TEACHER_BETA = 100.0
N_VALIDATION = 297


def noisy_digits(n_train: int, n_test: int, epochs: int, seed: int = 0):
    """(dataset, noise, teacher validation accuracy) for the students.

    digits is split (seeded) into n_train training, N_VALIDATION validation and n_test test
    points (n_train + n_test <= 1500).
    """
    pool = data.digits(n_train=n_train, n_test=n_test + N_VALIDATION, seed=seed)
    dataset = data.from_arrays(
        pool.x_train,
        pool.classes_train,
        pool.x_test[:n_test],
        pool.classes_test[:n_test],
        n_classes=10,
        name="digits",
    )
    teacher = train(
        dataset, objective="vib", beta=TEACHER_BETA, epochs=epochs, seed=seed, **NETWORK
    )
    x_val, c_val = pool.x_test[n_test:], pool.classes_test[n_test:]
    predicted = teacher.predict(x_val).argmax(axis=1)
    counts = confusion_matrix(c_val, predicted, 10)
    return dataset, ConfusionNoise(counts + 1.0), float((predicted == c_val).mean())
