"""Build-up of the nuclear polarization under microwaves (Eq. (11) of the 2016 paper
integrated in time from the thermal state), plotted against the stationary value.

    python examples/build_up.py        # writes build_up.png
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import dnpsim

model = dnpsim.make_model({"kind": "dipolar_electrons", "n_electrons": 8, "electron_larmor": "93.9 GHz", "seed": 1,
                           "offsets": {"distribution": "equally_spaced", "half_width": "54 MHz"},
                           "couplings": {"distribution": "gaussian", "scale": "15 MHz"},
                           "nucleus": {"larmor": "20 MHz", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}})
engine = dnpsim.SpinTemperatureEngine(model)
env = dnpsim.Environment(temperature="1.2 K", mw_frequency="93.88 GHz", mw_amplitude="25 kHz", t1e="1 s", t2e="1 us")
times = np.linspace(0.0, 2000.0, 101)  # s: nuclear flips are ~(D/omega_n)^2 slower than T1e
curve = engine.evolve(env, times)
stationary = engine.stationary(env).nuclear_polarization

fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
ax.plot(curve.times, curve.nuclear_polarization_t, label="$P_n(t)$")
ax.axhline(stationary, ls="--", color="k", label="stationary")
ax.set_xlabel("t (s)")
ax.set_ylabel("$P_n$")
ax.legend()
fig.tight_layout()
fig.savefig("build_up.png")
print(f"P_n(t_max) = {curve.nuclear_polarization_t[-1]:.4f}, stationary {stationary:.4f}")
