"""Benchmarks: scripts that print our figures next to a baseline measured in the same run."""
