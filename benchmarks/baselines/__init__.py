"""Baseline implementations the benchmarks time the package against (not part of the package)."""
