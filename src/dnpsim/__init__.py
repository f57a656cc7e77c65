"""dnpsim: simulation of dynamic nuclear polarization in disordered, interacting
electron-spin systems.

One import gives the whole public API::

    import dnpsim
    spec = dnpsim.load_spec("spec.toml")     # or a dict with the same keys
    result = dnpsim.run(spec)                 # one point -> dnpsim.Result
    dataset = dnpsim.sweep(spec_with_sweep)   # grids x realizations -> xarray.Dataset

* :func:`load_spec`, :func:`run`, :func:`sweep` -- :mod:`dnpsim.api`;
* :class:`Result`, :class:`Enhancement` -- the one result type (:mod:`dnpsim.result`);
* method options :class:`RateEquation`, :class:`Nonsecular`, :class:`Hilbert`,
  :class:`FreeFermion`, :class:`Lindblad`, :class:`ZeemanRates`,
  :class:`KineticMonteCarlo` (:mod:`dnpsim.methods`);
* errors :class:`SpecError`, :class:`UnitError`, :class:`ModelError`,
  :class:`ConvergenceError`, :class:`SweepResumeError` (:mod:`dnpsim.errors`).

Units at this boundary are those of the spec files: cyclic frequencies in Hz, times in
s, temperatures in K, or strings with units ("93.9 GHz", "1 us", "1.2 K").
"""

__version__ = "0.1.0"

from dnpsim.api import load_spec, run, sweep  # noqa: E402
from dnpsim.errors import (ConvergenceError, DnpsimError, ModelError, SpecError, SweepResumeError,  # noqa: E402
                           UnitError)
from dnpsim.methods import (FreeFermion, Hilbert, KineticMonteCarlo, Lindblad, Nonsecular,  # noqa: E402
                            RateEquation, ZeemanRates)
from dnpsim.result import Enhancement, Result  # noqa: E402

__all__ = [
    "__version__", "load_spec", "run", "sweep", "Result", "Enhancement",
    "RateEquation", "Nonsecular", "Hilbert", "FreeFermion", "Lindblad", "ZeemanRates", "KineticMonteCarlo",
    "DnpsimError", "SpecError", "UnitError", "ModelError", "ConvergenceError", "SweepResumeError",
]
