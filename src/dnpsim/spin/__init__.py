"""spin layer of dnpsim (see DESIGN.md, Layers)."""
