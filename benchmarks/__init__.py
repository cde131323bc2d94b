"""Benchmarks of the ews pipeline (speed and memory: README.md here), and the local cluster they can run on."""
