"""Numerically extreme but valid specs (issue 15): each engine either returns a result
whose file is standard JSON with finite polarizations (and a finite residual where the
solution is stationary), or fails with exit code 1 and one stderr line giving the
residual it reached.  Nothing NaN or infinite reaches a result file, and no numpy
warning reaches stderr.

Bases are the small specs of the catalogue (:mod:`tests.faults.test_catalogue`):
4 electrons (2016), 3 electrons (2021), a 2 x 2 x 2 lattice (2018), the e1-e2-n cross
effect (Lindblad, projected rates) and 4 drawn nuclei (kinetic Monte Carlo).
"""

from __future__ import annotations

import json
import math

import pytest

from dnpsim.cli import main
from dnpsim.jit import COMPILE_NOTICE
from tests.faults.test_catalogue import DEL, _set, base_spec

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

HILBERT = {"method.kind": "hilbert", "method.solver": DEL}
ZEEMAN = {"method.kind": "zeeman_rates"}

CASES = [
    # 2016 spin temperature (rate equation)
    ("st", {"model.couplings.scale": "1 Hz"}),
    ("st", {"model.couplings.scale": "10 GHz"}),
    ("st", {"model.nuclei.hyperfine.scale": "1 mHz"}),
    ("st", {"model.offsets.half_width": 0}),
    ("st", {"environment.temperature": "1 mK"}),
    ("st", {"environment.temperature": "300 K"}),
    ("st", {"environment.mw_frequency": "50 GHz"}),
    ("st", {"environment.mw_amplitude": 0}),
    ("st", {"environment.mw_amplitude": "1 GHz"}),
    ("st", {"environment.t1e": "1 ns", "environment.t2e": "1 ns"}),
    ("st", {"environment.t1e": "1e6 s"}),
    # 2021 open system (nonsecular GKSL, Hilbert rate equation)
    ("ns", {"model.couplings.scale": "1 Hz"}),
    ("ns", {"model.couplings.scale": "10 GHz"}),
    ("ns", {"environment.temperature": "1 mK"}),
    ("ns", {"environment.temperature": "300 K"}),
    ("ns", {"environment.mw_frequency": "50 GHz"}),
    ("ns", {"environment.mw_amplitude": 0}),
    ("ns", {"environment.mw_amplitude": "1 GHz"}),
    ("ns", {"environment.t1": "1 ps"}),
    ("ns", {**HILBERT, "environment.temperature": "1 mK"}),
    ("ns", {**HILBERT, "environment.mw_amplitude": "1 GHz"}),
    ("ns", {**HILBERT, "model.couplings.scale": "10 GHz"}),
    # 2018 free fermions
    ("an", {"model.hopping": "1 Hz"}),
    ("an", {"model.hopping": "10 GHz"}),
    ("an", {"model.onsite.width": 0}),
    ("an", {"model.nuclei.hyperfine": "1 uHz"}),
    ("an", {"environment.temperature": "1 mK"}),
    ("an", {"environment.temperature": "300 K"}),
    ("an", {"environment.mw_frequency": "50 GHz"}),
    ("an", {"environment.mw_amplitude": 0}),
    ("an", {"environment.mw_amplitude": "1 GHz"}),
    ("an", {"environment.t1e": "1 ns", "environment.t2e": "1 ns"}),
    # cross effect (Lindblad, projected rates, kinetic Monte Carlo)
    ("ce", {"model.electron_coupling": "1 Hz"}),
    ("ce", {"model.electron_coupling": "1 GHz"}),
    ("ce", {"model.offsets": [0, "10 GHz"]}),
    ("ce", {"environment.temperature": "0.2 K"}),
    ("ce", {"environment.temperature": "300 K"}),
    ("ce", {"environment.mw_amplitude": 0}),
    ("ce", {"environment.mw_amplitude": "1 GHz"}),
    ("ce", {"environment.t1e": "1 ns", "environment.t2e": "1 ns"}),
    ("ce", {**ZEEMAN, "environment.mw_amplitude": "1 GHz"}),
    ("ce", {**ZEEMAN, "environment.temperature": "0.2 K"}),
    ("ce", {**ZEEMAN, "environment.temperature": DEL, "environment.electron_polarization": 0.0}),
    ("ck", {"environment.mw_amplitude": 0}),
    ("ck", {"environment.mw_amplitude": "1 GHz", "method.times": [0.0, 1e-9]}),
    ("ck", {"environment.electron_polarization": 0.0}),
    ("ck", {"environment.electron_polarization": 0.999999}),
    ("ck", {"model.geometry.nuclear_positions.radius": "1 um", "model.geometry.nuclear_positions.min_distance": 0}),
    ("ck", {"model.geometry.nuclear_positions.radius": "0.1 nm", "model.geometry.nuclear_positions.min_distance": 0}),
    ("ck", {"environment.t1e": "1 ns", "environment.t2e": "1 ns"}),  # a singular rate bound: exit 1
    ("ck", {"environment.t1n": "1 ns", "environment.t2n": "1 ns"}),
]


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _polarizations(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("base, changes", CASES, ids=[f"{b}-{'-'.join(f'{k}={v}' for k, v in c.items() if v is not DEL)}"
                                                      for b, c in CASES])
def test_extreme_specs_give_finite_results_or_a_convergence_error(base, changes, tmp_path, capsys):
    spec = base_spec(base)
    for key, value in changes.items():
        _set(spec, key, value)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "r.json"
    code = main(["run", str(path), "-o", str(out), "-q"])
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line != COMPILE_NOTICE]
    if code == 1:  # a solver did not converge: it says how far it got, and nothing is written
        assert len(err) == 1 and err[0].startswith("dnpsim: computation failed:") and "residual" in err[0], err
        assert not out.exists()
        return
    assert code == 0 and err == [], (code, err)
    result = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    electron = _polarizations(result["electron_polarization"])
    nuclear = [] if result["nuclear_polarization"] is None else _polarizations(result["nuclear_polarization"])
    for p in electron + nuclear:
        assert _finite_number(p) and -1 - 1e-9 <= p <= 1 + 1e-9, result["electron_polarization"]
    if base != "ns":  # the 2021 engine has no nucleus
        assert nuclear
    if result["solution"] == "stationary":
        assert _finite_number(result["residual"]) and result["residual"] >= 0
    else:
        assert result["residual"] is None
    for key in ("nuclear_polarization_t", "electron_polarization_t", "times"):
        if key in result:
            flat = json.dumps(result[key])
            assert "null" not in flat, key
