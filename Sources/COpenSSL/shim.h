#ifndef XZ_COPENSSL_SHIM_H
#define XZ_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
/* The Glibc module leaves out epoll and eventfd; the transport's event loop needs both. */
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* Function-like macros are not imported into Swift: fixed wrappers. */
static inline long xz_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline int xz_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long xz_SSL_set_mode(SSL *ssl, long mode) {
    return SSL_set_mode(ssl, mode);
}
static inline long xz_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
/* Treat a TCP close without close_notify as end of stream; the WebSocket layer judges it. */
static inline void xz_SSL_CTX_ignore_unexpected_eof(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
}
/* Client sessions are kept by the transport, per server, for resumption; not in OpenSSL's own store. */
static inline long xz_SSL_CTX_keep_client_sessions(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
}
/* The reason string of the oldest queued error, or NULL. */
static inline const char *xz_ERR_reason(unsigned long code) {
    return ERR_reason_error_string(code);
}
#endif
