"""Benchmarks (``make bench``): speed against a reference measured in the same run."""
