"""What an operator sees of a node: health, metrics, structured logs."""
