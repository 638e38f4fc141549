/*
 * parse.c — layer 0: numbers, sizes, yes/no words and program names, from the
 * environment or the command line.  Linked into the library and the
 * wrapper alike (see parse.h), so both accept exactly the same words.
 * strtoull with the end checked: "12abc", "-1" and "" are refused.
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The decimal number s starts with (*end: what follows it); false for no
   digit or an overflow.  errno is left as it was. */
static bool leading_number(const char *s, unsigned long long *v, char **end)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    int saved = errno;
    errno = 0;
    *v = strtoull(s, end, 10);
    bool overflow = errno != 0;
    errno = saved;
    return !overflow;
}

bool wb_parse_uint(const char *s, unsigned long long *out)
{
    unsigned long long v;
    char *end;
    if (!leading_number(s, &v, &end) || *end)
        return false;
    *out = v;
    return true;
}

bool wb_parse_size(const char *s, unsigned long long *out)
{
    unsigned long long v;
    char *end;
    if (!leading_number(s, &v, &end))
        return false;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
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

int wb_parse_bool(const char *s)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "0", "no", "false", "off" };
    if (!s)
        return -1;
    for (unsigned i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcasecmp(s, yes[i]))
            return 1;
        if (!strcasecmp(s, no[i]))
            return 0;
    }
    return -1;
}

bool wb_parse_names(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || memchr(p, '/', len))
            return false;
        p += len;
        if (!*p)
            return true;
    }
}

bool wb_names_contain(const char *list, const char *name)
{
    if (!list || !name || !*name)
        return false;
    size_t want = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == want && !memcmp(p, name, len))
            return true;
        p += len;
        if (*p)
            p++;
    }
    return false;
}
