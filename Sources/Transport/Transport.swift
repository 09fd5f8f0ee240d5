/// Sockets, TLS, the event loop and WebSocket sessions.
