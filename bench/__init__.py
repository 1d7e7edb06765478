"""Benchmarks of trapheus workflows on the local engine (run the modules as scripts; never timed tests)."""
