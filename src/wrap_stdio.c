/*
 * wrap_stdio.c — stdio output on tagged fds (work in progress).
 */
#include "writebehind.h"

void wb_stdio_init(void) WB_HIDDEN;
void wb_stdio_init(void)
{
}
