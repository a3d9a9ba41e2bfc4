/* Shared helpers of the C API tests: checks, a config builder, a result line. */
#ifndef CAPI_COMMON_H
#define CAPI_COMMON_H
#include <runc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, passes;
#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            failures++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
        } else {                                                                  \
            passes++;                                                             \
        }                                                                         \
    } while (0)

/* A config running `sh -c SCRIPT` in ROOTFS (absolute), no terminal. */
static inline char *config_for(const char *rootfs, const char *script) {
    static const char fmt[] =
        "{\"ociVersion\":\"1.3.0\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
        "\"args\":[\"sh\",\"-c\",\"%s\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"},"
        "\"root\":{\"path\":\"%s\"},\"hostname\":\"capi\","
        "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
        "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}]}}";
    size_t n = sizeof fmt + strlen(rootfs) + strlen(script);
    char *s = malloc(n);
    snprintf(s, n, fmt, script, rootfs);
    return s;
}

static inline runc_create_opts opts_for(const char *config) {
    runc_create_opts o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.config_json = config;
    return o;
}

/* Runs one container: the library keeps one fd from then on (the sealed
 * init program, close-on-exec), so fd counts are compared after this. */
static inline int run_one(runc_context *ctx, const char *rootfs, const char *id, const char *script) {
    char *cfg = config_for(rootfs, script);
    runc_create_opts o = opts_for(cfg);
    int status = -1;
    if (runc_create(ctx, id, &o, NULL) || runc_start(ctx, id) || runc_wait(ctx, id, -1, &status) || runc_delete(ctx, id, 0))
        status = -1;
    free(cfg);
    return status;
}

static inline int finish(void) {
    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
#endif
