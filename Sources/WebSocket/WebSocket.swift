/// RFC 6455 codec and opening handshake, free of I/O.
