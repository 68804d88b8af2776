"""Reader for the IDX format of the MNIST files (LeCun et al.), raw or gzip-compressed.

Layout: two zero bytes, a type code, the number of dimensions ``ndim``, then ``ndim``
big-endian uint32 sizes, then the data in C order (big-endian for multi-byte types).
"""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\x1f\x8b":  # gzip magic, whatever the file name says
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: corrupt or truncated gzip file ({e}); delete it and "
                             "download it again") from None
    return path.read_bytes()


def read_idx(path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a NumPy array of its shape and native dtype.

    e.g. ``t10k-images-idx3-ubyte.gz`` -> (10000, 28, 28) uint8;
    ``t10k-labels-idx1-ubyte.gz`` -> (10000,) uint8. Raises ValueError on a malformed file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (expected two zero bytes, a type code "
                         f"and a dimension count at the start)")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}; expected one of "
                         f"{[hex(c) for c in IDX_DTYPES]}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} data bytes) but "
                         f"the file holds {len(data) - header}: the file is truncated or "
                         "corrupt; delete it and download it again")
    arr = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def md5sum(path, chunk: int = 1 << 20) -> str:
    """The hex md5 digest of a file (used to verify cached downloads)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
