"""Memory checks before any work: a run whose estimated peak memory exceeds what this
machine has available is refused with a :class:`~dnpsim.errors.SpecError` naming the
field that sets the size and the estimate in GiB (instead of a ``MemoryError`` or the
machine swapping halfway through a run).

The estimates themselves live with the code whose memory they model (the spec kinds
in :mod:`dnpsim.specs`, :func:`dnpsim.units.parse_grid`); they are rough upper bounds
of the peak, calibrated by measuring the peak resident memory of real runs.
"""

from __future__ import annotations

from dnpsim.errors import SpecError

GIB = 2**30


def available() -> int:
    """Bytes of memory available to a new computation now: ``psutil``'s
    ``virtual_memory().available`` (free memory plus reclaimable caches), or less under a
    container's memory limit (cgroup v2 ``memory.max``) or an address-space limit of this
    process (``ulimit -v``)."""
    import psutil

    have = int(psutil.virtual_memory().available)
    cgroup = _cgroup_headroom()
    if cgroup is not None:
        have = min(have, cgroup)
    try:
        import resource

        soft, unlimited = resource.getrlimit(resource.RLIMIT_AS)[0], resource.RLIM_INFINITY
    except (ImportError, OSError, ValueError):  # no such limit on this platform
        soft = unlimited = -1
    if soft not in (-1, unlimited):
        have = min(have, max(soft - psutil.Process().memory_info().vms, 0))
    return have


def _cgroup_headroom(root: str = "/sys/fs/cgroup", membership: str = "/proc/self/cgroup") -> int | None:
    """memory.max - (memory.current - inactive file cache) of this process's cgroup (v2),
    or None without a limit."""
    from pathlib import Path

    try:
        line = Path(membership).read_text().splitlines()[0]  # "0::/path" under cgroup v2
        group = Path(root) / line.split("::", 1)[1].lstrip("/")
        limit = (group / "memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int((group / "memory.current").read_text())
        stat = dict(line.split() for line in (group / "memory.stat").read_text().splitlines())
        used -= int(stat.get("inactive_file", 0))
        return max(int(limit) - used, 0)
    except (OSError, IndexError, ValueError):
        return None


def check_fits(need: float, field: str, what: str) -> None:
    """Raise :class:`SpecError` naming ``field`` when ``need`` bytes exceed the
    memory available; ``what`` says what needs it (e.g. ``"4000 nuclei with method
    'kmc'"``)."""
    have = available()
    if need > have:
        raise SpecError(field, f"{what} would need about {need / GIB:.1f} GiB of memory, more than the "
                        f"{have / GIB:.1f} GiB available here")
