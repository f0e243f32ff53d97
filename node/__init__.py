"""A stateless chat node: TCP and WebSocket clients, shared state in Redis."""
