"""Input validation shared by the NumPy layers: clear ValueErrors that name shapes."""
from __future__ import annotations

import numpy as np

from ..arithmetic import conv_output_size


def as_array(x, name: str) -> np.ndarray:
    """``x`` as a NumPy array of floats; TypeError if it cannot be one."""
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            return x.astype(np.float64)
        return x
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a NumPy array of numbers, got {type(x).__name__}") from exc
    return arr


def check_4d(x: np.ndarray, name: str, layout: str = "(N, C, H, W)") -> None:
    """ValueError unless ``x`` is 4-D."""
    if x.ndim != 4:
        raise ValueError(f"{name} must be a 4-D array {layout}, got shape {x.shape} "
                         f"(ndim={x.ndim}); for one image use x[None] to add the batch axis")


def check_positive_int(v, name: str, minimum: int = 1) -> int:
    """``v`` as an int >= minimum, else ValueError."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")
    return int(v)


def out_size(size: int, k: int, stride: int, padding: int, what: str) -> int:
    """Output length of a sliding window (:func:`coursekit.arithmetic.conv_output_size`);
    a ValueError that starts with ``what`` when the window does not fit."""
    try:
        return conv_output_size(size, k, stride, padding)
    except ValueError as err:
        raise ValueError(f"{what}: {err}") from None
