// writeFileAtomic, registered on the syncvisor_fs addon's exports by fslock.c (atomicWrite.c).
#ifndef SYNCVISOR_ATOMIC_WRITE_H
#define SYNCVISOR_ATOMIC_WRITE_H
#include <node_api.h>

napi_status register_atomic_write(napi_env env, napi_value exports);

#endif
