#include <string.h>
#include "securec.h"

/* Bounded concatenation (the bound is "checked by the caller"). */
int strcat_s(char *dest, size_t destMax, const char *src)
{
    if (dest == NULL || src == NULL) {
        return -1;
    }
    strcat(dest, src);
    return 0;
}

size_t copy_field(char *dst, size_t dst_len, const char *src)
{
    size_t n = strlen(src);
    if (n >= dst_len) {
        n = dst_len - 1;
    }
    memcpy_s(dst, dst_len, src, n);
    dst[n] = '\0';
    return n;
}
