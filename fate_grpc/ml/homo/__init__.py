"""Horizontal (homo) logistic regression: the local model and training step, and the FedAvg reference."""
