"""One module per ``model.kind`` of the spec contract (see :mod:`dnpsim.spec`)."""
