"""``dnpsim demo``: a small DNP profile of the 2016 model in a few seconds.

N = 8 electrons with equally spaced offsets (half width 54 MHz), Gaussian flip-flop
couplings U = 15 MHz, a 20 MHz thermometer nucleus, Table I bath and microwave
parameters, 41 microwave frequencies around omega_e and 4 disorder realizations.
Writes ``dnpsim-demo.nc`` (xarray, dims mw_frequency x realization) and
``dnpsim-demo.png`` (the profile, with the spin-temperature prediction Eq. (1)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DEMO_SPEC = {
    "model": {
        "kind": "dipolar_electrons",
        "electron_larmor": 93.9e9,
        "n_electrons": 8,
        "offsets": {"distribution": "equally_spaced", "half_width": 54e6},
        "couplings": {"distribution": "gaussian", "scale": 15e6},
        "seed": 1,
        "nuclei": {"larmor": 20e6, "hyperfine": {"distribution": "gaussian", "scale": 1e6}},
    },
    "environment": {"temperature": 1.2, "mw_frequency": 93.88e9, "mw_amplitude": 25e3, "t1e": 1.0, "t2e": 1e-6},
    "method": {"kind": "rate_equation"},
    "sweep": {
        "environment.mw_frequency": {"start": 93.84e9, "stop": 93.96e9, "num": 41},
        "realizations": 4,
        "seed": 1,
    },
}


def run_demo(output_dir: Path, progress: bool = True):
    """Run the demo sweep and write the NetCDF file and the plot into ``output_dir``."""
    from dnpsim.api import sweep
    from dnpsim.plots import plot_dnp_profile

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    nc = output_dir / "dnpsim-demo.nc"
    png = output_dir / "dnpsim-demo.png"
    data = sweep(DEMO_SPEC, output=nc, progress=progress, resume=False)
    plot_dnp_profile(data, png, title=r"dnpsim demo: DNP profile, $N$ = 8, $U/2\pi$ = 15 MHz (4 realizations)")
    if progress:
        mean = data["nuclear_polarization"].mean("realization")
        i = int(np.argmax(np.abs(mean.values)))
        print(f"largest |P_n| = {abs(float(mean[i])):.3f} at {float(data.mw_frequency[i]) / 1e9:.4f} GHz")
        print(f"wrote {nc} and {png}")
    return nc, png
