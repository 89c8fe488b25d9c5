"""Tessera's benchmarks: each measures a part against a baseline taken in the same run."""
