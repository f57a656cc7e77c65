"""Writing result datasets: the one NetCDF writer (h5netcdf engine) of the package.

Files appear atomically: the dataset goes to a temporary file in the target's
directory, which is renamed over the target only once it is complete, so an
interrupted write never leaves a half-written result (DESIGN.md, bad input / results).
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_netcdf(dataset, path, attrs: dict | None = None, **to_netcdf_options) -> Path:
    """Write the xarray ``dataset`` to ``path`` (NetCDF4 via h5netcdf) atomically.

    ``attrs`` are added to the dataset's attributes first; values that are not a
    str, int or float are stored as JSON text.  ``to_netcdf_options`` go to
    ``Dataset.to_netcdf`` (e.g. ``group``).  Returns the path."""
    path = Path(path)
    for key, value in (attrs or {}).items():
        dataset.attrs[key] = value if isinstance(value, (str, int, float)) else json.dumps(value)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        dataset.to_netcdf(tmp, engine="h5netcdf", **to_netcdf_options)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
