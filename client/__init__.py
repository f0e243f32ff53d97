"""Chat clients. The console client and the browser page arrive with the clients issue;
until then any line client (`nc HOST 10000`) or WebSocket client on `/ws` works."""
