/*
 * parse.c — layer 0: numbers and sizes from the environment or the command line.
 * Shared by the library and the wrapper, so both accept the same words.
 * strtoull with the end checked: "12abc", "-1" and "" are refused.
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

bool wb_parse_uint(const char *s, unsigned long long *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool wb_parse_size(const char *s, unsigned long long *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (shift && (*end == 'i' || *end == 'I'))
        end++;
    if (shift && (*end == 'b' || *end == 'B'))
        end++;
    if (*end || (shift && v > (~0ULL >> shift)))
        return false;
    *out = v << shift;
    return true;
}

