"""Measured DNP data (issue 18): loading profiles, power curves and build-up curves
from CSV / TSV, NetCDF and DNPLab into one documented xarray layout
(:mod:`dnpsim.data.measured`, docs/how-to/measured_data.md)."""

from dnpsim.data.measured import (AXES, LAYOUT, OBSERVABLES, Axis, Observable, load_measurement,
                                  validate_measurement)

__all__ = ["LAYOUT", "AXES", "OBSERVABLES", "Axis", "Observable", "load_measurement", "validate_measurement"]
