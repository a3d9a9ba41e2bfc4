/* The whole lifecycle through the C API, errors and exit statuses.
 * usage: lifecycle STATE_ROOT ROOTFS BUNDLE_WITH_CONFIG */
#include "common.h"
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_and_wait(runc_context *ctx, const char *root, const char *id, const char *script, int want) {
    char *cfg = config_for(root, script);
    runc_create_opts o = opts_for(cfg);
    int pid = 0, status = -2;
    CHECK(runc_create(ctx, id, &o, &pid) == RUNC_ERROR_OK, "create %s: %s", id, runc_last_error());
    CHECK(pid > 0, "pid %d", pid);
    CHECK(runc_start(ctx, id) == RUNC_ERROR_OK, "start: %s", runc_last_error());
    CHECK(runc_wait(ctx, id, -1, &status) == RUNC_ERROR_OK, "wait: %s", runc_last_error());
    CHECK(status == want, "%s: status %d, want %d", id, status, want);
    CHECK(runc_delete(ctx, id, 0) == RUNC_ERROR_OK, "delete: %s", runc_last_error());
    free(cfg);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s STATE_ROOT ROOTFS BUNDLE\n", argv[0]);
        return 2;
    }
    const char *state = argv[1], *root = argv[2], *bundle = argv[3];
    char *json = NULL;
    runc_context *ctx = NULL;

    CHECK(strcmp(runc_version(), "0.1.0") == 0 && RUNC_VERSION_MAJOR == 0, "version %s", runc_version());
    CHECK(runc_spec_default(0, &json) == RUNC_ERROR_OK && strstr(json, "\"ociVersion\": \"1.3.0\""), "spec");
    runc_free(json);
    CHECK(runc_features(&json) == RUNC_ERROR_OK && strstr(json, "\"createRuntime\""), "features");
    runc_free(json);
    CHECK(runc_context_new(state, &ctx) == RUNC_ERROR_OK, "context: %s", runc_last_error());

    /* exit statuses, from a bundle directory and from in-memory configs */
    runc_create_opts ob;
    memset(&ob, 0, sizeof ob);
    ob.size = sizeof ob;
    ob.bundle = bundle;
    int status = -2;
    CHECK(runc_create(ctx, "from-bundle", &ob, NULL) == RUNC_ERROR_OK, "bundle create: %s", runc_last_error());
    CHECK(runc_start(ctx, "from-bundle") == 0 && runc_wait(ctx, "from-bundle", -1, &status) == 0 && status == 7, "bundle status %d", status);
    CHECK(runc_delete(ctx, "from-bundle", 0) == RUNC_ERROR_OK, "%s", runc_last_error());
    /* Started by another process (through the start socket) while this one
     * still holds the creator's channel: our own start then says why not. */
    CHECK(runc_create(ctx, "elsewhere", &ob, NULL) == RUNC_ERROR_OK, "create: %s", runc_last_error());
    pid_t child = fork();
    if (child == 0) {
        runc_context *other = NULL;
        _exit(runc_context_new(state, &other) == RUNC_ERROR_OK && runc_start(other, "elsewhere") == RUNC_ERROR_OK ? 0 : 1);
    }
    int cs = 0;
    CHECK(child > 0 && waitpid(child, &cs, 0) == child && WIFEXITED(cs) && WEXITSTATUS(cs) == 0, "start from another process");
    CHECK(runc_wait(ctx, "elsewhere", -1, &status) == RUNC_ERROR_OK && status == 7, "elsewhere status %d", status);
    CHECK(runc_start(ctx, "elsewhere") == RUNC_ERROR_STATE, "second start: %s", runc_last_error());
    CHECK(strstr(runc_last_error(), "cannot start a container that has stopped") != NULL, "%s", runc_last_error());
    CHECK(runc_delete(ctx, "elsewhere", 0) == RUNC_ERROR_OK, "%s", runc_last_error());
    run_and_wait(ctx, root, "exit0", "exit 0", 0);
    run_and_wait(ctx, root, "exit3", "exit 3", 3);

    {
        /* runc_run: created and started in one call; the state says running */
        char *cfg = config_for(root, "sleep 100");
        runc_create_opts orun = opts_for(cfg);
        int rpid = 0;
        CHECK(runc_run(ctx, "ran", &orun, &rpid) == RUNC_ERROR_OK && rpid > 0, "run: %s", runc_last_error());
        CHECK(runc_state(ctx, "ran", &json) == RUNC_ERROR_OK && strstr(json, "\"status\":\"running\"") != NULL, "run state %s", json ? json : runc_last_error());
        runc_free(json);
        CHECK(runc_start(ctx, "ran") == RUNC_ERROR_STATE, "start after run: %s", runc_last_error());
        CHECK(runc_kill(ctx, "ran", SIGKILL, 0) == RUNC_ERROR_OK, "kill: %s", runc_last_error());
        CHECK(runc_wait(ctx, "ran", -1, &status) == RUNC_ERROR_OK && status == 128 + SIGKILL, "run status %d", status);
        CHECK(runc_delete(ctx, "ran", 0) == RUNC_ERROR_OK, "%s", runc_last_error());
        free(cfg);
        /* an exec that fails after set-up comes back as the error, nothing left */
        cfg = config_for(root, "exit 0");
        const char *from = "\"args\":[\"sh\",\"-c\",\"exit 0\"]";
        char *p = strstr(cfg, from);
        CHECK(p != NULL, "args in %s", cfg);
        char *bad_cfg = malloc(strlen(cfg) + 1);
        sprintf(bad_cfg, "%.*s\"args\":[\"/etc/passwd\"]%s", (int)(p - cfg), cfg, p + strlen(from));
        orun = opts_for(bad_cfg);
        CHECK(runc_run(ctx, "ranbad", &orun, NULL) == RUNC_ERROR_INIT, "bad run: %s", runc_last_error());
        CHECK(strstr(runc_last_error(), "permission denied") != NULL, "%s", runc_last_error());
        CHECK(runc_state(ctx, "ranbad", &json) == RUNC_ERROR_NOT_FOUND, "left behind");
        free(bad_cfg);
        free(cfg);
    }

    /* errors */
    CHECK(runc_create(ctx, "../escape", &ob, NULL) == RUNC_ERROR_INVALID_ARGUMENT, "bad id");
    CHECK(strstr(runc_last_error(), "invalid container id") != NULL, "%s", runc_last_error());
    runc_create_opts bad = ob;
    bad.bundle = "/nonexistent-bundle";
    CHECK(runc_create(ctx, "nobundle", &bad, NULL) == RUNC_ERROR_CONFIG, "%s", runc_last_error());
    CHECK(runc_start(ctx, "unknown") == RUNC_ERROR_NOT_FOUND, "%s", runc_last_error());
    CHECK(strstr(runc_last_error(), "container does not exist") != NULL, "%s", runc_last_error());
    json = (char *)"stale";
    CHECK(runc_state(ctx, "unknown", &json) == RUNC_ERROR_NOT_FOUND && json == NULL, "a failed call leaves its output NULL");
    CHECK(runc_create(ctx, NULL, &ob, NULL) == RUNC_ERROR_INVALID_ARGUMENT, "NULL id");
    CHECK(runc_create(ctx, "x", NULL, NULL) == RUNC_ERROR_INVALID_ARGUMENT, "NULL opts");
    CHECK(runc_state(NULL, "x", &json) == RUNC_ERROR_INVALID_ARGUMENT, "NULL ctx");
    CHECK(runc_kill(ctx, "x", 999, 0) == RUNC_ERROR_INVALID_ARGUMENT, "bad signal");
    char badutf[] = {'a', (char)0xff, 0};
    CHECK(runc_start(ctx, badutf) == RUNC_ERROR_INVALID_ARGUMENT && strstr(runc_last_error(), "UTF-8"), "%s", runc_last_error());
    char *cfg_broken = "{\"ociVersion\": ";
    runc_create_opts ob2 = opts_for(cfg_broken);
    CHECK(runc_create(ctx, "broken", &ob2, NULL) == RUNC_ERROR_CONFIG, "broken json: %s", runc_last_error());

    /* duplicate id, state, kill, timeout, exec, list, pause/update/stats */
    char *cfg = config_for(root, "sleep 100");
    runc_create_opts o = opts_for(cfg);
    int pid = 0;
    CHECK(runc_create(ctx, "long", &o, &pid) == RUNC_ERROR_OK, "%s", runc_last_error());
    CHECK(runc_create(ctx, "long", &o, NULL) == RUNC_ERROR_EXISTS, "duplicate: %s", runc_last_error());
    CHECK(runc_state(ctx, "long", &json) == 0 && strstr(json, "\"status\":\"created\""), "state %s", json);
    runc_free(json);
    CHECK(runc_start(ctx, "long") == RUNC_ERROR_OK, "%s", runc_last_error());
    CHECK(runc_wait(ctx, "long", 50, &status) == RUNC_ERROR_TIMEOUT, "wait timeout");
    CHECK(runc_wait(ctx, "long", 0, &status) == RUNC_ERROR_TIMEOUT, "wait poll");
    int epid = 0;
    CHECK(runc_exec(ctx, "long", "{\"args\":[\"sh\",\"-c\",\"exit 5\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"]}", NULL, &epid) == 0, "exec: %s", runc_last_error());
    int est = 0;
    CHECK(epid > 0 && waitpid(epid, &est, 0) == epid && WIFEXITED(est) && WEXITSTATUS(est) == 5, "exec status %d", est);
    CHECK(runc_exec(ctx, "long", "{\"args\":[\"/nope\"],\"cwd\":\"/\"}", NULL, NULL) == RUNC_ERROR_INIT, "exec missing");
    CHECK(strstr(runc_last_error(), "stat /nope: no such file or directory") != NULL, "%s", runc_last_error());
    CHECK(runc_list(ctx, &json) == 0 && strstr(json, "\"id\":\"long\""), "list");
    runc_free(json);
    CHECK(runc_pause(ctx, "long") == 0, "pause: %s", runc_last_error());
    CHECK(runc_state(ctx, "long", &json) == 0 && strstr(json, "\"paused\""), "paused");
    runc_free(json);
    CHECK(runc_resume(ctx, "long") == 0, "resume: %s", runc_last_error());
    CHECK(runc_update(ctx, "long", "{\"pids\":{\"limit\":33}}") == 0, "update: %s", runc_last_error());
    CHECK(runc_stats(ctx, "long", &json) == 0 && strstr(json, "\"limit\":33"), "stats %s", json);
    runc_free(json);
    CHECK(runc_delete(ctx, "long", 0) == RUNC_ERROR_STATE, "delete running");
    CHECK(runc_kill(ctx, "long", SIGKILL, 0) == 0, "%s", runc_last_error());
    CHECK(runc_wait(ctx, "long", -1, &status) == 0 && status == 137, "killed status %d", status);
    CHECK(runc_kill(ctx, "long", SIGTERM, 0) == RUNC_ERROR_STATE && strstr(runc_last_error(), "container not running"), "%s", runc_last_error());
    CHECK(runc_delete(ctx, "long", 0) == 0, "%s", runc_last_error());
    CHECK(runc_delete(ctx, "long", 1) == 0, "delete --force of a missing container");
    free(cfg);

    /* stdio passed as fds */
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    cfg = config_for(root, "echo out-$((6*7)); echo err >&2");
    o = opts_for(cfg);
    o.flags = RUNC_STDIO_FDS;
    o.stdin_fd = p[0];
    o.stdout_fd = p[1];
    o.stderr_fd = p[1];
    CHECK(runc_create(ctx, "stdio", &o, NULL) == 0 && runc_start(ctx, "stdio") == 0, "%s", runc_last_error());
    close(p[1]);
    CHECK(runc_wait(ctx, "stdio", -1, &status) == 0 && status == 0, "stdio status");
    char buf[64] = {0};
    ssize_t n = 0, r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += r;
    CHECK(strcmp(buf, "out-42\nerr\n") == 0, "stdio got %s", buf);
    close(p[0]);
    runc_delete(ctx, "stdio", 1);
    free(cfg);

    runc_context_free(ctx);
    return finish();
}
