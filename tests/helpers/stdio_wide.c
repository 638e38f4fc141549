/* stdio_wide — wide output (wprintf, fputws, putwchar, fwprintf on a file), pure
   or after byte output; prints every return value. Run in a scratch dir with
   >FILE 2>&1.  stdio_wide [mixed] */
#define _GNU_SOURCE
#include <stdio.h>
#include <wchar.h>
#include <locale.h>
#include <string.h>
int main(int argc, char **argv)
{
 setlocale(LC_ALL, "C.UTF-8");
 if (argc > 1 && !strcmp(argv[1], "mixed")) { printf("byte first\n"); }
 int r1 = wprintf(L"wide %d %ls\n", 42, L"h\u00e9llo"); int r2 = fputws(L"fputws line\n", stdout); wint_t r3 = putwchar(L'x'); putwchar(L'\n'); int r4 = fwprintf(stdout, L"fwprintf %s\n", "narrow-arg");
 FILE *f=fopen("wide_out.txt","w"); int r5 = fwprintf(f, L"file %d \u00fc\n", 7); fputwc(L'Z', f); int o = fwide(f,0); fclose(f);
 fprintf(stderr, "r1=%d r2=%d r3=%d r4=%d r5=%d fwide=%d fwide(stdout)=%d\n", r1, r2, (int)r3, r4, r5, o, fwide(stdout, 0)); return 0;}
