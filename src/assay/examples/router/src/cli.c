#include <string.h>
#include <stdio.h>
#include "securec.h"

void set_hostname(char *dst, size_t dst_size, const char *name)
{
    memcpy_s(dst, dst_size, name, strlen(name) + 1);
}

void set_banner(char *dst, size_t dst_size, const char *text)
{
    strcat_s(dst, dst_size, text);
    sprintf_s(dst, dst_size, "%s", text);
}
