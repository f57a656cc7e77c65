"""Make ``examples/data/profile_synthetic.csv``: an honest synthetic DNP profile for the
measured-data docs (docs/how-to/measured_data.md).

Run from the repository root (~30 s on 2 cores):

    python examples/data/make_example_data.py

It runs dnpsim on a reduced copy of ``examples/dnp_profile.toml`` (6 electrons,
U = 15 MHz, 13 microwave frequencies, 512 disorder realizations, rate equation), averages
the nuclear enhancement over the realizations, adds Gaussian noise of 10 % of the largest
|enhancement| with a fixed seed, and writes the CSV with the units in its header
(``mw_frequency [GHz], enhancement, enhancement_err``) and ``#`` lines saying how it
was made.  Running it again gives the same file.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np

import dnpsim

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "dnp_profile.toml"
OUTPUT = HERE / "profile_synthetic.csv"
NOISE = 0.10  # standard deviation of the noise, as a fraction of max |enhancement|
SEED = 18     # issue 18
REALIZATIONS = 512  # the sample: a disorder average much smoother than the noise


def main() -> None:
    spec = tomllib.loads(SPEC.read_text())
    spec = copy.deepcopy(spec)
    spec["model"]["n_electrons"] = 6
    spec["sweep"] = {"environment.mw_frequency": {"start": 93.84e9, "stop": 93.96e9, "num": 13},
                     "realizations": REALIZATIONS, "seed": 1}
    ds = dnpsim.sweep(spec, progress=False, executor="processes", workers=2)
    eps = ds.nuclear_enhancement.mean("realization").values
    sigma = NOISE * np.max(np.abs(eps))
    noisy = eps + np.random.default_rng(SEED).normal(0.0, sigma, eps.shape)
    m, env = spec["model"], spec["environment"]
    lines = [
        "# Synthetic DNP profile made by examples/data/make_example_data.py with dnpsim (not a measurement).",
        f"# True parameters: dipolar_electrons, n_electrons = {m['n_electrons']}, electron_larmor = "
        f"{m['electron_larmor'] / 1e9:g} GHz, offsets equally_spaced half_width = {m['offsets']['half_width'] / 1e6:g} MHz,",
        f"#   couplings gaussian scale = {m['couplings']['scale'] / 1e6:g} MHz, nuclear larmor = "
        f"{m['nuclei']['larmor'] / 1e6:g} MHz, hyperfine gaussian scale = {m['nuclei']['hyperfine']['scale'] / 1e6:g} MHz,",
        f"#   microwave amplitude {env['mw_amplitude'] / 1e3:g} kHz, rate equation, mean of {REALIZATIONS} realizations (sweep seed 1).",
        f"# Noise: Gaussian, sigma = {NOISE:g} x max|enhancement| = {sigma:.4g}, numpy default_rng seed {SEED}.",
        f"# temperature: {env['temperature']:g} K",
        "mw_frequency [GHz], enhancement, enhancement_err",
    ]
    lines += [f"{f / 1e9:.3f}, {y:.4f}, {sigma:.4f}" for f, y in zip(ds.mw_frequency.values, noisy)]
    OUTPUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUTPUT.relative_to(HERE.parent.parent)}: {eps.size} points, enhancement "
          f"{noisy.min():.1f} .. {noisy.max():.1f}")


if __name__ == "__main__":
    main()
