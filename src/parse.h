/*
 * parse.h — layer 0: the words every setting is written in, and their limits.
 *
 * One object (parse.c) linked into both the library and the wrapper, so a
 * value the wrapper accepts is a value the library accepts, and both name
 * the same limits in their messages.  Nothing here allocates, prints or
 * touches errno's meaning for the caller: each parser says yes or no.
 */
#ifndef WRITEBEHIND_PARSE_H
#define WRITEBEHIND_PARSE_H

#include <stdbool.h>

/* Limits of the settings, and how messages spell them. */
#define WB_LIMIT_BUFSIZE (1ULL << 30)
#define WB_LIMIT_BUFSIZE_TEXT "1 to 1G"
#define WB_LIMIT_MEMORY (1ULL << 40)
#define WB_LIMIT_MEMORY_TEXT "1 to 1T"
#define WB_LIMIT_FLUSH_MS 3600000ULL
#define WB_LIMIT_FLUSH_MS_TEXT "1 to 3600000"
#define WB_LIMIT_FD (1 << 20)   /* fds at or above this are never buffered */

/* The words a yes/no setting accepts (case does not matter). */
#define WB_BOOL_WORDS "1/0, yes/no, true/false, on/off"

/* A decimal number: "12abc", "-1", " 1" and "" are refused. */
bool wb_parse_uint(const char *s, unsigned long long *out);
/* A number of bytes with an optional K, M, G or T suffix (powers of 1024;
   "64K", "1M", "1MiB", "1T"). */
bool wb_parse_size(const char *s, unsigned long long *out);
/* 1 for 1/yes/true/on, 0 for 0/no/false/off, -1 for anything else
   (the empty string included: an empty value is a mistake, not a "no"). */
int wb_parse_bool(const char *s);
/* "prog,prog": program names, none empty, none containing '/'. */
bool wb_parse_names(const char *s);
/* Whether name is one of the comma-separated names in list. */
bool wb_names_contain(const char *list, const char *name);

#endif
