/* capi-loop: the C API rows of bench/run.sh. Runs BUNDLE N times through
 * librunc in one process (create, start, wait, delete; with "run": runc_run,
 * wait, delete) and prints the median and minimum time of one iteration in
 * milliseconds.
 *   capi-loop STATE_ROOT BUNDLE N [run] */
#include <runc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "loop-timing.h"

int main(int argc, char **argv) {
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "run") == 0)) {
        fprintf(stderr, "usage: capi-loop STATE_ROOT BUNDLE N [run]\n");
        return 2;
    }
    int run = argc == 5;
    int n = atoi(argv[3]);
    runc_context *ctx = NULL;
    if (n < 1 || runc_context_new(argv[1], &ctx) != RUNC_ERROR_OK) {
        fprintf(stderr, "capi-loop: %s\n", n < 1 ? "N must be positive" : runc_last_error());
        return 1;
    }
    runc_create_opts o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.bundle = argv[2];
    double *t = calloc(n, sizeof *t);
    for (int i = 0; i < n; i++) {
        int status = -1;
        double t0 = now_ms();
        int started = run ? runc_run(ctx, "capi-loop", &o, NULL)
                          : runc_create(ctx, "capi-loop", &o, NULL) || runc_start(ctx, "capi-loop");
        if (started || runc_wait(ctx, "capi-loop", -1, &status) || runc_delete(ctx, "capi-loop", 0)) {
            fprintf(stderr, "capi-loop: iteration %d: %s\n", i, runc_last_error());
            runc_delete(ctx, "capi-loop", 1);
            return 1;
        }
        t[i] = now_ms() - t0;
        if (status != 0) {
            fprintf(stderr, "capi-loop: container exited %d\n", status);
            return 1;
        }
    }
    print_median_min(t, n);
    runc_context_free(ctx);
    free(t);
    return 0;
}
