/* The one glibc-only symbol Debian's libseccomp.a needs (from its
 * _FORTIFY_SOURCE build) when it is linked into the static musl runc. */
#include <stdarg.h>

struct _IO_FILE;
int vfprintf(struct _IO_FILE *f, const char *fmt, va_list ap);

int __fprintf_chk(struct _IO_FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    int r;
    (void)flag;
    va_start(ap, fmt);
    r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}
