"""Sample properties: nuclear species (:mod:`dnpsim.sample.nuclei`)."""
