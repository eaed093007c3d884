"""Two-party additive secret sharing for the SSHE linear models: fixed-point ring arithmetic (no I/O)."""
