"""Every example in ``examples/`` runs as its header says and shows what its header
says it shows (issue 16).

The examples are found by glob: a file in ``examples/`` without an entry in
:data:`CHECKS` fails :func:`test_every_example_has_a_check`, so an example cannot be
added without a test.  Each example's header must give the command that runs it and
what to expect (:func:`test_every_header_says_how_to_run_it_and_what_to_expect`).

* TOML examples run in-process through :func:`dnpsim.cli.main` with the command line of
  their header (``dnpsim run ...`` or ``dnpsim sweep ...``), the spec and the output
  moved into ``tmp_path``; Python examples run in a subprocess in ``tmp_path`` with
  ``MPLBACKEND=Agg``.
* Every run must exit 0, print no warning, give finite results, and show the result
  the header states (numbers as in the header, with tolerances).
* Examples that take more than ~10 s as shipped run here with a documented shrink
  (:attr:`Check.shrink`); the ``slow`` variant runs them as shipped and checks the
  header's numbers.
* The alternatives a header suggests (``Set method.kind = "hilbert"`` ...) are applied
  to the file as a user would, by editing that one line, and run too (:data:`SWITCHES`).
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from dnpsim.cli import main
from dnpsim.jit import COMPILE_NOTICE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FILES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_file() and not p.name.startswith("."))


# --------------------------------------------------------------------------- running


def header(name: str) -> str:
    """The header of an example: the leading comment block of a TOML file (without the
    ``#``), the module docstring of a Python file."""
    text = (EXAMPLES / name).read_text()
    if name.endswith(".py"):
        return ast.get_docstring(ast.parse(text)) or ""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return "\n".join(lines)


def header_command(name: str) -> list[str]:
    """The command line the header gives for ``name``: ``dnpsim run|sweep
    examples/<name> ...`` (TOML) or ``python examples/<name>`` (Python), split, with
    the trailing comment removed."""
    program = "python" if name.endswith(".py") else r"dnpsim (?:run|sweep)"
    match = re.search(rf"^\s*({program} examples/{re.escape(name)}\b[^\n#]*)", header(name), re.MULTILINE)
    assert match, f"examples/{name}: the header gives no command line '{program} examples/{name} ...'"
    return shlex.split(match.group(1))


@dataclass
class Run:
    """One run of an example: the result (``dict`` of the JSON of ``dnpsim run``, the
    ``xarray.Dataset`` of ``dnpsim sweep``, or None for a Python example), what it printed
    and the warnings it raised (messages)."""

    result: object
    stdout: str
    warnings: list[str]
    directory: Path


def _set(spec: dict, dotted: str, value) -> None:
    node = spec
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[part]
    node[last] = value


def edit_line(text: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` on the one non-comment line that holds ``old``, as a
    user editing the file would."""
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if not line.lstrip().startswith("#") and old in line]
    assert len(hits) == 1, f"{old!r} is on {len(hits)} non-comment lines"
    lines[hits[0]] = lines[hits[0]].replace(old, new)
    return "".join(lines)


def run_toml(name: str, tmp_path: Path, capfd, *, edits=(), changes: dict | None = None) -> Run:
    """Run a TOML example with its header's command line, in-process, from ``tmp_path``:
    the file as shipped, or with line ``edits`` [(old, new)] and dotted-key ``changes``
    (written as JSON, which spec files accept)."""
    text = (EXAMPLES / name).read_text()
    for old, new in edits:
        text = edit_line(text, old, new)
    if changes:
        spec = tomllib.loads(text)
        for key, value in changes.items():
            _set(spec, key, value)
        path = tmp_path / (Path(name).stem + ".json")
        path.write_text(json.dumps(spec))
    else:
        path = tmp_path / name
        path.write_text(text)
    argv = header_command(name)[1:]
    argv[argv.index(f"examples/{name}")] = str(path)
    flag = "--output" if "--output" in argv else "-o"
    output = tmp_path / Path(argv[argv.index(flag) + 1]).name
    argv[argv.index(flag) + 1] = str(output)
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(argv)
    out, err = capfd.readouterr()
    messages = [str(w.message) for w in caught if not issubclass(w.category, (DeprecationWarning,
                                                                              PendingDeprecationWarning))]
    err_lines = [line for line in err.splitlines() if line.strip() and line != COMPILE_NOTICE
                 and not line.startswith("sweep")]  # the sweep's plan and progress bar
    messages += [line for line in err_lines if "warning" in line.lower()]
    assert code == 0, (code, err)
    if argv[0] == "sweep":
        import xarray as xr

        with xr.open_dataset(output) as ds:
            result = ds.load()
    else:
        result = json.loads(output.read_text(),
                            parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c} in the result"))
    return Run(result, out, messages, tmp_path)


def run_python(name: str, tmp_path: Path) -> Run:
    """Run a Python example as its header says, in ``tmp_path`` (where it writes)."""
    command = header_command(name)
    assert command == ["python", f"examples/{name}"], command
    env = dict(os.environ, MPLBACKEND="Agg", DNPSIM_QUIET_COMPILE="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return Run(None, proc.stdout, [line for line in proc.stderr.splitlines() if line.strip()], tmp_path)


def finite_json(result: dict) -> None:
    """Every polarization (and time series, standard error) of a run's JSON is a
    finite number (NaN and inf are written as null)."""
    for key in ("electron_polarization", "nuclear_polarization", "times", "electron_polarization_t",
                "nuclear_polarization_t", "nuclear_polarization_stderr", "nuclear_polarization_t_stderr"):
        if result.get(key) is not None:
            values = np.asarray(result[key], dtype=float)  # null -> nan
            assert values.size and np.all(np.isfinite(values)), key
    if result["solution"] == "stationary":
        assert math.isfinite(result["residual"]) and result["residual"] < 1e-8


def number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the output:\n{text}"
    return float(match.group(1))


# --------------------------------------------------------------------------- checks
# Each takes the Run and whether the example ran as shipped (False: the shrink).


def check_single_point(run: Run, shipped: bool) -> None:
    r = run.result
    assert r["nuclear_polarization"] == pytest.approx(0.124890, rel=1e-3)
    assert r["enhancement"]["nuclear"] == pytest.approx(312.3, rel=1e-3)
    assert np.mean(r["electron_polarization"]) == pytest.approx(-0.192561, rel=1e-3)
    assert r["spin_temperature"] == pytest.approx(0.003573, rel=1e-3)
    assert r["kl_divergence"] == pytest.approx(0.0068, abs=5e-4)
    assert "nuclear polarization +0.12489" in run.stdout


def check_anderson_point(run: Run, shipped: bool) -> None:
    r = run.result
    assert r["nuclear_polarization"] == pytest.approx(0.019903, rel=1e-3)
    assert r["enhancement"]["nuclear"] == pytest.approx(49.77, rel=1e-3)
    assert np.mean(r["electron_polarization"]) == pytest.approx(-0.476595, rel=1e-3)
    assert r["ipr"] == pytest.approx(0.099, abs=1e-3)


def check_e1e2n(run: Run, shipped: bool) -> None:
    r = run.result
    assert r["nuclear_polarization"][0] == pytest.approx(0.795251, rel=1e-3)  # p_I = 0.81 p
    assert r["nuclear_polarization"][0] / 0.984 == pytest.approx(0.81, abs=0.005)
    assert r["electron_polarization"] == pytest.approx([-0.001, -0.931], abs=1e-3)


def check_amupol(run: Run, shipped: bool, *, sign: float = 1.0, mean: float = 0.045281,
                 enhancement: float = 471.5) -> None:
    r = run.result
    pn = np.asarray(r["nuclear_polarization"])
    assert np.mean(pn) == pytest.approx(sign * mean, rel=2e-3)
    assert np.mean(r["enhancement"]["nuclear"]) == pytest.approx(sign * enhancement, rel=2e-3)
    assert f"enhancement {sign * enhancement:+.1f}" in run.stdout
    saturated, thermal = (0, 1) if sign > 0 else (1, 0)
    assert r["electron_polarization"][saturated] == pytest.approx(-0.001, abs=5e-4)
    assert r["electron_polarization"][thermal] == pytest.approx(-0.062, abs=5e-4)
    model = r["spec"]["model"]
    assert model["biradical"]["radical"] == "AMUPol"
    assert model["biradical"]["orientation"] == pytest.approx([36.26, 24.36], abs=0.01)
    assert model["biradical"]["nuclear_projections"] == [[0.0], [1.0]]
    assert model["electron_coupling"] == pytest.approx(1.95e6, abs=0.01e6)
    assert model["offsets"][1] - model["offsets"][0] == pytest.approx(402.03e6, abs=0.01e6)


def check_amupol_electron_2(run: Run, shipped: bool) -> None:
    check_amupol(run, shipped, sign=-1.0, mean=0.045978, enhancement=478.7)


def check_e1e2n_zeeman_rates(run: Run, shipped: bool) -> None:
    assert run.result["method"] == "zeeman_rates"
    assert run.result["nuclear_polarization"][0] == pytest.approx(0.793289, rel=1e-3)


def check_pentagon(run: Run, shipped: bool, *, mean=0.255246, tau=72.9, method="zeeman_rates") -> None:
    r = run.result
    assert r["method"] == method
    pn = np.asarray(r["nuclear_polarization"])
    assert pn == pytest.approx(mean, abs=0.002)  # all three nuclei, the third by spin diffusion
    assert r["build_up_time"] == pytest.approx(tau, rel=0.01)
    assert r["times"][-1] > 4 * r["build_up_time"]  # the grid covers the build-up
    assert r["build_up_enhancement"] == pytest.approx(np.mean(pn), abs=0.01)


def check_pentagon_lindblad(run: Run, shipped: bool) -> None:
    check_pentagon(run, shipped, mean=0.267528, tau=71.7, method="lindblad")


def _kmc_rise(r: dict) -> tuple[float, float]:
    """(mean nuclear polarization at the last time, its standard error from the
    per-nucleus ones as for independent nuclei)."""
    se = np.asarray(r["nuclear_polarization_stderr"])
    return float(np.mean(r["nuclear_polarization"])), float(np.sqrt(np.sum(se**2)) / se.size)


def check_kmc_geometry(run: Run, shipped: bool) -> None:
    r = run.result
    mean, se = _kmc_rise(r)
    curve = np.asarray(r["nuclear_polarization_t"]).mean(axis=1)
    if shipped:  # 16 trajectories over 150 s
        assert mean == pytest.approx(0.248, abs=0.03)
        assert mean > 8 * se  # the header: ~11 standard errors above the noise
        assert 40 < r["build_up_time"] < 90 and r["build_up_enhancement"] == pytest.approx(0.27, abs=0.05)
        assert 0.015 < se < 0.03
    else:  # 8 trajectories over 60 s
        assert mean > 0.1 and mean > 4 * se
        assert math.isfinite(r["build_up_time"]) and r["build_up_time"] > 0
    assert curve[-1] > curve[len(curve) // 2] > curve[0] + 3 * se  # it builds up
    assert "build-up time" in run.stdout


def check_kmc_does_not_polarize(run: Run, shipped: bool) -> None:
    """The header's counter-examples (secular hyperfine couplings on, or a 5 nm sphere):
    no build-up above the noise, one warning, no build-up time."""
    r = run.result
    mean, se = _kmc_rise(r)
    assert abs(mean) < 3 * se
    assert len(run.warnings) == 1 and "does not rise above its statistical noise" in run.warnings[0], run.warnings
    assert r["build_up_time"] is None and r["build_up_enhancement"] is None  # NaN -> null
    assert "build-up time" not in run.stdout


def check_dnp_profile(run: Run, shipped: bool) -> None:
    ds = run.result
    assert ds.sizes["mw_frequency"] == 41 and ds.sizes["scale"] == 2
    assert ds.sizes["realization"] == (20 if shipped else 2)
    for name in ("nuclear_polarization", "electron_polarization", "kl_divergence"):
        assert np.all(np.isfinite(ds[name].values)), name
    assert float(ds.residual.max()) < 1e-8
    pn = ds.nuclear_polarization.mean("realization")
    kl = ds.kl_divergence.mean(["realization", "mw_frequency"])
    weak, strong = pn.sel(scale=2e6), pn.sel(scale=15e6)
    if shipped:
        assert float(ds.nuclear_polarization.min()) == pytest.approx(-0.438857, abs=1e-4)
        assert float(ds.nuclear_polarization.max()) == pytest.approx(0.369214, abs=1e-4)
        assert [float(weak[0]), float(strong[0])] == pytest.approx([0.230, 0.240], abs=0.002)
        assert [float(weak[-1]), float(strong[-1])] == pytest.approx([-0.245, -0.225], abs=0.002)
        assert float(strong.sel(mw_frequency=93.876e9)) == pytest.approx(0.178, abs=0.002)
        centre = weak.sel(mw_frequency=slice(93.869e9, 93.931e9))
        assert float(abs(centre).max()) < 0.07
        assert [float(kl.sel(scale=2e6)), float(kl.sel(scale=15e6))] == pytest.approx([0.078, 0.014], abs=0.001)
    else:  # two realizations: the two lobes and the contrast in kl_divergence
        assert float(weak[0]) > 0.15 and float(strong[0]) > 0.15
        assert float(weak[-1]) < -0.15 and float(strong[-1]) < -0.15
    assert float(kl.sel(scale=2e6)) > 3 * float(kl.sel(scale=15e6))  # no spin temperature when localized


def check_nonsecular(run: Run, shipped: bool) -> None:
    r = run.result
    assert r["method"] == "nonsecular" and r["solver"] == "gmres"
    assert np.mean(r["electron_polarization"]) == pytest.approx(-0.091383, rel=1e-3)
    assert r["spin_temperature"] == pytest.approx(7.528e-4, rel=1e-3)
    assert r["spin_temperature_field"] == pytest.approx(-93.897e9, abs=1e6)
    thermal = -0.187
    assert all(thermal < p < 0 for p in r["electron_polarization"])


def check_hilbert(run: Run, shipped: bool) -> None:
    r = run.result
    assert r["method"] == "hilbert"
    assert np.mean(r["electron_polarization"]) == pytest.approx(-0.083343, rel=1e-3)
    assert r["spin_temperature"] == pytest.approx(9.027e-4, rel=1e-3)


def check_build_up(run: Run, shipped: bool) -> None:
    out = run.stdout
    assert number(r"thermal start: P_n = ([-+.\d]+)", out) == pytest.approx(0.0004, abs=1e-4)
    tau = number(r"tau = ([.\d]+) s", out)
    eps = number(r"eps = ([-+.\d]+)", out)
    assert 0.15 < tau < 0.4 and eps == pytest.approx(0.175, abs=0.005)
    peak, at = number(r"maximum P_n = ([-+.\d]+)", out), number(r"maximum P_n = [-+.\d]+ at t = ([.\d]+) s", out)
    final = number(r"P_n\(5 s\) = ([-+.\d]+)", out)
    stationary = number(r"stationary P_n = ([-+.\d]+)", out)
    assert peak == pytest.approx(0.1849, abs=2e-4) and 0.5 < at < 1.5 and peak > 1.05 * stationary  # overshoot
    assert stationary == pytest.approx(0.17040, abs=1e-4)
    assert final == pytest.approx(stationary, abs=2e-4)  # the grid reaches the stationary state
    assert number(r"enhancement (\d+)", out) == pytest.approx(426, abs=1)
    assert (run.directory / "build_up.png").stat().st_size > 10_000


def _profile(run: Run, size: int):
    ds = run.result
    assert ds.sizes["mw_frequency"] == size and ds.sizes["realization"] == 8
    for name in ("nuclear_polarization", "electron_polarization", "kl_divergence"):
        assert np.all(np.isfinite(ds[name].values)), name
    assert float(ds.residual.max()) < 1e-8
    return ds, ds.nuclear_polarization.mean("realization")


def check_tempo(run: Run, shipped: bool) -> None:
    ds, pn = _profile(run, 36)
    assert "nuclear_polarization             -0.897418 .. 0.906199" in run.stdout
    assert float(pn.sel(mw_frequency=93.92e9)) == pytest.approx(0.744, abs=2e-3)
    assert float(pn.sel(mw_frequency=94.28e9)) == pytest.approx(-0.770, abs=2e-3)
    assert float(pn.max()) == float(pn.sel(mw_frequency=93.92e9))
    assert float(pn.min()) == float(pn.sel(mw_frequency=94.28e9))
    assert float(pn.sel(mw_frequency=94.08e9)) > 0 > float(pn.sel(mw_frequency=94.10e9))  # the sign change
    assert [float(pn[0]), float(pn[-1])] == pytest.approx([0.229, -0.214], abs=2e-3)
    enhancement = ds.nuclear_enhancement.mean("realization")
    assert float(enhancement.max()) == pytest.approx(261, abs=1)


def check_trityl(run: Run, shipped: bool) -> None:
    ds, pn = _profile(run, 41)
    assert "nuclear_polarization             -0.826691 .. 0.846974" in run.stdout
    assert float(pn.sel(mw_frequency=187.71e9)) == pytest.approx(0.797, abs=2e-3)
    assert float(pn.sel(mw_frequency=187.87e9)) == pytest.approx(-0.783, abs=2e-3)
    assert float(pn.max()) == float(pn.sel(mw_frequency=187.71e9))
    assert float(pn.min()) == float(pn.sel(mw_frequency=187.87e9))
    assert float(pn.sel(mw_frequency=187.80e9)) > 0 > float(pn.sel(mw_frequency=187.81e9))  # the sign change
    assert float(pn[0]) == pytest.approx(0.378, abs=2e-3)
    enhancement = ds.nuclear_enhancement.mean("realization")
    assert float(enhancement.max()) == pytest.approx(555, abs=1)


def check_trityl_335(run: Run, shipped: bool) -> None:
    ds, pn = _profile(run, 51)
    assert "nuclear_polarization             -0.908444 .. 0.92695" in run.stdout
    assert "offsets                          -1.60508e+07 .. 2.28925e+07 Hz" in run.stdout
    assert float(pn.max()) == float(pn.sel(mw_frequency=93.75e9)) == pytest.approx(0.901, abs=2e-3)
    assert float(pn.min()) == float(pn.sel(mw_frequency=94.04e9)) == pytest.approx(-0.895, abs=2e-3)
    assert float(pn.sel(mw_frequency=93.90e9)) > 0 > float(pn.sel(mw_frequency=93.91e9))
    assert abs(float(pn.sel(mw_frequency=93.90e9))) < 0.005  # no DNP on the line itself
    assert [float(pn[0]), float(pn[-1])] == pytest.approx([0.295, -0.282], abs=2e-3)
    enhancement = ds.nuclear_enhancement.mean("realization")
    assert float(enhancement.max()) == pytest.approx(316, abs=1)
    stderr = ds.nuclear_polarization.std("realization", ddof=1) / np.sqrt(8)
    assert float(stderr.max()) < 0.032


def check_tempo_field(run: Run, shipped: bool) -> None:
    ds = run.result
    assert ds.sizes["field"] == 31 and ds.sizes["realization"] == 4
    assert ds.field.attrs["units"] == "T"
    assert float(ds.residual.max()) < 1e-8
    assert "nuclear_polarization             -0.901354 .. 0.904422" in run.stdout
    pn = ds.nuclear_polarization.mean("realization")
    assert float(pn.min()) == float(pn.sel(field=3.342, method="nearest")) == pytest.approx(-0.811, abs=2e-3)
    assert float(pn.max()) == float(pn.sel(field=3.356, method="nearest")) == pytest.approx(0.854, abs=2e-3)
    assert float(pn.sel(field=3.348, method="nearest")) < 0 < float(pn.sel(field=3.349, method="nearest"))
    assert [float(pn[0]), float(pn[-1])] == pytest.approx([-0.085, 0.050], abs=2e-3)
    # the offsets are redrawn at every field from the same orientations: they scale with B0
    offsets = ds.offsets.isel(realization=0)
    assert not np.allclose(offsets.isel(field=0), offsets.isel(field=-1))


@dataclass
class Check:
    """How an example is tested: ``check(run, shipped)``; ``shrink``, dotted-key changes
    for the default suite when the shipped size takes more than ~10 s (then the slow
    variant runs it as shipped), with the reason."""

    check: Callable[[Run, bool], None]
    shrink: dict = field(default_factory=dict)
    why: str = ""


CHECKS: dict[str, Check] = {
    "amupol_cross_effect.toml": Check(check_amupol),
    "anderson_point.toml": Check(check_anderson_point),
    "build_up.py": Check(check_build_up),
    "cross_effect_e1e2n.toml": Check(check_e1e2n),
    "cross_effect_kmc_geometry.toml": Check(
        check_kmc_geometry, {"method.trajectories": 8, "method.times": {"start": 0.0, "stop": 60.0, "num": 7}},
        "~10 s as shipped (16 trajectories x 150 s); 8 trajectories x 60 s here (~2 s)"),
    "cross_effect_pentagon.toml": Check(check_pentagon),
    "dnp_profile.toml": Check(check_dnp_profile, {"sweep.realizations": 2},
                              "~15 s on 2 cores as shipped (20 realizations); 2 realizations here"),
    "nonsecular_point.toml": Check(check_nonsecular),
    "single_point.toml": Check(check_single_point),
    "tempo_40mM_3.35T.toml": Check(check_tempo),
    "tempo_field_profile.toml": Check(check_tempo_field),
    "trityl_15mM_3.35T.toml": Check(check_trityl_335),
    "trityl_15mM_6.7T.toml": Check(check_trityl),
}

#: The alternatives the headers suggest, applied by editing one line: (example, old,
#: new, what the header says, check, slow).  The kmc counter-examples of the header
#: run with the example's shrink in the default suite, the 5 nm sphere as shipped.
SWITCHES = [
    ("amupol_cross_effect.toml", 'mw_frequency = "263.7162 GHz"', 'mw_frequency = "264.1182 GHz"',
     'mw_frequency = "264.1182 GHz"', check_amupol_electron_2, False),
    ("nonsecular_point.toml", 'kind = "nonsecular"', 'kind = "hilbert"', 'Set method.kind = "hilbert"',
     check_hilbert, False),
    ("cross_effect_e1e2n.toml", 'kind = "lindblad"', 'kind = "zeeman_rates"', 'Swap method.kind to "zeeman_rates"',
     check_e1e2n_zeeman_rates, False),
    ("cross_effect_pentagon.toml", 'kind = "zeeman_rates"', 'kind = "lindblad"', 'Switch to kind = "lindblad"',
     check_pentagon_lindblad, False),
    ("cross_effect_kmc_geometry.toml", "secular_hyperfine = false", "secular_hyperfine = true",
     "Set secular_hyperfine = true", check_kmc_does_not_polarize, False),
    ("cross_effect_kmc_geometry.toml", "radius = 4e-9", "radius = 5e-9", "draw the protons in a 5 nm sphere",
     check_kmc_does_not_polarize, True),
]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", FILES)
def test_every_example_has_a_check(name):
    assert name.endswith((".toml", ".py")), f"examples/{name}: only .toml and .py examples can be run and tested"
    assert name in CHECKS, f"examples/{name} has no check in tests/test_examples.py: add one to CHECKS"


@pytest.mark.parametrize("name", FILES)
def test_every_header_says_how_to_run_it_and_what_to_expect(name):
    text = header(name)
    header_command(name)  # a command line that runs it
    assert re.search(r"~\s*[\d.]+\s*s\b", text), f"examples/{name}: the header does not say how long it takes (~N s)"
    assert re.search(r"\bExpect", text), f"examples/{name}: the header does not say what to expect"


def _run(name: str, tmp_path: Path, capfd, shipped: bool, edits=()) -> Run:
    if name.endswith(".py"):
        return run_python(name, tmp_path)
    return run_toml(name, tmp_path, capfd, edits=edits, changes=None if shipped else CHECKS[name].shrink)


def _fast(name: str) -> bool:
    return name in CHECKS and not CHECKS[name].shrink


@pytest.mark.parametrize("name", FILES)
def test_example_runs_as_its_header_says(name, tmp_path, capfd):
    """Exit 0, no warning, finite results, the header's result; examples that take more
    than ~10 s run with their documented shrink (the slow test runs them as shipped)."""
    assert name in CHECKS, f"examples/{name} has no check"
    check = CHECKS[name]
    run = _run(name, tmp_path, capfd, shipped=not check.shrink)
    assert run.warnings == [], run.warnings
    if isinstance(run.result, dict):
        finite_json(run.result)
    check.check(run, not check.shrink)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in FILES if not _fast(n)])
def test_example_runs_as_shipped(name, tmp_path, capfd):
    run = _run(name, tmp_path, capfd, shipped=True)
    assert run.warnings == [], run.warnings
    if isinstance(run.result, dict):
        finite_json(run.result)
    CHECKS[name].check(run, True)


@pytest.mark.parametrize("name, old, new, says, check, slow",
                         [pytest.param(*s, marks=[pytest.mark.slow] if s[5] else [], id=f"{s[0]}:{s[2]}")
                          for s in SWITCHES])
def test_the_switches_the_headers_suggest_work_as_written(name, old, new, says, check, slow, tmp_path, capfd):
    assert says in " ".join(header(name).split()), f"examples/{name}: the header no longer says {says!r}"
    shipped = slow or not CHECKS[name].shrink
    run = run_toml(name, tmp_path, capfd, edits=[(old, new)], changes=None if shipped else CHECKS[name].shrink)
    if check is not check_kmc_does_not_polarize:
        assert run.warnings == [], run.warnings
        finite_json(run.result)
    check(run, shipped)


def test_kmc_warning_rule():
    """The rule of the cross-effect engine's warning: the mean nuclear polarization at
    the last time against NOISE_STANDARD_ERRORS standard errors of the mean of
    independent nuclei, sqrt(sum_k stderr_k^2) / N."""
    from dnpsim.experiments import cross_effect

    rises = cross_effect._rises_above_noise
    times = np.array([0.0, 1.0, 2.0])
    stderr = np.full((3, 100), 0.1)  # mean of 100 nuclei: standard error 0.01
    assert cross_effect.NOISE_STANDARD_ERRORS == 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rises(times, np.array([0.0, 0.02, 0.031]), stderr, 16)
        assert rises(times, np.array([0.0, -0.02, -0.031]), stderr, 16)  # either sign
    with pytest.warns(UserWarning, match=r"t = 2 s, \+0\.029, does not rise above its statistical noise "
                                         r"\(3 standard errors = 0\.030 with 16 trajectories\)"):
        assert not rises(times, np.array([0.0, 0.05, 0.029]), stderr, 16)
