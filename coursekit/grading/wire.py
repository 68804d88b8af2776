"""Plain-data wire format between the trusted grader and the student's child process.

Only JSON plus numeric NumPy arrays travel, packed in one ``.npz`` (loaded with
``allow_pickle=False``): never pickle or dill. Structure:

- ``None``, ``bool``, ``int``, ``float`` (NaN/inf allowed), ``str`` -> JSON values
- ``list`` -> JSON list; ``tuple`` -> ``{"__tuple__": [...]}``; ``dict`` (str keys) -> object
- arrays (bool/int/uint/float/complex) -> ``{"__array__": "aN"}`` + entry ``aN`` in the npz
- ``Ref(step, *path)`` (inputs only) -> ``{"__ref__": [...]}``
- anything else the child cannot encode -> ``{"__unsupported__": "type name"}``

Results stream back as frames ``b"CKR1" + 8-byte big-endian length + npz payload``.
"""
from __future__ import annotations

import io
import json
import numbers
import struct
from dataclasses import dataclass

import numpy as np

MAGIC = b"CKR1"
MAX_DEPTH = 32
_ARRAY_KINDS = set("biufc")
_RESERVED = {"__tuple__", "__array__", "__ref__", "__unsupported__"}


class WireError(ValueError):
    """Raised when bytes from the child are not valid plain data."""


@dataclass(frozen=True)
class Ref:
    """Reference to an earlier step's result inside one case: ``Ref(step, index, ...)``."""

    path: tuple

    def __init__(self, *path):
        object.__setattr__(self, "path", tuple(int(p) for p in path))


@dataclass(frozen=True)
class Unsupported:
    """A value the child could not turn into plain data (its type name only)."""

    type_name: str


def _to_array(obj):
    """Duck-typed conversion of torch tensors (never imports torch)."""
    if hasattr(obj, "detach") and hasattr(obj, "cpu") and hasattr(obj, "numpy"):
        return np.asarray(obj.detach().cpu().numpy())
    return None


def _encode(obj, arrays: dict, depth: int):
    if depth > MAX_DEPTH:
        return {"__unsupported__": "too deeply nested"}
    if obj is None or isinstance(obj, str) and type(obj) is str:
        return obj
    if isinstance(obj, Ref):
        return {"__ref__": list(obj.path)}
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.ndarray) or _to_array(obj) is not None:
        arr = obj if isinstance(obj, np.ndarray) else _to_array(obj)
        arr = np.array(arr, copy=True)  # plain ndarray, drops subclasses
        if arr.dtype.kind not in _ARRAY_KINDS:
            return {"__unsupported__": f"array of dtype {arr.dtype}"}
        name = f"a{len(arrays)}"
        arrays[name] = np.require(arr, requirements="C")  # keeps 0-d arrays 0-d
        return {"__array__": name}
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(x, arrays, depth + 1) for x in obj]}
    if isinstance(obj, list):
        return [_encode(x, arrays, depth + 1) for x in obj]
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str) or k in _RESERVED:
                return {"__unsupported__": "dict with non-string keys"}
            out[str(k)] = _encode(v, arrays, depth + 1)
        return out
    return {"__unsupported__": type(obj).__name__[:80]}


def pack(obj) -> bytes:
    """Encode plain data ``obj`` into npz bytes."""
    arrays: dict = {}
    tree = _encode(obj, arrays, 0)
    header = json.dumps(tree, allow_nan=True).encode()
    buf = io.BytesIO()
    np.savez(buf, __json__=np.frombuffer(header, dtype=np.uint8), **arrays)
    return buf.getvalue()


def _decode(node, arrays, depth: int, allow_refs: bool):
    if depth > MAX_DEPTH:
        raise WireError("nesting too deep")
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if isinstance(node, float):
        return node
    if isinstance(node, list):
        return [_decode(x, arrays, depth + 1, allow_refs) for x in node]
    if isinstance(node, dict):
        if "__tuple__" in node and len(node) == 1:
            items = node["__tuple__"]
            if not isinstance(items, list):
                raise WireError("bad tuple")
            return tuple(_decode(x, arrays, depth + 1, allow_refs) for x in items)
        if "__array__" in node and len(node) == 1:
            name = node["__array__"]
            if not isinstance(name, str) or name not in arrays:
                raise WireError(f"missing array {name!r}")
            return arrays[name]
        if "__unsupported__" in node and len(node) == 1:
            return Unsupported(str(node["__unsupported__"])[:80])
        if "__ref__" in node and len(node) == 1:
            if not allow_refs:
                raise WireError("references are not allowed here")
            path = node["__ref__"]
            if not isinstance(path, list) or not all(type(p) is int for p in path):
                raise WireError("bad reference")
            return Ref(*path)
        return {str(k): _decode(v, arrays, depth + 1, allow_refs) for k, v in node.items()}
    raise WireError(f"unexpected JSON value of type {type(node).__name__}")


def unpack(data: bytes, *, allow_refs: bool = False, max_bytes: int = 256 << 20):
    """Decode npz bytes made by :func:`pack`; raises :class:`WireError` on anything else."""
    if len(data) > max_bytes:
        raise WireError(f"payload of {len(data)} bytes exceeds the {max_bytes}-byte cap")
    _check_zip(data, max_bytes)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001 - any parse failure is a wire error
        raise WireError(f"not a valid npz payload ({type(e).__name__})") from None
    header = arrays.pop("__json__", None)
    if header is None or header.dtype != np.uint8 or header.ndim != 1:
        raise WireError("payload has no JSON header")
    for name, arr in arrays.items():
        if arr.dtype.kind not in _ARRAY_KINDS:
            raise WireError(f"array {name} has unsupported dtype {arr.dtype}")
    try:
        tree = json.loads(header.tobytes().decode("utf-8"))
    except Exception:  # noqa: BLE001
        raise WireError("JSON header is not valid UTF-8 JSON") from None
    return _decode(tree, arrays, 0, allow_refs)


def _check_zip(data: bytes, max_bytes: int) -> None:
    """Refuse compressed members (zip bombs: :func:`pack` stores, never deflates) and
    members whose declared or actual sizes exceed the cap, before NumPy reads anything."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except Exception:  # noqa: BLE001
        raise WireError("not a valid npz payload (bad zip)") from None
    total = 0
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise WireError(f"member {info.filename!r} is compressed (only stored members are accepted)")
        total += info.file_size
        if info.file_size > info.compress_size + 64 or total > max_bytes:
            raise WireError(f"member {info.filename!r} declares {info.file_size} bytes, over the cap "
                            "or larger than its stored data")


def frame(payload: bytes) -> bytes:
    """One result frame: magic, length, payload."""
    return MAGIC + struct.pack(">Q", len(payload)) + payload


def read_frames(data: bytes, max_frames: int = 100_000) -> tuple[list[bytes], bool]:
    """Split a result stream into payloads; returns (payloads, complete) where complete is
    False when the stream ends in a truncated or corrupt frame."""
    out, pos = [], 0
    while pos < len(data) and len(out) < max_frames:
        if data[pos:pos + 4] != MAGIC or pos + 12 > len(data):
            return out, False
        (n,) = struct.unpack(">Q", data[pos + 4:pos + 12])
        if pos + 12 + n > len(data):
            return out, False
        out.append(data[pos + 12:pos + 12 + n])
        pos += 12 + n
    return out, pos >= len(data)
