"""Compiled kernels: the one place that knows about numba compilation.

Every module with numba kernels imports this module.  It registers a listener for
numba's ``numba:compile`` event, which numba emits only when a kernel is compiled
(not when it is loaded from numba's on-disk cache), and prints one line to stderr the
first time a dnpsim kernel is compiled in a process, so that a first run that sits
silent for a minute says why.  Set ``DNPSIM_QUIET_COMPILE=1`` to silence it.
"""

from __future__ import annotations

import os
import sys
import threading

from numba.core import event

__all__ = ["COMPILE_NOTICE"]

#: The line printed (once per process) when dnpsim's kernels are being compiled.
COMPILE_NOTICE = "dnpsim: compiling numba kernels (first run only; they are cached afterwards) ..."


class _CompileNotice(event.Listener):
    """Prints :data:`COMPILE_NOTICE` when the first dnpsim kernel starts compiling."""

    def __init__(self):
        self.printed = False
        self._lock = threading.Lock()

    def on_start(self, ev):
        if self.printed or os.environ.get("DNPSIM_QUIET_COMPILE"):
            return
        dispatcher = (ev.data or {}).get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
        if not module.startswith("dnpsim."):
            return
        with self._lock:
            if not self.printed:
                self.printed = True
                print(COMPILE_NOTICE, file=sys.stderr, flush=True)

    def on_end(self, ev):
        pass


_LISTENER = _CompileNotice()
event.register("numba:compile", _LISTENER)
