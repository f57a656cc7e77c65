"""The bad-input catalogue (issue 15): spec mutations across the four model kinds, the
``[sweep]`` table and the command-line options, each run through ``dnpsim run`` /
``dnpsim sweep`` in-process.

Every case asserts the contract of bad input: exit code 2, ONE line on stderr,
``dnpsim: error: <field>: <what is wrong>`` naming the expected field, no numpy repr,
no traceback, and nothing written (no output file, no ``.parts`` directory, no
temporary file).  The engines are replaced by a function that fails the test if it is
reached, so a case whose validation wrongly passes fails at once instead of
computing; cases about memory see a machine with 4 GiB available.

A case is ``Case(id, category, base, changes, field)``: ``base`` names an example spec
(made small), ``changes`` maps dotted keys to new values (``DEL`` removes the key), and
``field`` is what the message must name.  The spec is written as JSON (a spec format
with the same keys; it also carries JSON-only values: null, NaN, Infinity).
"""

from __future__ import annotations

import copy
import json
import os
import tomllib
from collections import Counter, namedtuple
from pathlib import Path

import pytest

from dnpsim.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: a numpy warning would be a second line on stderr: let it fail the case
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
DEL = object()

Case = namedtuple("Case", "id category base changes field")

#: the [sweep] table of base "sw" (keys are dotted spec keys, as quoted in TOML)
SWEEP = {"environment.mw_frequency": [93.86e9, 93.9e9], "realizations": 1, "seed": 1}

#: base name -> (example file, changes that make it small and fast to validate)
BASES = {
    # 2016 spin temperature: rate equation, 4 electrons + nucleus
    "st": ("single_point.toml", {"model.n_electrons": 4}),
    # 2021 open system: nonsecular GKSL, 3 electrons
    "ns": ("nonsecular_point.toml", {"model.n_electrons": 3}),
    # 2018 free fermions: 2 x 2 x 2 Anderson lattice
    "an": ("anderson_point.toml", {"model.L": 2}),
    # cross effect: e1-e2-n, full Lindblad equation
    "ce": ("cross_effect_e1e2n.toml", {}),
    # cross effect: pentagon (3 nuclei with a dipolar matrix), projected rates, build-up
    "cp": ("cross_effect_pentagon.toml", {"method.times": {"start": 0.0, "stop": 1.0, "num": 3}}),
    # cross effect: geometry with drawn positions, kinetic Monte Carlo
    "ck": ("cross_effect_kmc_geometry.toml", {"model.geometry.nuclear_positions.n": 4, "method.trajectories": 2,
                                              "method.times": [0.0, 1e-3]}),
    # a sweep of the 2016 model: 3 electrons, 2 frequencies, 1 realization
    "sw": ("dnp_profile.toml", {"model.n_electrons": 3, "sweep": SWEEP}),
}


def S(**entries):
    """Changes replacing the [sweep] table by SWEEP with ``entries`` (``__`` for ``.``
    in the keyword names; DEL removes)."""
    table = dict(SWEEP)
    for key, value in entries.items():
        key = key.replace("__", ".")
        if value is DEL:
            table.pop(key, None)
        else:
            table[key] = value
    return {"sweep": table}


def _set(spec: dict, key: str, value) -> None:
    node = spec
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if value is DEL:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


def base_spec(name: str) -> dict:
    """The small spec ``name`` of :data:`BASES`, with the current key names whatever
    names its example uses (old names are covered by tests/test_spec_keys.py)."""
    from dnpsim.spec import canonical_spec

    file, changes = BASES[name]
    spec = copy.deepcopy(canonical_spec(tomllib.loads((EXAMPLES / file).read_text()), warn=False))
    for key, value in changes.items():
        _set(spec, key, copy.deepcopy(value))
    return spec


def C(id, category, base, changes, field):
    return Case(f"{base}-{id}", category, base, changes, field)


NAN, INF = float("nan"), float("inf")

# ------------------------------------------------------------ 2016 spin temperature
ST = [
    # missing required keys
    C("no-model", "missing", "st", {"model": DEL}, "model"),
    C("no-environment", "missing", "st", {"environment": DEL}, "environment"),
    C("no-kind", "missing", "st", {"model.kind": DEL}, "model.kind"),
    C("no-larmor", "missing", "st", {"model.electron_larmor": DEL}, "model.electron_larmor"),
    C("no-offsets", "missing", "st", {"model.offsets": DEL}, "model.offsets"),
    C("no-couplings", "missing", "st", {"model.couplings": DEL}, "model.couplings"),
    C("no-n", "missing", "st", {"model.n_electrons": DEL}, "model.n_electrons"),
    C("no-seed", "missing", "st", {"model.seed": DEL}, "model.seed"),
    C("no-half-width", "missing", "st", {"model.offsets.half_width": DEL}, "model.offsets.half_width"),
    C("no-scale", "missing", "st", {"model.couplings.scale": DEL}, "model.couplings.scale"),
    C("no-distribution", "missing", "st", {"model.couplings.distribution": DEL}, "model.couplings.distribution"),
    C("no-nuclear-larmor", "missing", "st", {"model.nuclei.larmor": DEL}, "model.nuclei.larmor"),
    C("no-hyperfine", "missing", "st", {"model.nuclei.hyperfine": DEL}, "model.nuclei.hyperfine"),
    C("no-temperature", "missing", "st", {"environment.temperature": DEL}, "environment.temperature"),
    C("no-mw-frequency", "missing", "st", {"environment.mw_frequency": DEL}, "environment.mw_frequency"),
    C("no-mw-amplitude", "missing", "st", {"environment.mw_amplitude": DEL}, "environment.mw_amplitude"),
    # wrong types
    C("larmor-list", "type", "st", {"model.electron_larmor": [93.9e9]}, "model.electron_larmor"),
    C("temperature-table", "type", "st", {"environment.temperature": {"value": 1.2}}, "environment.temperature"),
    C("temperature-null", "type", "st", {"environment.temperature": None}, "environment.temperature"),
    C("temperature-bool", "type", "st", {"environment.temperature": True}, "environment.temperature"),
    C("n-string", "type", "st", {"model.n_electrons": "4"}, "model.n_electrons"),
    C("n-float", "type", "st", {"model.n_electrons": 4.0}, "model.n_electrons"),
    C("n-bool", "type", "st", {"model.n_electrons": True}, "model.n_electrons"),
    C("seed-float", "type", "st", {"model.seed": 1.5}, "model.seed"),
    C("seed-bool", "type", "st", {"model.seed": False}, "model.seed"),
    C("offsets-string", "type", "st", {"model.offsets": "equally_spaced"}, "model.offsets"),
    C("couplings-number", "type", "st", {"model.couplings": 15e6}, "model.couplings"),
    C("nucleus-number", "type", "st", {"model.nuclei": 20e6}, "model.nuclei"),
    C("environment-list", "type", "st", {"environment": [1.2]}, "environment"),
    C("model-string", "type", "st", {"model": "dipolar_electrons"}, "model"),
    C("method-string", "type", "st", {"method": "rate_equation"}, "method"),
    C("scale-list", "type", "st", {"model.couplings.scale": [15e6]}, "model.couplings.scale"),
    C("mw-frequency-table", "type", "st", {"environment.mw_frequency": {"start": 1, "stop": 2, "num": 3}},
      "environment.mw_frequency"),
    C("spin-temperature-string", "type", "st", {"method.spin_temperature": "yes"}, "method.spin_temperature"),
    C("tol-string", "type", "st", {"method.tol": "small"}, "method.tol"),
    C("offsets-list-length", "type", "st", {"model.offsets": [0.0, 1e6]}, "model.offsets"),
    C("couplings-matrix-shape", "type", "st", {"model.couplings": [[0.0, 1e6], [1e6, 0.0]]}, "model.couplings"),
    C("hyperfine-list-length", "type", "st", {"model.nuclei.hyperfine": [1e6]}, "model.nuclei.hyperfine"),
    # out-of-range values
    C("temperature-negative", "range", "st", {"environment.temperature": -1.2}, "environment.temperature"),
    C("temperature-zero", "range", "st", {"environment.temperature": 0}, "environment.temperature"),
    C("temperature-nan-string", "range", "st", {"environment.temperature": "nan"}, "environment.temperature"),
    C("temperature-inf-string", "range", "st", {"environment.temperature": "inf"}, "environment.temperature"),
    C("temperature-nan", "range", "st", {"environment.temperature": NAN}, "environment.temperature"),
    C("temperature-inf", "range", "st", {"environment.temperature": INF}, "environment.temperature"),
    C("temperature-overflow", "range", "st", {"environment.temperature": "1e999 K"}, "environment.temperature"),
    C("larmor-zero", "range", "st", {"model.electron_larmor": 0}, "model.electron_larmor"),
    C("larmor-negative", "range", "st", {"model.electron_larmor": "-93.9 GHz"}, "model.electron_larmor"),
    C("mw-frequency-zero", "range", "st", {"environment.mw_frequency": 0.0}, "environment.mw_frequency"),
    C("mw-amplitude-negative", "range", "st", {"environment.mw_amplitude": "-25 kHz"}, "environment.mw_amplitude"),
    C("t1e-zero", "range", "st", {"environment.t1e": 0}, "environment.t1e"),
    C("t2e-negative", "range", "st", {"environment.t2e": "-1 us"}, "environment.t2e"),
    C("n-zero", "range", "st", {"model.n_electrons": 0}, "model.n_electrons"),
    C("seed-negative", "range", "st", {"model.seed": -1}, "model.seed"),
    C("scale-negative", "range", "st", {"model.couplings.scale": -15e6}, "model.couplings.scale"),
    C("hyperfine-scale-nan", "range", "st", {"model.nuclei.hyperfine.scale": NAN}, "model.nuclei.hyperfine.scale"),
    C("width-negative", "range", "st", {"model.offsets": {"distribution": "uniform", "width": -1e6}},
      "model.offsets.width"),
    C("offset-inf", "range", "st", {"model.offsets": [0.0, 1e6, INF, 2e6]}, "model.offsets[2]"),
    C("temperature-huge-integer", "range", "st", {"environment.temperature": 10**400}, "environment.temperature"),
    C("temperature-denormal", "range", "st", {"environment.temperature": 1e-320}, "environment.temperature"),
    C("t1e-denormal", "range", "st", {"environment.t1e": 5e-324}, "environment.t1e"),
    C("larmor-huge", "range", "st", {"model.electron_larmor": 1e308}, "model.electron_larmor"),
    # wrong units
    C("temperature-tesla", "units", "st", {"environment.temperature": "3 T"}, "environment.temperature"),
    C("mw-frequency-kelvin", "units", "st", {"environment.mw_frequency": "5 K"}, "environment.mw_frequency"),
    C("larmor-tesla", "units", "st", {"model.electron_larmor": "3 T"}, "model.electron_larmor"),
    C("t1e-kelvin", "units", "st", {"environment.t1e": "5 K"}, "environment.t1e"),
    C("t2e-hertz", "units", "st", {"environment.t2e": "1 MHz"}, "environment.t2e"),
    C("half-width-seconds", "units", "st", {"model.offsets.half_width": "54 us"}, "model.offsets.half_width"),
    C("scale-metres", "units", "st", {"model.couplings.scale": "15 m"}, "model.couplings.scale"),
    C("nuclear-larmor-tesla", "units", "st", {"model.nuclei.larmor": "0.47 T"}, "model.nuclei.larmor"),
    C("amplitude-garbage", "units", "st", {"environment.mw_amplitude": "25 kHz please"}, "environment.mw_amplitude"),
    # unknown keys (typos) in each section
    C("typo-section", "unknown", "st", {"enviroment": {"temperature": 1.2}}, "enviroment"),
    C("typo-model", "unknown", "st", {"model.electron_lamor": 93.9e9}, "model.electron_lamor"),
    C("typo-nucleus", "unknown", "st", {"model.nuclei.larmour": 20e6}, "model.nuclei.larmour"),
    C("typo-offsets", "unknown", "st", {"model.offsets.halfwidth": 54e6}, "model.offsets.halfwidth"),
    C("typo-couplings", "unknown", "st", {"model.couplings.sigma": 1e6}, "model.couplings.sigma"),
    C("typo-environment", "unknown", "st", {"environment.temprature": 1.2}, "environment.temprature"),
    C("typo-method", "unknown", "st", {"method.tolerance": 1e-8}, "method.tolerance"),
    C("unknown-distribution", "unknown", "st", {"model.couplings.distribution": "cauchy"},
      "model.couplings.distribution"),
    # method kinds and options
    C("method-kind-unknown", "method", "st", {"method.kind": "exact"}, "method.kind"),
    C("method-kind-other-model", "method", "st", {"method.kind": "free_fermion"}, "method.kind"),
    C("method-kind-cross-effect", "method", "st", {"method.kind": "kmc"}, "method.kind"),
    C("solver-unknown", "method", "st", {"method.solver": "lu"}, "method.solver"),
    C("tol-zero", "method", "st", {"method.tol": 0}, "method.tol"),
    C("tol-one", "method", "st", {"method.tol": 1.0}, "method.tol"),
    C("tol-nan", "method", "st", {"method.tol": NAN}, "method.tol"),
    C("option-of-other-kind", "method", "st", {"method.maxiter": 10}, "method.maxiter"),
    # sizes
    C("n-17", "size", "st", {"model.n_electrons": 17}, "model.n_electrons"),
    C("n-million", "size", "st", {"model.n_electrons": 10**6}, "model.n_electrons"),
    C("n-int64", "size", "st", {"model.n_electrons": 2**63 - 1}, "model.n_electrons"),
    C("n-memory", "size", "st", {"model.n_electrons": 14}, "model.n_electrons"),
    # inconsistent values
    C("t2-over-2t1", "consistency", "st", {"environment.t1e": "1 us", "environment.t2e": "3 us"}, "environment.t2e"),
    C("2021-time", "consistency", "st", {"environment.t1": 1e-6}, "environment.t1"),
    C("2021-irradiated", "consistency", "st", {"environment.irradiated": 0}, "environment.irradiated"),
    C("couplings-asymmetric", "consistency", "st",
      {"model.couplings": [[0.0, 1e6, 0, 0], [2e6, 0.0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]}, "model.couplings[0][1]"),
    C("couplings-diagonal", "consistency", "st",
      {"model.couplings": [[3e6, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]}, "model.couplings[0][0]"),
    C("hyperfine-all-zero", "consistency", "st", {"model.nuclei.hyperfine": [0.0, 0.0, 0.0, 0.0]},
      "model.nuclei.hyperfine"),
    C("ising-string", "consistency", "st", {"model.ising": "ising"}, "model.ising"),
    # the static field, nuclear species and microwave field (issue 17)
    C("field-hertz", "units", "st", {"model.field": "3 Hz"}, "model.field"),
    C("field-negative", "range", "st", {"model.field": "-3.35 T"}, "model.field"),
    C("species-unknown", "unknown", "st", {"model.nuclei.species": "1X", "model.field": "3.35 T",
                                           "model.nuclei.larmor": DEL}, "model.nuclei.species"),
    C("species-without-field", "missing", "st", {"model.nuclei.species": "13C", "model.nuclei.larmor": DEL},
      "model.field"),
    C("species-larmor-inconsistent", "consistency", "st", {"model.nuclei.species": "13C", "model.field": "3.35 T"},
      "model.nuclei.larmor"),
    C("mw-field-and-amplitude", "consistency", "st", {"environment.mw_field": "1 uT"}, "environment.mw_field"),
    C("mw-field-hertz", "units", "st", {"environment.mw_field": "25 kHz", "environment.mw_amplitude": DEL},
      "environment.mw_field"),
    C("mw-field-both-an", "consistency", "an", {"environment.mw_field": "1 uT"}, "environment.mw_field"),
    C("field-hertz-an", "units", "an", {"model.field": "3 Hz"}, "model.field"),
]

# ------------------------------------------------------------------ 2021 open system
NS = [
    C("no-t1", "missing", "ns", {"environment.t1": DEL}, "environment.t1"),
    C("no-t-star", "missing", "ns", {"environment.t_star": DEL}, "environment.t_star"),
    C("no-t-zero", "missing", "ns", {"environment.t_zero": DEL}, "environment.t_zero"),
    C("no-couplings-scale", "missing", "ns", {"model.couplings.scale": DEL}, "model.couplings.scale"),
    C("irradiated-string", "type", "ns", {"environment.irradiated": "0"}, "environment.irradiated"),
    C("irradiated-float", "type", "ns", {"environment.irradiated": 1.0}, "environment.irradiated"),
    C("maxiter-float", "type", "ns", {"method.maxiter": 100.0}, "method.maxiter"),
    C("t1-zero", "range", "ns", {"environment.t1": 0.0}, "environment.t1"),
    C("t-star-negative", "range", "ns", {"environment.t_star": -1e-7}, "environment.t_star"),
    C("t-zero-nan", "range", "ns", {"environment.t_zero": "nan"}, "environment.t_zero"),
    C("irradiated-negative", "range", "ns", {"environment.irradiated": -1}, "environment.irradiated"),
    C("irradiated-too-big", "range", "ns", {"environment.irradiated": 3}, "environment.irradiated"),
    C("t-zero-hertz", "units", "ns", {"environment.t_zero": "1 GHz"}, "environment.t_zero"),
    C("t1-kelvin", "units", "ns", {"environment.t1": "5 K"}, "environment.t1"),
    C("typo-environment", "unknown", "ns", {"environment.t_start": 1e-7}, "environment.t_start"),
    C("2016-time", "unknown", "ns", {"environment.t1e": 1.0}, "environment.t1e"),
    C("typo-method", "unknown", "ns", {"method.restart_length": 20}, "method.restart_length"),
    C("solver-unknown", "method", "ns", {"method.solver": "lu"}, "method.solver"),
    C("restart-one", "method", "ns", {"method.restart": 1}, "method.restart"),
    C("maxiter-zero", "method", "ns", {"method.maxiter": 0}, "method.maxiter"),
    C("hilbert-maxiter", "method", "ns", {"method.kind": "hilbert", "method.solver": DEL, "method.maxiter": 10},
      "method.maxiter"),
    C("dense-too-big", "method", "ns", {"method.solver": "dense", "model.n_electrons": 6}, "method.solver"),
    C("n-13", "size", "ns", {"model.n_electrons": 13}, "model.n_electrons"),
    C("n-memory", "size", "ns", {"model.n_electrons": 12}, "model.n_electrons"),
    C("nucleus", "consistency", "ns", {"model.nuclei": {"larmor": 20e6, "hyperfine": [1e6, 1e6, 1e6]}},
      "model.nuclei"),
    C("ising-typo", "consistency", "ns", {"model.ising": "dipolr"}, "model.ising"),
    C("ising-shape", "consistency", "ns", {"model.ising": [[0.0, 1.0], [1.0, 0.0]]}, "model.ising"),
    C("2016-environment", "consistency", "ns",
      {"environment": {"temperature": 1.2, "mw_frequency": 93.88e9, "mw_amplitude": 25e3, "t1e": 1.0,
                       "t2e": 1e-6}}, "method.kind"),
]

# ------------------------------------------------------------- 2018 free fermions
AN = [
    C("no-L", "missing", "an", {"model.L": DEL}, "model.L"),
    C("no-hopping", "missing", "an", {"model.hopping": DEL}, "model.hopping"),
    C("no-onsite", "missing", "an", {"model.onsite": DEL}, "model.onsite"),
    C("no-larmor", "missing", "an", {"model.electron_larmor": DEL}, "model.electron_larmor"),
    C("no-nuclei", "missing", "an", {"model.nuclei": DEL}, "model.nuclei"),
    C("no-nuclear-larmor", "missing", "an", {"model.nuclei.larmor": DEL}, "model.nuclei.larmor"),
    C("no-hyperfine", "missing", "an", {"model.nuclei.hyperfine": DEL}, "model.nuclei.hyperfine"),
    C("no-per-electron", "missing", "an", {"model.nuclei.per_electron": DEL}, "model.nuclei.per_electron"),
    C("no-width", "missing", "an", {"model.onsite.width": DEL}, "model.onsite.width"),
    C("no-seed", "missing", "an", {"model.seed": DEL}, "model.seed"),
    C("no-mw-amplitude", "missing", "an", {"environment.mw_amplitude": DEL}, "environment.mw_amplitude"),
    C("L-float", "type", "an", {"model.L": 2.0}, "model.L"),
    C("L-string", "type", "an", {"model.L": "2"}, "model.L"),
    C("L-bool", "type", "an", {"model.L": True}, "model.L"),
    C("boundary-number", "type", "an", {"model.boundary": 1}, "model.boundary"),
    C("hopping-list", "type", "an", {"model.hopping": [6.6e6]}, "model.hopping"),
    C("per-electron-string", "type", "an", {"model.nuclei.per_electron": "many"}, "model.nuclei.per_electron"),
    C("onsite-string", "type", "an", {"model.onsite": "uniform"}, "model.onsite"),
    C("nuclei-list", "type", "an", {"model.nuclei": [20e6]}, "model.nuclei"),
    C("onsite-shape", "type", "an", {"model.onsite": [[[0.0, 0.0], [0.0, 0.0]]]}, "model.onsite"),
    C("onsite-row", "type", "an", {"model.onsite": [[[0.0, 0.0], [0.0]], [[0.0, 0.0], [0.0, 0.0]]]},
      "model.onsite[0][1]"),
    C("L-zero", "range", "an", {"model.L": 0}, "model.L"),
    C("hopping-negative", "range", "an", {"model.hopping": -6.6e6}, "model.hopping"),
    C("hopping-inf", "range", "an", {"model.hopping": INF}, "model.hopping"),
    C("hyperfine-zero", "range", "an", {"model.nuclei.hyperfine": 0}, "model.nuclei.hyperfine"),
    C("per-electron-half", "range", "an", {"model.nuclei.per_electron": 0.5}, "model.nuclei.per_electron"),
    C("t1n-zero", "range", "an", {"environment.t1n": 0}, "environment.t1n"),
    C("t2n-negative", "range", "an", {"environment.t2n": -1e-5}, "environment.t2n"),
    C("width-negative", "range", "an", {"model.onsite.width": -1.0}, "model.onsite.width"),
    C("temperature-inf-string", "range", "an", {"environment.temperature": "inf"}, "environment.temperature"),
    C("nuclear-larmor-nan", "range", "an", {"model.nuclei.larmor": NAN}, "model.nuclei.larmor"),
    C("hopping-kelvin", "units", "an", {"model.hopping": "1 K"}, "model.hopping"),
    C("t1n-hertz", "units", "an", {"environment.t1n": "1 Hz"}, "environment.t1n"),
    C("nuclear-larmor-tesla", "units", "an", {"model.nuclei.larmor": "3 T"}, "model.nuclei.larmor"),
    C("width-seconds", "units", "an", {"model.onsite.width": "5 s"}, "model.onsite.width"),
    C("per-electron-hertz", "units", "an", {"model.nuclei.per_electron": "1000 Hz"}, "model.nuclei.per_electron"),
    C("typo-model", "unknown", "an", {"model.size": 2}, "model.size"),
    C("typo-nuclei", "unknown", "an", {"model.nuclei.t1": 1e4}, "model.nuclei.t1"),
    C("typo-environment", "unknown", "an", {"environment.t1": 1.0}, "environment.t1"),
    C("typo-onsite", "unknown", "an", {"model.onsite.sigma": 1.0}, "model.onsite.sigma"),
    C("onsite-distribution", "unknown", "an", {"model.onsite.distribution": "gaussian"},
      "model.onsite.distribution"),
    C("method-kind-unknown", "method", "an", {"method.kind": "kpm"}, "method.kind"),
    C("method-kind-other-model", "method", "an", {"method.kind": "rate_equation"}, "method.kind"),
    C("formula-unknown", "method", "an", {"method.formula": "eq21"}, "method.formula"),
    C("surrogate-unknown", "method", "an", {"method.surrogate": "gue"}, "method.surrogate"),
    C("option-of-other-kind", "method", "an", {"method.solver": "dense"}, "method.solver"),
    C("L-25", "size", "an", {"model.L": 25}, "model.L"),
    C("L-huge", "size", "an", {"model.L": 10**9}, "model.L"),
    C("L-memory", "size", "an", {"model.L": 24}, "model.L"),
    C("boundary-closed", "consistency", "an", {"model.boundary": "closed"}, "model.boundary"),
    C("t2-over-2t1", "consistency", "an", {"environment.t1e": 1e-6, "environment.t2e": 1e-5}, "environment.t2e"),
    C("t2n-over-2t1n", "consistency", "an", {"environment.t1n": 1e-6, "environment.t2n": 1e-5}, "environment.t2n"),
]

# --------------------------------------------------------------------- cross effect
CE = [
    C("no-offsets", "missing", "ce", {"model.offsets": DEL}, "model.offsets"),
    C("no-nuclei", "missing", "ce", {"model.nuclei": DEL}, "model.nuclei"),
    C("no-nuclear-larmor", "missing", "ce", {"model.nuclei.larmor": DEL}, "model.nuclei.larmor"),
    C("no-electron-coupling", "missing", "ce", {"model.electron_coupling": DEL}, "model.electron_coupling"),
    C("no-mw-amplitude", "missing", "ce", {"environment.mw_amplitude": DEL}, "environment.mw_amplitude"),
    C("no-t1e", "missing", "ce", {"environment.t1e": DEL}, "environment.t1e"),
    C("no-t2n", "missing", "ce", {"environment.t2n": DEL}, "environment.t2n"),
    C("no-electron-larmor", "missing", "ce", {"model.electron_larmor": DEL}, "model.electron_larmor"),
    C("no-temperature", "missing", "ce", {"environment.temperature": DEL}, "environment.temperature"),
    C("no-method", "missing", "ce", {"method": DEL}, "method"),
    C("no-method-kind", "missing", "ce", {"method.kind": DEL}, "method.kind"),
    C("no-n", "missing", "ce", {"model.nuclei": {"larmor": 145e6}}, "model.nuclei.n"),
    C("no-electron-positions", "missing", "ck", {"model.geometry.electron_positions": DEL},
      "model.geometry.electron_positions"),
    C("no-nuclear-positions", "missing", "ck", {"model.geometry.nuclear_positions": DEL},
      "model.geometry.nuclear_positions"),
    C("no-radius", "missing", "ck", {"model.geometry.nuclear_positions.radius": DEL},
      "model.geometry.nuclear_positions.radius"),
    C("no-seed", "missing", "ck", {"model.seed": DEL}, "model.seed"),
    C("no-times", "missing", "ck", {"method.times": DEL}, "method.times"),
    C("offsets-number", "type", "ce", {"model.offsets": 145e6}, "model.offsets"),
    C("offsets-one", "type", "ce", {"model.offsets": [0.0]}, "model.offsets"),
    C("offsets-table", "type", "ce", {"model.offsets": {"a": 0}}, "model.offsets"),
    C("electron-coupling-bool", "type", "ce", {"model.electron_coupling": True}, "model.electron_coupling"),
    C("hyperfine-number", "type", "ce", {"model.nuclei.hyperfine_secular": 0.0}, "model.nuclei.hyperfine_secular"),
    C("hyperfine-rows", "type", "ce", {"model.nuclei.hyperfine_pseudo_secular": [[0.0], [1e5], [0.0]]},
      "model.nuclei.hyperfine_pseudo_secular"),
    C("n-float", "type", "ce", {"model.nuclei.n": 1.0}, "model.nuclei.n"),
    C("polarization-string", "type", "cp", {"environment.electron_polarization": "high"},
      "environment.electron_polarization"),
    C("dipolar-flag-string", "type", "ck", {"model.geometry.nuclear_dipolar": "yes"},
      "model.geometry.nuclear_dipolar"),
    C("field-direction-short", "type", "ck", {"model.geometry.field_direction": [0.0, 1.0]},
      "model.geometry.field_direction"),
    C("positions-flat", "type", "ck", {"model.geometry.electron_positions": [0.0, 0.0, 0.0]},
      "model.geometry.electron_positions"),
    C("trajectories-float", "type", "ck", {"method.trajectories": 2.5}, "method.trajectories"),
    C("kmc-seed-string", "type", "ck", {"method.seed": "1"}, "method.seed"),
    C("times-string", "type", "ck", {"method.times": "0 s"}, "method.times"),
    C("polarization-one", "range", "cp", {"environment.electron_polarization": 1.0},
      "environment.electron_polarization"),
    C("polarization-negative", "range", "cp", {"environment.electron_polarization": -0.1},
      "environment.electron_polarization"),
    C("mw-amplitude-negative", "range", "ce", {"environment.mw_amplitude": -1.0}, "environment.mw_amplitude"),
    C("t1e-zero", "range", "ce", {"environment.t1e": 0}, "environment.t1e"),
    C("t2n-nan", "range", "ce", {"environment.t2n": NAN}, "environment.t2n"),
    C("nuclear-larmor-zero", "range", "ce", {"model.nuclei.larmor": 0}, "model.nuclei.larmor"),
    C("electron-coupling-inf", "range", "ce", {"model.electron_coupling": "inf"}, "model.electron_coupling"),
    C("offset-nan", "range", "ce", {"model.offsets": [0.0, NAN]}, "model.offsets[1]"),
    C("electron-coupling-huge", "range", "ce", {"model.electron_coupling": 1e308}, "model.electron_coupling"),
    C("mw-amplitude-huge", "range", "ce", {"environment.mw_amplitude": "1e308 Hz"}, "environment.mw_amplitude"),
    C("t2e-denormal", "range", "ce", {"environment.t2e": 1e-315}, "environment.t2e"),
    C("hyperfine-huge", "range", "ce", {"model.nuclei.hyperfine_pseudo_secular": [[0.0], [1e308]]},
      "model.nuclei.hyperfine_pseudo_secular[1][0]"),
    C("hyperfine-huge-integer", "range", "ce", {"model.nuclei.hyperfine_pseudo_secular": [[0], [10**400]]},
      "model.nuclei.hyperfine_pseudo_secular[1][0]"),
    C("positions-too-close", "range", "ck",
      {"model.geometry.nuclear_positions": [[0.0, 1e-9, 0.0], [0.0, 1e-9, 1e-110]]}, "model.geometry.nuclear_positions"),
    C("positions-nan", "range", "ck", {"model.geometry.nuclear_positions": [[0.0, NAN, 0.0]]},
      "model.geometry.nuclear_positions[0][1]"),
    C("n-negative", "range", "ce", {"model.nuclei.n": -1}, "model.nuclei.n"),
    C("radius-zero", "range", "ck", {"model.geometry.nuclear_positions.radius": 0.0},
      "model.geometry.nuclear_positions.radius"),
    C("min-distance-negative", "range", "ck", {"model.geometry.nuclear_positions.min_distance": -1e-9},
      "model.geometry.nuclear_positions.min_distance"),
    C("positions-n-zero", "range", "ck", {"model.geometry.nuclear_positions.n": 0},
      "model.geometry.nuclear_positions.n"),
    C("trajectories-one", "range", "ck", {"method.trajectories": 1}, "method.trajectories"),
    C("kmc-seed-negative", "range", "ck", {"method.seed": -1}, "method.seed"),
    C("times-decreasing", "range", "ck", {"method.times": [1.0, 0.0]}, "method.times"),
    C("times-negative", "range", "ck", {"method.times": [-1.0, 0.0]}, "method.times"),
    C("times-grid-num-one", "range", "cp", {"method.times": {"start": 0, "stop": 1, "num": 1}}, "method.times.num"),
    C("min-pair-negative", "range", "ck", {"method.min_pair_coupling": -1.0}, "method.min_pair_coupling"),
    C("field-direction-zero", "range", "ck", {"model.geometry.field_direction": [0.0, 0.0, 0.0]},
      "model.geometry.field_direction"),
    C("gamma-inf", "range", "ck", {"model.geometry.gamma_nuclear": INF}, "model.geometry.gamma_nuclear"),
    C("electron-coupling-tesla", "units", "ce", {"model.electron_coupling": "3 T"}, "model.electron_coupling"),
    C("t1n-kelvin", "units", "ce", {"environment.t1n": "5 K"}, "environment.t1n"),
    C("nuclear-larmor-seconds", "units", "ce", {"model.nuclei.larmor": "1 s"}, "model.nuclei.larmor"),
    C("temperature-hertz", "units", "ce", {"environment.temperature": "1 GHz"}, "environment.temperature"),
    C("times-kelvin", "units", "ck", {"method.times": ["0 K", "1 K"]}, "method.times[0]"),
    C("min-pair-seconds", "units", "ck", {"method.min_pair_coupling": "5 s"}, "method.min_pair_coupling"),
    C("radius-kelvin", "units", "ck", {"model.geometry.nuclear_positions.radius": "5 K"},
      "model.geometry.nuclear_positions.radius"),
    C("position-hertz", "units", "ck", {"model.geometry.electron_positions": [[0, 0, 0], ["1 GHz", 0, 0]]},
      "model.geometry.electron_positions[1][0]"),
    C("typo-model", "unknown", "ce", {"model.coupling": 1e5}, "model.coupling"),
    C("typo-nuclei", "unknown", "ce", {"model.nuclei.hyperfine": [[0.0], [1e5]]}, "model.nuclei.hyperfine"),
    C("typo-environment", "unknown", "ce", {"environment.p": 0.9}, "environment.p"),
    C("typo-geometry", "unknown", "ck", {"model.geometry.positions": [[0, 0, 0]]}, "model.geometry.positions"),
    C("typo-positions", "unknown", "ck", {"model.geometry.nuclear_positions.num": 4},
      "model.geometry.nuclear_positions.num"),
    C("typo-method", "unknown", "ck", {"method.trajectory": 10}, "method.trajectory"),
    C("positions-distribution", "unknown", "ck", {"model.geometry.nuclear_positions.distribution": "lattice"},
      "model.geometry.nuclear_positions.distribution"),
    C("method-kind-unknown", "method", "ce", {"method.kind": "kmcc"}, "method.kind"),
    C("method-kind-other-model", "method", "ce", {"method.kind": "rate_equation"}, "method.kind"),
    C("rates-unknown", "method", "cp", {"method.rates": "fast"}, "method.rates"),
    C("tol-zero", "method", "ce", {"method.tol": 0.0}, "method.tol"),
    C("lindblad-trajectories", "method", "ce", {"method.trajectories": 10}, "method.trajectories"),
    C("kmc-tol", "method", "ck", {"method.tol": 1e-9}, "method.tol"),
    C("threads-zero", "method", "ck", {"method.threads": 0}, "method.threads"),
    C("lindblad-5-nuclei", "size", "ce", {"model.nuclei": {"larmor": 145e6, "n": 5}}, "model.nuclei.n"),
    C("zeeman-11-nuclei", "size", "cp", {"model.nuclei": {"larmor": 145e6, "n": 11}}, "model.nuclei.n"),
    C("lindblad-geometry", "size", "ck", {"method": {"kind": "lindblad"}, "model.geometry.nuclear_positions.n": 5},
      "model.geometry.nuclear_positions.n"),
    C("kmc-20001-drawn", "size", "ck", {"model.geometry.nuclear_positions.n": 20001},
      "model.geometry.nuclear_positions.n"),
    C("kmc-20001", "size", "ck", {"model.geometry": DEL, "model.electron_coupling": 1e5,
                                  "model.nuclei": {"larmor": 145e6, "n": 20001}}, "model.nuclei.n"),
    C("kmc-memory-drawn", "size", "ck", {"model.geometry.nuclear_positions": {
        "distribution": "random_sphere", "n": 19000, "radius": 40e-9, "min_distance": 0.1e-9}},
      "model.geometry.nuclear_positions.n"),
    C("kmc-memory", "size", "ck", {"model.geometry": DEL, "model.electron_coupling": 1e5,
                                   "model.nuclei": {"larmor": 145e6, "n": 19000}}, "model.nuclei.n"),
    C("kmc-trajectories", "size", "ck", {"method.trajectories": 10**12}, "method.trajectories"),
    C("kmc-times", "size", "ck", {"method.times": {"start": 0.0, "stop": 1.0, "num": 10**9}}, "method.times.num"),
    C("zeeman-times", "size", "cp", {"method.times": {"start": 0.0, "stop": 1.0, "num": 10**10}}, "method.times.num"),
    C("kmc-times-memory", "size", "ck", {"model.geometry.nuclear_positions": {
        "distribution": "random_sphere", "n": 1000, "radius": 40e-9, "min_distance": 0.1e-9},
        "method.times": {"start": 0.0, "stop": 1.0, "num": 10**5}}, "method.times"),
    C("t2e-over-2t1e", "consistency", "ce", {"environment.t1e": 1e-6, "environment.t2e": 1e-5}, "environment.t2e"),
    C("t2n-over-2t1n", "consistency", "ck", {"environment.t1n": 1e-9}, "environment.t2n"),
    C("polarization-and-temperature", "consistency", "ce", {"environment.electron_polarization": 0.9},
      "environment.temperature"),
    C("geometry-and-coupling", "consistency", "ck", {"model.electron_coupling": 1e5}, "model.electron_coupling"),
    C("geometry-and-dipolar", "consistency", "ck", {"model.nuclei.dipolar": [[0.0]]}, "model.nuclei.dipolar"),
    C("dipolar-asymmetric", "consistency", "cp",
      {"model.nuclei.dipolar": [[0.0, 0.0, 10.0], [0.0, 0.0, 10.0], [11.0, 10.0, 0.0]]},
      "model.nuclei.dipolar[0][2]"),
    C("dipolar-diagonal", "consistency", "cp",
      {"model.nuclei.dipolar": [[5.0, 0.0, 10.0], [0.0, 0.0, 10.0], [10.0, 10.0, 0.0]]},
      "model.nuclei.dipolar[0][0]"),
    C("n-vs-arrays", "consistency", "cp", {"model.nuclei.n": 2}, "model.nuclei.hyperfine_pseudo_secular"),
    C("electrons-coincide", "consistency", "ck",
      {"model.geometry.electron_positions": [[1e-9, 0.0, 0.0], [1e-9, 0.0, 0.0]]},
      "model.geometry.electron_positions"),
    C("nucleus-on-electron", "consistency", "ck",
      {"model.geometry.nuclear_positions": [[3.2e-9, 0.0, 0.0], [0.0, 1e-9, 0.0]]},
      "model.geometry.nuclear_positions"),
    C("nuclei-coincide", "consistency", "ck",
      {"model.geometry.nuclear_positions": [[0.0, 1e-9, 0.0], [0.0, 1e-9, 0.0]]},
      "model.geometry.nuclear_positions"),
    C("packing-impossible", "consistency", "ck", {"model.geometry.nuclear_positions": {
        "distribution": "random_sphere", "n": 1000, "radius": 1e-9, "min_distance": 0.5e-9}},
      "model.geometry.nuclear_positions"),
    C("n-vs-geometry", "consistency", "ck", {"model.nuclei.n": 7}, "model.nuclei.n"),
    C("kmc-without-nuclei", "consistency", "ck", {"model.geometry": DEL, "model.electron_coupling": 1e5,
                                                  "model.nuclei": {"larmor": 145e6, "n": 0}}, "model.nuclei.n"),
    C("too-cold", "consistency", "ce", {"environment.temperature": 0.05}, "environment.temperature"),
]

# ------------------------------------------------------------------------- [sweep]
SW = [
    C("not-a-table", "sweep", "sw", {"sweep": 5}, "sweep"),
    C("realizations-zero", "sweep", "sw", S(realizations=0), "sweep.realizations"),
    C("realizations-negative", "sweep", "sw", S(realizations=-3), "sweep.realizations"),
    C("realizations-float", "sweep", "sw", S(realizations=2.0), "sweep.realizations"),
    C("realizations-bool", "sweep", "sw", S(realizations=True), "sweep.realizations"),
    C("seed-negative", "sweep", "sw", S(seed=-1), "sweep.seed"),
    C("seed-string", "sweep", "sw", S(seed="1"), "sweep.seed"),
    C("empty-list", "sweep", "sw", S(environment__mw_frequency=[]), "sweep.environment.mw_frequency"),
    C("grid-no-num", "sweep", "sw", S(environment__mw_frequency={"start": 93.8e9, "stop": 94e9}),
      "sweep.environment.mw_frequency"),
    C("grid-num-zero", "sweep", "sw", S(environment__mw_frequency={"start": 93.8e9, "stop": 94e9, "num": 0}),
      "sweep.environment.mw_frequency"),
    C("grid-num-float", "sweep", "sw", S(environment__mw_frequency={"start": 93.8e9, "stop": 94e9, "num": 2.5}),
      "sweep.environment.mw_frequency"),
    C("grid-extra-key", "sweep", "sw",
      S(environment__mw_frequency={"start": 93.8e9, "stop": 94e9, "num": 3, "step": 1}),
      "sweep.environment.mw_frequency"),
    C("grid-start-nan", "sweep", "sw", S(environment__mw_frequency={"start": "nan", "stop": 94e9, "num": 3}),
      "sweep.environment.mw_frequency"),
    C("duplicate-values", "sweep", "sw", S(environment__mw_frequency=[93.9e9, 93.9e9]),
      "sweep.environment.mw_frequency"),
    C("scalar-value", "sweep", "sw", S(environment__mw_frequency=93.9e9), "sweep.environment.mw_frequency"),
    C("bad-section", "sweep", "sw", S(environment__mw_frequency=DEL, environmnt__mw_frequency=[93.9e9]),
      "sweep.environmnt.mw_frequency"),
    C("bare-key", "sweep", "sw", S(mw_frequency=[93.9e9]), "sweep.mw_frequency"),
    C("dims-clash", "sweep", "sw", S(model__couplings__scale=[2e6, 15e6], model__nuclei__hyperfine__scale=[1e6]),
      "sweep.model.nuclei.hyperfine.scale"),
    C("dims-not-swept", "sweep", "sw", S(dims={"model.couplings.scale": "u"}), "sweep.dims.model.couplings.scale"),
    C("dims-number", "sweep", "sw", S(dims=5), "sweep.dims"),
    C("dims-reserved", "sweep", "sw", S(dims={"environment.mw_frequency": "realization"}),
      "sweep.environment.mw_frequency"),
    C("point-invalid", "sweep", "sw", S(environment__temperature=[1.2, -1.0]), "environment.temperature"),
    C("point-unknown-key", "sweep", "sw", S(environment__temprature=[1.2, 2.0]), "environment.temprature"),
    C("point-too-big", "sweep", "sw", S(model__n_electrons=[3, 17]), "model.n_electrons"),
    C("point-bad-method", "sweep", "sw", S(method__kind=["rate_equation", "lindblad"]), "method.kind"),
    C("point-wrong-unit", "sweep", "sw", S(environment__mw_frequency=["93.9 GHz", "5 s"]), "environment.mw_frequency"),
    C("grid-wrong-unit", "sweep", "sw", S(environment__mw_frequency={"start": "1 s", "stop": "2 s", "num": 3}),
      "environment.mw_frequency"),
    C("grid-mixed-units", "sweep", "sw", S(environment__mw_frequency={"start": "93.8 GHz", "stop": "2 s", "num": 3}),
      "sweep.environment.mw_frequency"),
    C("model-seed", "sweep", "sw", S(model__seed=[1, 2, 3]), "sweep.model.seed"),
    C("realizations-huge", "sweep", "sw", S(realizations=10**9), "sweep.realizations"),
]

SPEC_CASES = ST + NS + AN + CE + SW


@pytest.fixture
def no_engine(monkeypatch):
    """Engines that fail the test when reached: validation must refuse first."""
    from dnpsim import api

    def reached(*args, **kwargs):
        raise AssertionError("validation passed: the engine was reached")

    monkeypatch.setattr(api, "_runner", lambda spec, setup: reached)
    monkeypatch.setattr(api, "run_points", reached)


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 4 GiB of memory, all available."""
    import psutil

    memory = psutil.virtual_memory()._replace(total=4 * 2**30, available=4 * 2**30)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: memory)


def snapshot(root: Path) -> list:
    return sorted((str(p.relative_to(root)), p.is_dir()) for p in root.rglob("*"))


def check_refused(argv: list[str], root: Path, capsys, field: str) -> str:
    before = snapshot(root)
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (code, captured.err)
    assert len(lines) == 1, lines
    message = lines[0]
    assert message.startswith(f"dnpsim: error: {field}: "), message
    what = message[len(f"dnpsim: error: {field}: "):]
    assert what.strip(), message  # says what is wrong
    assert not what.startswith(field.rsplit(".", 1)[-1] + ":"), message  # the field named once
    assert "Traceback" not in captured.err
    assert "np.float" not in message and "np.int" not in message and "array(" not in message, message
    assert snapshot(root) == before  # nothing written, the spec untouched
    return message


def _case(param):
    return param.values[0] if hasattr(param, "values") else param


@pytest.mark.parametrize("case", SPEC_CASES, ids=[_case(c).id for c in SPEC_CASES])
def test_catalogue(case, tmp_path, capsys, no_engine, small_machine):
    spec = base_spec(case.base)
    for key, value in case.changes.items():
        _set(spec, key, value)
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    path = tmp_path / "in" / "spec.json"
    path.write_text(json.dumps(spec))
    if case.base == "sw":
        argv = ["sweep", str(path), "-o", str(tmp_path / "out" / "r.nc"), "-q"]
    else:
        argv = ["run", str(path), "-o", str(tmp_path / "out" / "r.json"), "-q"]
    check_refused(argv, tmp_path, capsys, case.field)


# ------------------------------------------------------- files and command-line options
GOOD = (EXAMPLES / "anderson_point.toml").read_text().replace("L = 6", "L = 2")


def _file_case(tmp_path: Path, name: str) -> list[str]:
    """The argv of one file / option case, its files made in ``tmp_path``."""
    out = tmp_path / "out"
    out.mkdir()
    spec = tmp_path / "spec.toml"
    spec.write_text(GOOD)
    command, output = "run", out / "r.json"
    if name == "empty-file":
        spec.write_text("")
    elif name == "toml-syntax":
        spec.write_text(GOOD.replace("L = 2", "L = = 2"))
    elif name == "json-syntax":
        spec = tmp_path / "spec.json"
        spec.write_text('{"model": {"kind": "anderson",}')
    elif name == "json-nan-top":
        spec = tmp_path / "spec.json"
        spec.write_text("NaN")
    elif name == "no-read-permission":
        os.chmod(spec, 0)
    elif name == "utf16":
        spec.write_bytes(GOOD.encode("utf-16"))
    elif name == "output-suffix":
        output = out / "r.txt"
    elif name == "output-no-suffix":
        output = out / "result"
    elif name == "output-missing-directory":
        output = tmp_path / "missing" / "r.json"
    elif name == "output-nc-for-run":
        output = out / "r.nc"
    elif name == "sweep-output-suffix":
        command, output = "sweep", out / "r.json"
        spec.write_text(GOOD + '\n[sweep]\n"environment.temperature" = [1.2, 2.0]\n')
    elif name == "sweep-output-missing-directory":
        command, output = "sweep", tmp_path / "missing" / "r.nc"
        spec.write_text(GOOD + '\n[sweep]\n"environment.temperature" = [1.2, 2.0]\n')
    elif name == "sweep-output-is-directory":
        command, output = "sweep", out / "r.nc"
        output.mkdir()
        spec.write_text(GOOD + '\n[sweep]\n"environment.temperature" = [1.2, 2.0]\n')
    elif name == "run-with-sweep":
        spec.write_text(GOOD + '\n[sweep]\n"environment.temperature" = [1.2, 2.0]\n')
    elif name == "sweep-without-sweep":
        command, output = "sweep", out / "r.nc"
    elif name == "sweep-missing-spec":
        command, output = "sweep", out / "r.nc"
        spec = tmp_path / "nowhere.toml"
    else:
        raise ValueError(name)
    return [command, str(spec), "-o", str(output), "-q"]


FILE_CASES = [
    ("empty-file", "model"), ("toml-syntax", "spec"), ("json-syntax", "spec"), ("json-nan-top", "spec"),
    ("utf16", "spec"), ("output-suffix", "--output"), ("output-no-suffix", "--output"),
    ("output-missing-directory", "--output"), ("output-nc-for-run", "--output"),
    ("sweep-output-suffix", "--output"), ("sweep-output-missing-directory", "--output"),
    ("sweep-output-is-directory", "--output"), ("run-with-sweep", "sweep"), ("sweep-without-sweep", "sweep"),
    ("sweep-missing-spec", "spec"),
]
if os.geteuid() != 0:  # root reads everything
    FILE_CASES.append(("no-read-permission", "spec"))


@pytest.mark.parametrize("name, field", FILE_CASES, ids=[n for n, _ in FILE_CASES])
def test_files_and_options(name, field, tmp_path, capsys, no_engine):
    argv = _file_case(tmp_path, name)
    check_refused(argv, tmp_path, capsys, field)


def test_the_catalogue_is_complete():
    """At least 150 cases, every model kind in every category that applies to it."""
    from tests.faults.test_bad_input import CASES as FIRST_CASES

    cases = [_case(c) for c in SPEC_CASES]
    assert len(cases) + len(FILE_CASES) + len(FIRST_CASES) >= 150
    assert len({c.id for c in cases}) == len(cases)
    by_kind = Counter((c.base if c.base in ("st", "ns", "an", "sw") else "ce", c.category) for c in cases)
    for kind in ("st", "ns", "an", "ce"):
        for category in ("missing", "type", "range", "units", "unknown", "method", "size", "consistency"):
            assert by_kind[kind, category] >= 1, (kind, category)


@pytest.mark.parametrize("changes, field", [
    ({"environment.temperature": "np.float64(-1.2)"}, "environment.temperature"),
    ({"model.couplings": "asymmetric"}, "model.couplings[0][1]"),
    ({"method.tol": "np.float64(2.0)"}, "method.tol"),
    ({"environment.t1e": "np.float64('nan')"}, "environment.t1e"),
])
def test_python_api_messages_show_plain_numbers(changes, field, no_engine):
    """Specs given from Python may hold numpy values: messages print plain numbers."""
    import numpy as np

    import dnpsim
    from dnpsim.errors import SpecError

    spec = base_spec("st")
    for key, value in changes.items():
        if value == "asymmetric":
            value = np.zeros((4, 4))
            value[0, 1], value[1, 0] = np.float64(3e6), np.float64(2e6)
            value = [list(row) for row in value]  # lists of numpy scalars
        else:
            value = eval(value, {"np": np})
        _set(spec, key, value)
    with pytest.raises(SpecError) as info:
        dnpsim.run(spec)
    assert info.value.field == field
    assert "np." not in str(info.value) and "array(" not in str(info.value), str(info.value)
