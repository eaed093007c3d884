"""Helpers shared by the federated model components (coordinated_lr/linr, hetero_secureboost)."""
