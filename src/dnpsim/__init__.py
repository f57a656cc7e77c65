"""dnpsim: simulation of dynamic nuclear polarization in disordered, interacting
electron-spin systems.

Engines (DESIGN.md, "The four engines"): the spin-temperature engine of De Luca et
al., PRB 94, 014203 (2016) is in :mod:`dnpsim.experiments.spin_temperature`; models,
rates and observables live in their own layers (:mod:`dnpsim.models`,
:mod:`dnpsim.dynamics`, :mod:`dnpsim.observables`).
"""

__version__ = "0.1.0"
