#ifndef XZ_CHIREDIS_SHIM_H
#define XZ_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
/* The Glibc module leaves out epoll and eventfd; the Redis client's event loop needs both. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
