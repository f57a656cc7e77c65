"""The README's "From Python" examples run as written (a user copies them first)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    text = README.read_text()
    section = text[text.index("## From Python"):text.index("## Commands")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_profile_example_runs_in_six_lines_after_the_import(monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    first = python_blocks()[0]
    lines = [line for line in first.splitlines() if line.strip()]
    assert lines[0] == "import dnpsim" and len(lines) - 1 <= 6
    namespace: dict = {}
    exec(compile(first, "README", "exec"), namespace)
    profile = namespace["profile"]
    assert profile.sizes["mw_frequency"] == 41 and profile.sizes["electron"] == 10
    assert profile["mw_frequency"].attrs["units"] == "Hz"
    assert float(abs(profile["nuclear_polarization"]).max()) > 0.1  # a DNP profile, not thermal 4e-4


@pytest.mark.parametrize("index", [1])
def test_result_example_runs(index, monkeypatch):
    monkeypatch.chdir(README.parent)
    block = python_blocks()[index].replace('ds = dnpsim.sweep("examples/dnp_profile.toml")', "ds = None")
    namespace: dict = {}
    exec(compile("import dnpsim\n" + block, "README", "exec"), namespace)
    assert namespace["r"].to_dict()["spec"]["model"]["n_electrons"] == 10
