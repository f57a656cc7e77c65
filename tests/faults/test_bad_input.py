"""Bad input through the command line (issue: reliability): every case exits 2 with one
line on stderr that names the field, prints no traceback and writes nothing.  The
first part of the catalogue: spec files that cannot be read, unit strings that are
arithmetic, output paths that cannot be written, messages that named the wrong thing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dnpsim.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOOD = (EXAMPLES / "anderson_point.toml").read_text().replace("L = 6", "L = 2")


def _case_files(tmp_path: Path, name: str) -> tuple[str, str]:
    """(spec path, output path) of one case, built in ``tmp_path``."""
    out = str(tmp_path / "out" / "r.json")
    (tmp_path / "out").mkdir()
    spec = tmp_path / "spec.toml"
    if name == "binary":
        spec.write_bytes(b"\x00\xff\xfe binary \x89PNG")
    elif name == "latin1":
        spec.write_bytes(GOOD.replace("# 2018 paper", "# caf\xe9").encode("latin-1"))
    elif name == "directory":
        spec = tmp_path / "specdir.toml"
        spec.mkdir()
    elif name == "json_null":
        spec = tmp_path / "spec.json"
        spec.write_text("null")
    elif name == "json_list":
        spec = tmp_path / "spec.json"
        spec.write_text("[1, 2]")
    elif name == "missing":
        spec = tmp_path / "nowhere.toml"
    elif name == "power_hang":
        spec.write_text(GOOD.replace("mw_frequency = 93.86e9", 'mw_frequency = "9**9**9 Hz"'))
    elif name == "big_exponent":
        spec.write_text(GOOD.replace("hopping = 6.6e6", 'hopping = "1 Hz**99999"'))
    elif name == "not_a_quantity":
        spec.write_text(GOOD.replace("temperature = 1.2", 'temperature = "cold"'))
    elif name == "ising_typo":
        spec.write_text((EXAMPLES / "nonsecular_point.toml").read_text().replace('ising = "dipolar"', 'ising = "dipolr"'))
    elif name == "cold_cross_effect":
        spec.write_text((EXAMPLES / "cross_effect_e1e2n.toml").read_text().replace("temperature = 1.0", "temperature = 0.05"))
    elif name == "output_is_directory":
        spec.write_text(GOOD)
        out = str(tmp_path / "out" / "r.json")
        Path(out).mkdir()
    elif name == "output_under_file":
        spec.write_text(GOOD)
        (tmp_path / "afile").write_text("x")
        out = str(tmp_path / "afile" / "r.json")
    elif name == "output_is_spec":
        spec = tmp_path / "spec.json"
        import tomllib

        spec.write_text(json.dumps(tomllib.loads(GOOD)))
        out = str(spec)
    elif name == "output_unwritable":
        spec.write_text(GOOD)
        os.chmod(tmp_path / "out", 0o500)
    else:
        raise ValueError(name)
    return str(spec), out


CASES = [
    ("binary", "spec"), ("latin1", "spec"), ("directory", "spec"), ("json_null", "spec"), ("json_list", "spec"),
    ("missing", "spec"), ("power_hang", "environment.mw_frequency"), ("big_exponent", "model.hopping"),
    ("not_a_quantity", "environment.temperature"), ("cold_cross_effect", "environment.temperature"),
    ("ising_typo", "model.ising"),
    ("output_is_directory", "--output"),
    ("output_under_file", "--output"), ("output_is_spec", "--output"),
]
if os.geteuid() != 0:  # root writes everywhere
    CASES.append(("output_unwritable", "--output"))


@pytest.mark.parametrize("name, field", CASES)
def test_bad_input_exits_2_naming_the_field(tmp_path, capsys, name, field):
    spec, out = _case_files(tmp_path, name)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["run", spec, "-o", out, "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"dnpsim: error: {field}"), err
    assert "np.float64" not in err[0] and "issue" not in err[0]
    assert "Traceback" not in err[0]
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before  # nothing written, the spec untouched


def test_a_byte_order_mark_is_read(tmp_path):
    spec = tmp_path / "bom.toml"
    spec.write_bytes("\ufeff".encode("utf-8") + GOOD.encode("utf-8"))
    assert main(["run", str(spec), "-o", str(tmp_path / "r.json"), "-q"]) == 0


def test_results_are_standard_json_and_follow_the_umask(tmp_path):
    """No NaN / Infinity in a result file (without microwaves the cross-effect
    efficiencies eta_1, eta_2 of Eq. (3) are infinite: written as null), and the file
    mode follows the umask."""
    text = (EXAMPLES / "cross_effect_e1e2n.toml").read_text().replace('mw_amplitude = "10 kHz"', "mw_amplitude = 0")
    path = tmp_path / "off.toml"
    path.write_text(text)
    old = os.umask(0o022)
    try:
        assert main(["run", str(path), "-o", str(tmp_path / "r.json"), "-q"]) == 0
    finally:
        os.umask(old)
    raw = (tmp_path / "r.json").read_text()
    data = json.loads(raw, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert data["efficiency_eta1"] is None  # infinite
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o644
