"""theory layer of dnpsim (see docs/architecture.md)."""
