"""The functional core: pure trading logic, standard library only (see docs/architecture.md)."""
