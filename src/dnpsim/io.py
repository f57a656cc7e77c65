"""Writing files: every file dnpsim writes appears atomically, through this module.

The content goes to a hidden temporary file in the target's directory, which is
renamed over the target only once it is complete (``os.replace`` is atomic on one
file system), so an interrupted or failed write never leaves a half-written result.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "write_bytes", "write_json", "write_netcdf"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Context manager yielding a temporary path next to ``path``: write there; on a
    clean exit it is renamed over ``path``, on an exception it is removed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    return Path(path)


def _json_default(value: Any):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented standard JSON (numpy arrays and scalars as lists /
    numbers; NaN and infinities are refused, the caller writes them as null) to
    ``path`` atomically."""
    return write_bytes(path, (json.dumps(data, indent=2, default=_json_default, allow_nan=False) + "\n").encode())


def write_netcdf(dataset, path: str | os.PathLike, attrs: Mapping[str, Any] | None = None) -> Path:
    """Write an :class:`xarray.Dataset` (or ``{group: Dataset}`` for a file with several
    NetCDF groups) to ``path`` (NetCDF4 via h5netcdf) atomically.

    ``attrs`` are added to the (first) dataset's attributes first; values that are not
    a str, int or float are stored as JSON text.  Returns the path."""
    groups = dataset if isinstance(dataset, dict) else {None: dataset}  # (a Dataset is a Mapping too)
    first = next(iter(groups.values()))
    for key, value in (attrs or {}).items():
        first.attrs[key] = value if isinstance(value, (str, int, float)) else json.dumps(value)
    with atomic_path(path) as tmp:
        for i, (group, data) in enumerate(groups.items()):
            data.to_netcdf(tmp, engine="h5netcdf", group=group, mode="w" if i == 0 else "a")
    return Path(path)
