"""Butakov et al.'s synthetic images with a set mutual information (re-exported by `tasks`).

Latents (a, b) are a Gaussian pair with I(a; b) = mi spread over p pairs
(`tasks.correlated_gaussian`, no rotation); u = Phi(a) is uniform on (0, 1)^p. Each side is
mapped injectively and smoothly to an image, so the images carry exactly I(a; b) = mi:

  - 'gaussians' (p = 2): a 2-D Gaussian blob of fixed width w centred at c = 0.2 + 0.6 u,
    pixel (i, j) at p_ij = ((j + 1/2)/s, (i + 1/2)/s) gets exp(-|p_ij - c|^2 / (2 w^2));
  - 'rectangles' (p = 4): corners x0 = 0.1 + 0.35 u1 < x1 = 0.55 + 0.35 u2 (y likewise,
    order-preserving), each pixel gets the area fraction of it that the rectangle covers.

Reference: Butakov et al., "Information Bottleneck Analysis of Deep Neural Networks via Lossy
Compression", arXiv 2305.08013, synthetic tests (rasterised Gaussians and rectangles).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import ndtr

from ntk_info._checks import check_count, check_option, check_positive
from ntk_info.tasks import GaussianTask, Task, TrueMI, correlated_gaussian

__all__ = ["ImageTask", "image_task", "render"]

Kind = Literal["gaussians", "rectangles"]
LATENT_DIMS = {"gaussians": 2, "rectangles": 4}


def _coverage(lo: np.ndarray, hi: np.ndarray, size: int) -> np.ndarray:
    """Fraction of each of `size` unit-width pixels of [0, 1] covered by [lo, hi]: (n, size)."""
    edges = np.arange(size + 1) / size
    left = np.maximum(edges[None, :-1], lo[:, None])
    right = np.minimum(edges[None, 1:], hi[:, None])
    return np.clip(right - left, 0.0, None) * size


def render(uniforms: np.ndarray, kind: Kind, size: int, width: float = 0.12) -> np.ndarray:
    """Images (n, size * size) of the uniform latents `uniforms` (n, p), as described above."""
    centres = (np.arange(size) + 0.5) / size
    if kind == "gaussians":
        c = 0.2 + 0.6 * uniforms
        gx = np.exp(-((centres[None, :] - c[:, :1]) ** 2) / (2 * width**2))
        gy = np.exp(-((centres[None, :] - c[:, 1:2]) ** 2) / (2 * width**2))
        images = gy[:, :, None] * gx[:, None, :]
    else:
        x0, x1 = 0.1 + 0.35 * uniforms[:, 0], 0.55 + 0.35 * uniforms[:, 1]
        y0, y1 = 0.1 + 0.35 * uniforms[:, 2], 0.55 + 0.35 * uniforms[:, 3]
        images = _coverage(y0, y1, size)[:, :, None] * _coverage(x0, x1, size)[:, None, :]
    return images.reshape(uniforms.shape[0], size * size)


class ImageTask(Task):
    """X, Z = images (or Z = the other latent) of correlated latents; I(X;Z) = mi exactly.

    Args:
      mi: the true MI in nats.
      kind: 'gaussians' (2 latents per side) or 'rectangles' (4).
      size: image side in pixels (dim = size^2).
      z_image: Z is an image too (default) or the latent b itself (p coordinates).
      width: blob width for 'gaussians', in image units.
    """

    def __init__(
        self,
        mi: float,
        *,
        kind: Kind = "gaussians",
        size: int = 16,
        z_image: bool = True,
        width: float = 0.12,
    ) -> None:
        self.kind = check_option("kind", kind, Kind)
        self.size = check_count("size", size, 4, "pixels per side")
        self.width = check_positive("width", width)
        p = LATENT_DIMS[self.kind]
        self.latent: GaussianTask = correlated_gaussian(p, mi, mix=False)
        self.mutual_information = TrueMI(self.latent.mutual_information)
        self.z_image = bool(z_image)
        self.dim_x = self.size**2
        self.dim_y = self.size**2 if self.z_image else p
        self.name = f"images_{self.kind}"
        self.params = dict(mi=float(mi), kind=self.kind, size=self.size, z_image=self.z_image)

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.latent.draw(n, rng)
        x = render(ndtr(a), self.kind, self.size, self.width)
        z = render(ndtr(b), self.kind, self.size, self.width) if self.z_image else b
        return x, z


def image_task(
    mi: float, *, kind: Kind = "gaussians", size: int = 16, z_image: bool = True
) -> ImageTask:
    """Butakov et al.'s rasterised-image task with I(X;Z) = mi nats (see `ImageTask`)."""
    return ImageTask(mi, kind=kind, size=size, z_image=z_image)
