"""Pure numpy cores of FATE's feature-engineering and evaluation components (no I/O, no networking)."""
