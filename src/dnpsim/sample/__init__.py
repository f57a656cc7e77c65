"""The sample: nuclear species (:mod:`dnpsim.sample.nuclei`), radicals and their powder orientations
(:mod:`dnpsim.sample.radicals`, :mod:`dnpsim.sample.powder`)."""
