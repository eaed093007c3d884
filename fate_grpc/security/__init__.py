"""Transport security, identities, client authentication and permissions."""
