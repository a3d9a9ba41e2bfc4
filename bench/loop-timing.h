/* loop-timing.h: the clock and the summary line shared by the bench's
 * in-process loops (capi-loop.c, floor.c -n). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_ms(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints "MEDIAN MIN" of the n times (ms) on one line; sorts t. */
static void print_median_min(double *t, int n) {
    qsort(t, n, sizeof *t, cmp_ms);
    printf("%.3f %.3f\n", t[n / 2], t[0]);
}
