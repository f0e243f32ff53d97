"""Developer tooling: find or start a Redis server, run a local cluster of nodes."""
