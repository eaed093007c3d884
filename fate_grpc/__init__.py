"""fate-grpc: multi-party federated-learning jobs over gRPC, compatible with FATE 2.x DAGs."""

__version__ = "0.1.0"
