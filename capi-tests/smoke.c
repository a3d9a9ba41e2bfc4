/* Smoke test of the C API: version, default spec, errors, a real container.
 * usage: smoke STATE_ROOT BUNDLE   (BUNDLE's process must `exit 7`) */
#include <runc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, passes;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } else { passes++; printf("ok: %s\n", #cond); } } while (0)

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s STATE_ROOT BUNDLE\n", argv[0]);
        return 2;
    }
    CHECK(strlen(runc_version()) > 0, "empty version");

    char *spec = NULL;
    CHECK(runc_spec_default(0, &spec) == RUNC_ERROR_OK, "spec: %s", runc_last_error());
    CHECK(spec && strstr(spec, "\"ociVersion\": \"1.3.0\""), "spec content");
    runc_free(spec);

    RuncContext *ctx = NULL;
    CHECK(runc_context_new(argv[1], &ctx) == RUNC_ERROR_OK && ctx, "context: %s", runc_last_error());

    int status = -1;
    int rc = runc_run(ctx, "../escape", argv[2], &status);
    CHECK(rc == RUNC_ERROR_INVALID_ARGUMENT, "bad id gave %d", rc);
    CHECK(strstr(runc_last_error(), "invalid container id") != NULL, "message: %s", runc_last_error());

    rc = runc_run(ctx, "smoke", "/nonexistent-bundle", &status);
    CHECK(rc == RUNC_ERROR_CONFIG, "missing bundle gave %d (%s)", rc, runc_last_error());

    rc = runc_run(ctx, NULL, argv[2], &status);
    CHECK(rc == RUNC_ERROR_INVALID_ARGUMENT, "NULL id gave %d", rc);

    rc = runc_run(ctx, "smoke", argv[2], &status);
    CHECK(rc == RUNC_ERROR_OK, "run: %s", runc_last_error());
    CHECK(status == 7, "exit status %d", status);

    runc_context_free(ctx);
    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
