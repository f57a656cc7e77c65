"""The errors dnpsim raises: one class per kind of failure, all in this module.

* :class:`SpecError` -- a spec file, a command-line option or a public argument is
  invalid.  ``field`` is the dotted key at fault (``"environment.t2e"``); raised before
  any work starts, and nothing is written.  The command line exits with code 2.
* :class:`UnitError` -- a quantity has the wrong unit or cannot be parsed (a
  :class:`SpecError`: it names the field too).
* :class:`ModelError` -- model or environment parameters are physically impossible or
  inconsistent (a non-symmetric coupling matrix, T2 > 2 T1, ...); ``field`` names the
  parameter.  Exit code 2.
* :class:`ConvergenceError` -- a solver did not reach its tolerance; ``residual`` says
  how far it got.  Results are never returned silently wrong.  Exit code 1.
* :class:`SweepResumeError` -- the parts kept by an interrupted sweep cannot be resumed
  (another spec).  Exit code 2.
* :class:`SweepLockedError` -- another sweep is writing the same output (it holds the
  lock on ``<output>.parts``).  Exit code 2.
* :class:`SweepTaskError` -- a task of a sweep failed or its worker process died; the
  message names the grid point and realization and says that finished tasks are kept
  and how to resume.  Exit code 1.
* :class:`SweepInterrupted` -- a sweep was interrupted (Ctrl-C, SIGINT); a
  :class:`KeyboardInterrupt` whose message says what was saved.  Exit code 130.

Every class derives from :class:`DnpsimError`, and from the built-in exception a
caller would expect (``ValueError`` for bad input, ``RuntimeError`` for failed
computations), and is picklable so worker processes can report it.
"""

from __future__ import annotations

__all__ = ["DnpsimError", "SpecError", "UnitError", "ModelError", "ConvergenceError", "SweepResumeError",
           "SweepLockedError", "SweepTaskError", "SweepInterrupted", "shown"]


def _plain(value):
    """``value`` with numpy scalars and arrays turned into Python numbers and lists."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        if getattr(value, "size", 1) > 64:
            value = value.ravel()[:64]  # enough for the message, which is cut anyway
        return value.tolist()  # numpy scalar -> int/float/bool, array -> (nested) list
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def shown(value, limit: int = 80) -> str:
    """How an error message shows a value the user gave: its repr, with numpy scalars
    and arrays as plain numbers and lists (``3000000.0``, not
    ``np.float64(3000000.0)``), cut to about ``limit`` characters."""
    text = repr(_plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DnpsimError(Exception):
    """Base class of every error dnpsim raises on purpose."""


class _FieldError(DnpsimError, ValueError):
    """An error about one named input field: ``str(error)`` is ``"field: message"``."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def __reduce__(self):  # picklable, so worker processes can report it
        return (type(self), (self.field, self.message))


class SpecError(_FieldError):
    """An invalid spec, option or argument; ``field`` is the dotted key at fault."""


class UnitError(SpecError):
    """A quantity has the wrong unit or cannot be parsed; ``field`` names it."""


class ModelError(_FieldError):
    """Physically impossible or inconsistent model / environment parameters;
    ``field`` names the parameter (as its spec key, e.g. ``"model.couplings"``)."""


class ConvergenceError(DnpsimError, RuntimeError):
    """A solver did not reach its tolerance; ``residual`` says how far it got."""

    def __init__(self, message: str, residual: float):
        self.message = message
        self.residual = residual
        super().__init__(f"{message} (residual {residual:.3e})")

    def __reduce__(self):
        return (type(self), (self.message, self.residual))


class SweepResumeError(DnpsimError, RuntimeError):
    """The parts directory of a sweep's output holds results that cannot be resumed
    here (another spec, or an unreadable fingerprint)."""


class SweepLockedError(SweepResumeError):
    """Another sweep holds the lock on ``<output>.parts`` (it writes the same output);
    the message says which process holds it."""


class SweepTaskError(DnpsimError, RuntimeError):
    """A task of a sweep failed, or the worker process running it died (killed, out of
    memory).  The message names the grid point and realization, how many tasks are
    kept on disk, and how to resume; ``__cause__`` is the task's own exception."""


class SweepInterrupted(KeyboardInterrupt):
    """A sweep was interrupted (Ctrl-C, SIGINT); the message says how many tasks were
    saved and how to resume.  A :class:`KeyboardInterrupt`, so code that handles
    interrupts keeps working."""
