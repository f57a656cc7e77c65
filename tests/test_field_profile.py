"""Field profiles (issue 17): ``model.field`` swept at a fixed microwave frequency.

* A field is never shared by the points of a group (``reuses_model("model.field")``
  is false for ``dipolar_electrons``): B0 sets the frame omega_e, the powder offsets
  and the species' Larmor frequency, see docs/engines/spin_temperature.md, "Field
  profiles".  The sweep then equals independent single runs bit for bit.
* The field enters where it should: without powder offsets and with a fixed nuclear
  Larmor frequency a field step dB at fixed omega_MW is the frequency step
  -g mu_B dB / h at fixed B0 (up to the change of the Boltzmann factors, ~1e-4 here).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import dnpsim
from dnpsim.experiments.sweep import parse_sweep, realization_seeds
from dnpsim.spec import resolve_spec, reuses_model
from dnpsim.units import G_FREE_ELECTRON, H_PLANCK, MU_B

POWDER = {
    "model": {"kind": "dipolar_electrons", "field": "3.35 T", "n_electrons": 4, "seed": 0,
              "offsets": {"distribution": "powder", "radical": "TEMPO"},
              "couplings": {"distribution": "gaussian", "concentration": "40 mM"},
              "nuclei": {"species": "1H", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}},
    "environment": {"temperature": "1.2 K", "mw_frequency": "94.05 GHz", "mw_amplitude": "25 kHz"},
    "sweep": {"model.field": ["3.343 T", "3.35 T", "3.356 T"],
              "environment.mw_frequency": ["94.0 GHz", "94.05 GHz"], "realizations": 2, "seed": 1},
}


def test_a_field_is_its_own_model():
    assert not reuses_model("model.field", POWDER)
    assert reuses_model("environment.mw_frequency", POWDER)
    plan = parse_sweep(POWDER)
    groups = plan.groups()
    assert len(groups) == 3  # one per field, the two frequencies share each field's spectrum
    assert all(set(g.overrides) == {"model.field"} and len(g.variants) == 2 for g in groups)


def test_field_sweep_equals_single_runs_bit_for_bit():
    ds = dnpsim.sweep(POWDER, progress=False)
    assert ds.field.values.tolist() == [3.343, 3.35, 3.356]
    seeds = realization_seeds(1, 2)
    for b in ds.field.values:
        for f in ds.mw_frequency.values:
            for r, seed in enumerate(seeds):
                spec = copy.deepcopy(POWDER)
                del spec["sweep"]
                spec["model"]["field"] = float(b)
                spec["model"]["seed"] = seed
                spec["environment"]["mw_frequency"] = float(f)
                single = dnpsim.run(spec)
                point = ds.sel(field=b, mw_frequency=f).isel(realization=r)
                assert float(point.nuclear_polarization) == single.nuclear_polarization
                np.testing.assert_array_equal(point.electron_polarization.values, single.electron_polarization)
                np.testing.assert_array_equal(point.offsets.values, resolve_spec(spec).offsets)
    # the powder offsets scale with B0 (the g-anisotropy part) and the 1H Larmor with it
    offsets = ds.offsets.isel(realization=0).values
    assert not np.allclose(offsets[0], offsets[-1])


def test_field_step_is_a_frequency_step_without_powder():
    """Rigid line (equally spaced offsets in the frame, fixed nuclear Larmor): P_n at
    B0 + dB and omega_MW equals P_n at B0 and omega_MW - g mu_B dB / h, up to the
    Boltzmann factors (omega_e changes by dB / B0 = 3e-4)."""
    base = {"model": {"kind": "dipolar_electrons", "field": 3.35, "n_electrons": 4, "seed": 2,
                      "offsets": {"distribution": "equally_spaced", "half_width": "30 MHz"},
                      "couplings": {"distribution": "gaussian", "scale": "5 MHz"},
                      "nuclei": {"larmor": "20 MHz", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}},
            "environment": {"temperature": 1.2, "mw_frequency": 0.0, "mw_amplitude": "25 kHz"}}
    larmor = G_FREE_ELECTRON * MU_B * 3.35 / H_PLANCK
    db = 1e-3
    shift = G_FREE_ELECTRON * MU_B * db / H_PLANCK
    for detuning in (-40e6, -20e6, 20e6, 45e6):
        moved = copy.deepcopy(base)
        moved["model"]["field"] = 3.35 + db
        moved["environment"]["mw_frequency"] = larmor + detuning
        still = copy.deepcopy(base)
        still["environment"]["mw_frequency"] = larmor + detuning - shift
        a, b = dnpsim.run(moved).nuclear_polarization, dnpsim.run(still).nuclear_polarization
        assert abs(a) > 1e-3
        assert a == pytest.approx(b, rel=2e-3, abs=1e-4)
