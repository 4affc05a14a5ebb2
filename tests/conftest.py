"""Fixtures shared across test files (module scope: built once per file that uses them)."""

from __future__ import annotations

import pytest
from information_cases import erf_k1_case, relu_k3_case


@pytest.fixture(scope="module")
def erf_k1():
    """fc(3) erf, Gaussian regression data, k = 1: (arch, ensemble, dataset)."""
    return erf_k1_case()


@pytest.fixture(scope="module")
def relu_k3():
    """fc(3) ReLU, 3-class one-hot labels, k = 3: (arch, ensemble, dataset)."""
    return relu_k3_case()
