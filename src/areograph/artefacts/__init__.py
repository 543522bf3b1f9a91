"""The ground floor: value types, error types and the on-disk contracts passed between steps.

Every file one step writes and another reads is named here once, with its reader and writer, so a
rule, an adapter or a module never spells a file name itself. This package imports nothing else of
areograph (see docs/architecture.md for the layer order, enforced by tests/test_architecture.py).
"""
