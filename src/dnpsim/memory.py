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
    """Bytes of memory available to a new computation now (``psutil``'s
    ``virtual_memory().available``: free memory plus reclaimable caches)."""
    import psutil

    return int(psutil.virtual_memory().available)


def check_fits(need: float, field: str, what: str) -> None:
    """Raise :class:`SpecError` naming ``field`` when ``need`` bytes exceed the
    memory available; ``what`` says what needs it (e.g. ``"4000 nuclei with method
    'kmc'"``)."""
    have = available()
    if need > have:
        raise SpecError(field, f"{what} would need about {need / GIB:.1f} GiB of memory, more than the "
                        f"{have / GIB:.1f} GiB available on this machine")
