"""Pure domain core (no I/O): DAG model and validation, status machines, ids, component specs."""
