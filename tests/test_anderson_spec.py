"""Spec kind ``anderson`` (docs/reference/spec.md, docs/engines/anderson.md): run, group reuse, explicit arrays,
bad input."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dnpsim
from dnpsim.api import run_points
from dnpsim.errors import SpecError
from dnpsim.spec import canonical_spec, load_spec, resolve_spec, reuses_model


def run_spec(spec):
    return dnpsim.run(spec).to_dict()

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "anderson_point.toml"


@pytest.fixture
def spec():
    s = canonical_spec(load_spec(EXAMPLE), warn=False)  # the current key names, whatever the example uses
    s["model"]["L"] = 4
    return s


def test_example_runs_and_is_reproducible(spec):
    r = run_spec(spec)
    assert -1 < r["nuclear_polarization"] < 1 and r["nuclear_polarization"] != 0
    assert len(r["electron_polarization"]) == 64
    assert all(-1 <= p <= 1 for p in r["electron_polarization"])
    # the resolved spec has the drawn offsets written out and reruns identically
    again = run_spec(r["spec"])
    assert again["nuclear_polarization"] == r["nuclear_polarization"]
    assert np.shape(r["spec"]["model"]["onsite"]) == (4, 4, 4)


def test_cli_run(tmp_path):
    out = tmp_path / "r.json"
    subprocess.run([sys.executable, "-m", "dnpsim", "run", str(EXAMPLE), "-o", str(out)], check=True,
                   capture_output=True)
    assert "nuclear_polarization" in json.loads(out.read_text())


def test_group_reuses_diagonalization(spec, monkeypatch):
    from dnpsim.experiments import anderson

    calls = []
    original = anderson.ExactAnderson.__init__

    def counting(self, *args, **kwargs):
        calls.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(anderson.ExactAnderson, "__init__", counting)
    variants = [{"environment.mw_frequency": f} for f in (93.85e9, 93.86e9, 93.9e9)] + \
               [{"model.nuclei.larmor": 5e6}]
    grouped = run_points(spec, variants, seed=7)
    assert len(calls) == 1
    for variant, res in zip(variants, grouped):
        s = copy.deepcopy(spec)
        for k, v in variant.items():
            head, last = k.rsplit(".", 1)
            node = s
            for part in head.split("."):
                node = node[part]
            node[last] = v
        s["model"]["seed"] = 7
        assert res.nuclear_polarization == pytest.approx(run_spec(s)["nuclear_polarization"], rel=1e-12)
    assert reuses_model("environment.mw_frequency", spec) and not reuses_model("model.hopping", spec)


def test_explicit_onsite_and_goe(spec):
    rng = np.random.default_rng(0)
    spec["model"]["onsite"] = rng.uniform(-54e6, 54e6, (4, 4, 4)).tolist()
    del spec["model"]["seed"]
    a = run_spec(spec)["nuclear_polarization"]
    spec["method"]["surrogate"] = "goe"
    g = run_spec(spec)["nuclear_polarization"]
    assert a != g


@pytest.mark.parametrize("key,value,field", [
    ("model.L", 0, "model.L"),
    ("model.L", 99, "model.L"),
    ("model.boundary", "twisted", "model.boundary"),
    ("model.hopping", "-3 MHz", "model.hopping"),
    ("model.onsite", {"distribution": "gaussian", "scale": 1.0}, "model.onsite.distribution"),
    ("model.onsite", [[[0.0]]], "model.onsite"),
    ("environment.t2n", -1.0, "environment.t2n"),
    ("model.nuclei.per_electron", 0.5, "model.nuclei.per_electron"),
    ("model.nuclei.spin", 1, "model.nuclei.spin"),
    ("environment.temperature", 0, "environment.temperature"),
    ("environment.t1", 1.0, "environment.t1"),
    ("method.kind", "rate_equation", "method.kind"),
    ("model.hopping", "6 s", "model.hopping"),
])
def test_bad_input_names_the_field(spec, key, value, field):
    parts = key.split(".")
    node = spec
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    with pytest.raises(SpecError) as err:
        resolve_spec(spec)
    assert err.value.field == field


def test_drawn_onsite_needs_seed(spec):
    del spec["model"]["seed"]
    with pytest.raises(SpecError) as err:
        resolve_spec(spec)
    assert err.value.field == "model.seed"
