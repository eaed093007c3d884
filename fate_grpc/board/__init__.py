"""The board: a read-only web UI of this node's jobs, served under /board/ on the node's HTTP port."""

from fate_grpc.board.app import board_app

__all__ = ["board_app"]
