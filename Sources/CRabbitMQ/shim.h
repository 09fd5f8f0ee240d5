#ifndef XZ_CRABBITMQ_SHIM_H
#define XZ_CRABBITMQ_SHIM_H
/* librabbitmq 0.11 installs flat headers. */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

/* amqp_login is variadic, which Swift cannot call: a fixed-arity wrapper for PLAIN auth. */
static inline amqp_rpc_reply_t xz_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                   int channel_max, int frame_max, int heartbeat,
                                                   const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

/* The same with client properties (e.g. connection_name), merged by the library into its defaults. */
static inline amqp_rpc_reply_t xz_amqp_login_plain_with_properties(amqp_connection_state_t state, const char *vhost,
                                                                   int channel_max, int frame_max, int heartbeat,
                                                                   const amqp_table_t *properties,
                                                                   const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}
#endif
