"""dnpsim: simulation of dynamic nuclear polarization in disordered, interacting
electron-spin systems.

One import gives the whole public API::

    import dnpsim
    spec = dnpsim.load_spec("spec.toml")     # or a dict with the same keys
    result = dnpsim.run(spec)                 # one point -> dnpsim.Result
    dataset = dnpsim.sweep(spec_with_sweep)   # grids x realizations -> xarray.Dataset

* :func:`load_spec`, :func:`run`, :func:`sweep`, :func:`make_model` -- :mod:`dnpsim.api`;
* :class:`Result`, :class:`Enhancement` -- the one result type (:mod:`dnpsim.result`);
* method options :class:`RateEquation`, :class:`Nonsecular`, :class:`Hilbert`,
  :class:`FreeFermion`, :class:`Lindblad`, :class:`ZeemanRates`,
  :class:`KineticMonteCarlo` (:mod:`dnpsim.methods`);
* errors :class:`SpecError`, :class:`UnitError`, :class:`ModelError`,
  :class:`ConvergenceError`, :class:`SweepResumeError`, :class:`SweepLockedError`,
  :class:`SweepTaskError`, :class:`SweepInterrupted` (:mod:`dnpsim.errors`);
* for notebook work, the engines, each built from a model and method options:
  :class:`SpinTemperatureEngine` (2016), :class:`OpenSystemEngine` (2021),
  :class:`ExactAnderson` (2018), :class:`CrossEffectEngine` (Karabanov et al.), and
  their inputs :class:`DipolarElectrons`, :class:`ThermometerNucleus`,
  :class:`Environment`, :class:`OpenEnvironment`, :class:`BathTimescales`,
  :class:`AndersonLattice`, :class:`NuclearBath`, :class:`CrossEffectModel` (these load
  on first use, so ``import dnpsim`` stays fast);
* measured data: :func:`load_measurement` (CSV / TSV, NetCDF, DNPLab into one layout),
  :func:`compare` (a spec on the data's axis, with residuals) and :func:`fit` (spec
  parameters fitted by least squares) -- :mod:`dnpsim.data` (also loaded on first use).

Units at this boundary are those of the spec files: cyclic frequencies in Hz, times in
s, temperatures in K, or strings with units ("93.9 GHz", "1 us", "1.2 K").
"""

__version__ = "0.1.0"

from dnpsim.api import load_spec, make_model, run, sweep  # noqa: E402
from dnpsim.errors import (ConvergenceError, DnpsimError, ModelError, SpecError, SweepInterrupted,  # noqa: E402
                           SweepLockedError, SweepResumeError, SweepTaskError, UnitError)
from dnpsim.methods import (FreeFermion, Hilbert, KineticMonteCarlo, Lindblad, Nonsecular,  # noqa: E402
                            RateEquation, ZeemanRates)
from dnpsim.result import Enhancement, Result  # noqa: E402

#: Public names loaded on first use (module that defines them).
_LAZY = {
    "SpinTemperatureEngine": "dnpsim.experiments.spin_temperature",
    "OpenSystemEngine": "dnpsim.experiments.open_system",
    "ExactAnderson": "dnpsim.experiments.anderson",
    "CrossEffectEngine": "dnpsim.experiments.cross_effect",
    "DipolarElectrons": "dnpsim.models.electrons",
    "ThermometerNucleus": "dnpsim.models.electrons",
    "Environment": "dnpsim.dynamics.rates",
    "OpenEnvironment": "dnpsim.dynamics.jumps",
    "BathTimescales": "dnpsim.dynamics.jumps",
    "AndersonLattice": "dnpsim.models.anderson",
    "NuclearBath": "dnpsim.dynamics.free_fermion",
    "CrossEffectModel": "dnpsim.models.cross_effect",
    "load_measurement": "dnpsim.data.measured",
    "compare": "dnpsim.data.compare",
    "fit": "dnpsim.data.fit",
}

__all__ = [
    "__version__", "load_spec", "run", "sweep", "make_model", "Result", "Enhancement",
    "RateEquation", "Nonsecular", "Hilbert", "FreeFermion", "Lindblad", "ZeemanRates", "KineticMonteCarlo",
    "DnpsimError", "SpecError", "UnitError", "ModelError", "ConvergenceError", "SweepResumeError",
    "SweepLockedError", "SweepTaskError", "SweepInterrupted",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dnpsim' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
