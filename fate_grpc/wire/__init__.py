"""Records and Python values to protobuf messages and back; errors decoded from gRPC metadata."""
