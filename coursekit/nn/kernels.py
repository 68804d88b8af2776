"""Classic 3x3 image kernels and a one-call way to apply one to a photo with our conv layer.

``apply_kernel`` runs :func:`coursekit.nn.conv2d_forward` (cross-correlation, like every
deep-learning library); ``flip=True`` turns it into a true mathematical convolution (the
kernel rotated by 180 degrees). For symmetric kernels (blur) both agree; for Sobel they
differ by a sign.
"""
from __future__ import annotations

import numpy as np

from .conv import conv2d_forward

KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64),
    "box blur": np.full((3, 3), 1 / 9),
    "gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float64) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float64),
}


def get_kernel(name: str) -> np.ndarray:
    """A copy of the named kernel (see ``KERNELS``)."""
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {sorted(KERNELS)}")
    return KERNELS[name].copy()


def to_gray(image) -> np.ndarray:
    """(H, W) or (H, W, 3) image -> (H, W) float64 grey levels (luminance weights)."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] in (3, 4):
        return img[..., :3] @ np.array([0.299, 0.587, 0.114])
    raise ValueError(f"image must be (H, W) or (H, W, 3), got shape {img.shape}")


def apply_kernel(image, kernel, stride: int = 1, padding: int = 0, flip: bool = False,
                 method: str = "fast") -> np.ndarray:
    """Slide one 2-D ``kernel: (kh, kw)`` over a grey ``image: (H, W)`` (colour is converted).

    Returns the ``(Ho, Wo)`` feature map. ``flip=True``: true convolution (kernel rotated
    180 degrees) instead of cross-correlation.
    """
    img = to_gray(image)
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2:
        raise ValueError(f"kernel must be 2-D (kh, kw), got shape {k.shape}")
    if flip:
        k = k[::-1, ::-1]
    out, _ = conv2d_forward(img[None, None], k[None, None], np.zeros(1), stride, padding, method)
    return out[0, 0]
