/*
 * parse.h — layer 0: numbers and sizes from the environment or the command
 * line.  Shared by the library and the wrapper, so both accept the same words.
 */
#ifndef WB_PARSE_H
#define WB_PARSE_H

#include <stdbool.h>

/* Parses "4096"; false on anything else ("12abc", "-1", ""). */
bool wb_parse_uint(const char *s, unsigned long long *out);
/* Parses "64K", "1M", "1GiB", "4096"; false on anything else. */
bool wb_parse_size(const char *s, unsigned long long *out);

#endif
