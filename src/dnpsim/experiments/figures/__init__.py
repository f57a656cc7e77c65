"""experiments/figures layer of dnpsim (see DESIGN.md, Layers)."""
