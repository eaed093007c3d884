"""Safe encoding of the objects components exchange: named numpy arrays, never pickle."""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np


def encode_arrays(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Pack named arrays into bytes (numpy's npz format; object arrays are refused)."""
    for name, array in arrays.items():
        if array.dtype.hasobject:
            raise TypeError(f"array {name!s} has dtype object, which cannot be sent safely")
    buffer = io.BytesIO()
    np.savez(buffer, **dict(arrays))  # type: ignore[arg-type]
    return buffer.getvalue()


def decode_arrays(payload: bytes) -> dict[str, np.ndarray]:
    """Unpack bytes made by encode_arrays; refuses pickled content."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
