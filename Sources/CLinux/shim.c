#include "CLinux.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

int clinux_release_free_memory(void) {
#ifdef __GLIBC__
    return malloc_trim(0);
#else
    return 0;  // other C libraries give freed memory back on their own terms
#endif
}
