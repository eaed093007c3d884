"""The node's HTTP port: one aiohttp server on the node's event loop, sub-applications mounted by prefix."""
