/* The smallest C plugin: it answers every request with an empty 200. */
#include "wasmcluster.h"

uint64_t handle_request(void) { return wc_ctx_next(0, 0); }

#ifdef WITH_EXTRA
WC_EXPORT("extra") void extra(void) {}
#endif
