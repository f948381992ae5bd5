"""scikit-learn's bundled handwritten digits, in the classic 28x28 MNIST shape.

``sklearn.datasets.load_digits`` ships with scikit-learn (1797 8x8 images
with 17 grey levels, 0..16; no download).  The classic TF2 recipes were
written for 28x28 MNIST, so each image is upsampled by bilinear
interpolation (``scipy.ndimage.zoom(order=1)``, factor 3.5 with the corner
pixels aligned) to 28x28 and scaled to [0, 1].

The split is fixed: ``train_test_split(test_size=0.3, stratify=y,
random_state=0)`` -- 1257 training and 540 test images.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["Digits", "load_digits_28", "upsample"]


@dataclass(frozen=True)
class Digits:
    """The split: images ``(n, 28, 28)`` in [0, 1] float32, labels ``(n,)`` int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def classes(self) -> int:
        return 10


def upsample(images: np.ndarray, size: int = 28) -> np.ndarray:
    """Bilinear upsampling of ``(n, h, w)`` images to ``(n, size, size)``."""
    from scipy import ndimage

    n, h, w = images.shape
    return np.stack([ndimage.zoom(img, (size / h, size / w), order=1, grid_mode=False) for img in images])


@functools.lru_cache(maxsize=1)
def load_digits_28() -> Digits:
    """The fixed 28x28 digits split (cached; arrays are read-only)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = data.images.astype(np.float64) / 16.0
    big = np.clip(upsample(images), 0.0, 1.0).astype(np.float32)
    y = data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(big, y, test_size=0.3, stratify=y, random_state=0)
    for arr in (x_tr, x_te, y_tr, y_te):
        arr.setflags(write=False)
    return Digits(x_tr, y_tr, x_te, y_te)
