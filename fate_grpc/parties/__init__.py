"""Other parties as this node sees them: the gateway that calls their nodes and the cache of job DAGs."""
