#ifndef XZ_CLIBPQ_SHIM_H
#define XZ_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
