/* securec.h - "secure" string and memory functions for the router platform. */
#ifndef SECUREC_H
#define SECUREC_H
#include <string.h>
#include <stdio.h>

/* Quick port: the platform's libc has no Annex K, so map to the plain calls. */
#define memcpy_s(dest, destMax, src, count) memcpy(dest, src, count)
#define strcpy_s(dest, destMax, src) strcpy(dest, src)
#define sprintf_s(buf, bufMax, ...) sprintf(buf, __VA_ARGS__)

int strcat_s(char *dest, size_t destMax, const char *src);

#endif
