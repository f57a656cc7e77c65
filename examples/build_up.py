"""Build-up of the nuclear polarization under microwaves: the master equation of the
2016 paper (Eq. (11), 8 electrons + the thermometer nucleus, Table I) integrated in
time from the thermal state, next to its stationary value.

    python examples/build_up.py        # ~5 s; writes build_up.png in the current directory

The microwaves take the electron polarization from -0.954 (thermal at 1.2 K) to -0.84
within ~1e-4 s; the electrons then settle and the nucleus polarizes on a scale of
0.2-0.3 s, so the curve is sampled every 0.05 s up to 5 s (about 20 build-up times).
Expected output:

    thermal start: P_n = +0.0004, mean electron polarization -0.954 (1.2 K)
    fit P_n(t) = eps (1 - exp(-t / tau)): eps = +0.175, tau = 0.24 s
    maximum P_n = +0.1849 at t = 1.00 s, above the stationary value (overshoot)
    P_n(5 s) = +0.17044, stationary P_n = +0.17040 (enhancement 426 over the Boltzmann +0.0004)

build_up.png: top, P_n(t) rising to the stationary line within ~1 s, overshooting it
by 8 % and settling by ~3 s (the single exponential fit misses the overshoot); bottom,
the mean electron polarization going from -0.954 to -0.24.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import dnpsim
from dnpsim.observables.build_up import fit_build_up

model = dnpsim.make_model({"kind": "dipolar_electrons", "n_electrons": 8, "electron_larmor": "93.9 GHz", "seed": 1,
                           "offsets": {"distribution": "equally_spaced", "half_width": "54 MHz"},
                           "couplings": {"distribution": "gaussian", "scale": "15 MHz"},
                           "nuclei": {"larmor": "20 MHz", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}})
engine = dnpsim.SpinTemperatureEngine(model)
env = dnpsim.Environment(temperature="1.2 K", mw_frequency="93.88 GHz", mw_amplitude="25 kHz", t1e="1 s", t2e="1 us")
# one time step: the propagator exponentiates the generator once per distinct step
times = np.linspace(0.0, 5.0, 101)  # s
curve = engine.evolve(env, times)
stationary = engine.stationary(env)

pn = curve.nuclear_polarization_t
pe = curve.electron_polarization_t.mean(axis=1)
fit = fit_build_up(times, pn)
peak = int(np.argmax(pn))
print(f"thermal start: P_n = {pn[0]:+.4f}, mean electron polarization {pe[0]:+.3f} (1.2 K)")
print(f"fit P_n(t) = eps (1 - exp(-t / tau)): eps = {fit.eps:+.3f}, tau = {fit.tau:.2f} s")
print(f"maximum P_n = {pn[peak]:+.4f} at t = {times[peak]:.2f} s, "
      f"{'above the stationary value (overshoot)' if pn[peak] > stationary.nuclear_polarization else 'the last time'}")
print(f"P_n({times[-1]:g} s) = {pn[-1]:+.5f}, stationary P_n = {stationary.nuclear_polarization:+.5f} "
      f"(enhancement {stationary.enhancement.nuclear:.0f} over the Boltzmann {pn[0]:+.4f})")

fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(5.5, 5), dpi=120)
top.plot(times, pn, label="$P_n(t)$")
top.plot(times, fit.eps * (1 - np.exp(-times / fit.tau)), ":", label=rf"fit, $\tau$ = {fit.tau:.2f} s")
top.axhline(stationary.nuclear_polarization, ls="--", color="k", label="stationary")
top.set_ylabel("$P_n$")
top.legend(fontsize=8)
bottom.plot(times, pe, color="C3")
bottom.axhline(np.mean(stationary.electron_polarization), ls="--", color="k")
bottom.set_xlabel("t (s)")
bottom.set_ylabel("mean $P_e$")
fig.tight_layout()
fig.savefig("build_up.png")
