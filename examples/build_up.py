"""Build-up of the nuclear polarization under microwaves (Eq. (11) of the 2016 paper
integrated in time from the thermal state), plotted against the stationary value.

    python examples/build_up.py        # writes build_up.png
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.models import disorder
from dnpsim.models.electrons import DipolarElectrons, ThermometerNucleus
from dnpsim.units import angular

rng = np.random.default_rng(1)
n = 8
model = DipolarElectrons(
    angular(93.9e9),
    disorder.equally_spaced_offsets(n, angular(54e6)),
    disorder.gaussian_couplings(n, angular(15e6), rng),
    nucleus=ThermometerNucleus(angular(20e6), disorder.gaussian_hyperfine(n, angular(1e6), rng)),
)
engine = SpinTemperatureEngine(model)
env = Environment(1.2, angular(93.88e9), angular(25e3), 1.0, 1e-6)
times = np.linspace(0.0, 2000.0, 101)  # s: nuclear flips are ~(D/omega_n)^2 slower than T1e
curve = engine.evolve(env, times)
stationary = engine.stationary(env).nuclear_polarization

fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
ax.plot(times, curve["nuclear_polarization"], label="$P_n(t)$")
ax.axhline(stationary, ls="--", color="k", label="stationary")
ax.set_xlabel("t (s)")
ax.set_ylabel("$P_n$")
ax.legend()
fig.tight_layout()
fig.savefig("build_up.png")
print(f"P_n(t_max) = {curve['nuclear_polarization'][-1]:.4f}, stationary {stationary:.4f}")
