"""Make the synthetic measurements of ``examples/data/`` for the measured-data docs
(docs/how-to/measured_data.md, docs/how-to/fit_profile.md):

* ``profile_synthetic.csv``: a DNP profile (enhancement vs microwave frequency);
* ``power_curve_synthetic.csv``: a power curve (enhancement vs microwave power in dBm).

Run from the repository root (~1 min on 2 cores; ``profile`` or ``power`` makes one):

    python examples/data/make_example_data.py [profile|power]

Each runs dnpsim on a reduced copy of ``examples/dnp_profile.toml`` (6 electrons,
U = 15 MHz, 512 disorder realizations, rate equation), averages the nuclear enhancement
over the realizations, adds Gaussian noise (a fraction of the largest |enhancement|)
with a fixed seed, and writes a CSV with the units in its header and ``#`` lines saying
how it was made.  Running it again gives the same files.
"""

from __future__ import annotations

import copy
import sys
import tomllib
from pathlib import Path

import numpy as np

import dnpsim

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "dnp_profile.toml"
OUTPUT = HERE / "profile_synthetic.csv"
POWER_OUTPUT = HERE / "power_curve_synthetic.csv"
NOISE = 0.10  # standard deviation of the noise, as a fraction of max |enhancement|
POWER_NOISE = 0.10
SEED = 18     # issue 18
REALIZATIONS = 512  # the sample: a disorder average much smoother than the noise
#: The power curve: at 93.84 GHz (the positive lobe of the profile), B1 = CONVERSION x sqrt(P).
POWER_FREQUENCY = 93.84e9
CONVERSION = "0.5 uT/W**0.5"
POWERS_DBM = np.arange(10.0, 40.01, 2.5)  # 10 mW .. 10 W


def power_curve() -> None:
    """Enhancement vs microwave power (dBm) at POWER_FREQUENCY with B1 = CONVERSION x sqrt(P)."""
    spec = copy.deepcopy(tomllib.loads(SPEC.read_text()))
    spec["model"]["n_electrons"] = 6
    environment = spec["environment"]
    del environment["mw_amplitude"]
    environment["mw_frequency"] = POWER_FREQUENCY
    environment["mw_conversion_factor"] = CONVERSION
    spec["sweep"] = {"environment.mw_power": [f"{p:g} dBm" for p in POWERS_DBM],
                     "realizations": REALIZATIONS, "seed": 1}
    ds = dnpsim.sweep(spec, progress=False, executor="processes", workers=2)
    eps = ds.nuclear_enhancement.mean("realization").values
    sigma = POWER_NOISE * np.max(np.abs(eps))
    noisy = eps + np.random.default_rng(SEED).normal(0.0, sigma, eps.shape)
    m = spec["model"]
    lines = [
        "# Synthetic DNP power curve made by examples/data/make_example_data.py with dnpsim (not a measurement).",
        f"# True parameters: the model of profile_synthetic.csv (n_electrons = {m['n_electrons']}, couplings "
        f"gaussian scale = {m['couplings']['scale'] / 1e6:g} MHz, t1e = 1 s),",
        f"#   microwave frequency {POWER_FREQUENCY / 1e9:g} GHz, B1 = {CONVERSION} x sqrt(P) "
        f"(environment.mw_conversion_factor), mean of {REALIZATIONS} realizations (sweep seed 1).",
        f"# Noise: Gaussian, sigma = {POWER_NOISE:g} x max|enhancement| = {sigma:.4g}, numpy default_rng seed {SEED}.",
        f"# temperature: {environment['temperature']:g} K",
        "P_mw [dBm], enhancement, enhancement_err",
    ]
    lines += [f"{p:.1f}, {y:.4f}, {sigma:.4f}" for p, y in zip(POWERS_DBM, noisy)]
    POWER_OUTPUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {POWER_OUTPUT.relative_to(HERE.parent.parent)}: {eps.size} points, enhancement "
          f"{noisy.min():.1f} .. {noisy.max():.1f}")


def profile() -> None:
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


def main(argv: list[str]) -> None:
    which = set(argv) or {"profile", "power"}
    unknown = which - {"profile", "power"}
    if unknown:
        raise SystemExit(f"make_example_data.py: unknown data set(s) {sorted(unknown)}; give profile and/or power")
    if "profile" in which:
        profile()
    if "power" in which:
        power_curve()


if __name__ == "__main__":
    main(sys.argv[1:])
