"""The memory check of :mod:`dnpsim.memory`: what is available (free memory, a
container's cgroup limit, ``ulimit -v``) and the refusal naming the field."""

from __future__ import annotations

import pytest

from dnpsim import memory
from dnpsim.errors import SpecError


def test_check_fits_names_the_field_and_the_estimate(monkeypatch):
    monkeypatch.setattr(memory, "available", lambda: 2 * 2**30)
    memory.check_fits(1.9 * 2**30, "model.L", "L = 20")
    with pytest.raises(SpecError) as info:
        memory.check_fits(3.26 * 2**30, "model.L", "L = 20")
    assert info.value.field == "model.L"
    assert info.value.message == "L = 20 would need about 3.3 GiB of memory, more than the 2.0 GiB available here"


def test_a_cgroup_limit_lowers_what_is_available(tmp_path):
    group = tmp_path / "sys" / "box"
    group.mkdir(parents=True)
    (tmp_path / "cgroup").write_text("0::/box\n")
    (group / "memory.max").write_text(f"{4 * 2**30}\n")
    (group / "memory.current").write_text(f"{3 * 2**30}\n")
    (group / "memory.stat").write_text(f"anon 1\ninactive_file {2**30}\nactive_file 5\n")
    headroom = memory._cgroup_headroom(str(tmp_path / "sys"), str(tmp_path / "cgroup"))
    assert headroom == 2 * 2**30  # 4 GiB - (3 GiB used - 1 GiB reclaimable cache)
    (group / "memory.max").write_text("max\n")
    assert memory._cgroup_headroom(str(tmp_path / "sys"), str(tmp_path / "cgroup")) is None
    assert memory._cgroup_headroom(str(tmp_path / "nowhere"), str(tmp_path / "cgroup")) is None


def test_an_address_space_limit_lowers_what_is_available(monkeypatch):
    resource = pytest.importorskip("resource")
    monkeypatch.setattr(resource, "getrlimit", lambda which: (4 * 2**30, resource.RLIM_INFINITY))
    assert 0 <= memory.available() <= 4 * 2**30
