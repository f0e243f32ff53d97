"""Benchmarks of a local cluster; not part of the test suite (see docs/benchmarks.md)."""
