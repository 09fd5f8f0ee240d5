#ifndef XZ_CHIREDIS_SHIM_H
#define XZ_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
