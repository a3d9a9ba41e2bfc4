/* A full lifecycle must leave the caller's process as it was: signal mask
 * and handlers, subreaper flag, cwd, umask, rlimits, environment, open fds.
 * usage: sideeffects STATE_ROOT ROOTFS */
#include "common.h"
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

struct snapshot {
    sigset_t mask;
    struct sigaction act[65];
    int subreaper;
    char cwd[4096];
    mode_t umask;
    struct rlimit nofile;
    int nenv;
    char fds[4096];
};

static void on_usr1(int s) { (void)s; }

static void take(struct snapshot *s) {
    memset(s, 0, sizeof *s);
    pthread_sigmask(SIG_SETMASK, NULL, &s->mask);
    for (int i = 1; i < 65; i++) sigaction(i, NULL, &s->act[i]);
    prctl(PR_GET_CHILD_SUBREAPER, &s->subreaper);
    if (!getcwd(s->cwd, sizeof s->cwd)) s->cwd[0] = 0;
    s->umask = umask(0);
    umask(s->umask);
    getrlimit(RLIMIT_NOFILE, &s->nofile);
    while (environ[s->nenv]) s->nenv++;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (atoi(e->d_name) != dirfd(d)) {
            strcat(s->fds, e->d_name);
            strcat(s->fds, " ");
        }
    }
    closedir(d);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s STATE_ROOT ROOTFS\n", argv[0]);
        return 2;
    }
    /* Give the process some state the library must not touch. */
    signal(SIGUSR1, on_usr1);
    signal(SIGPIPE, SIG_IGN);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &m, NULL);
    umask(027);
    chdir("/tmp");
    struct snapshot before, after;
    runc_context *ctx = NULL;
    CHECK(runc_context_new(argv[1], &ctx) == 0, "%s", runc_last_error());
    CHECK(run_one(ctx, argv[2], "warmup", "exit 0") == 0, "warm-up: %s", runc_last_error());
    take(&before);

    char *cfg = config_for(argv[2], "exit 4");
    runc_create_opts o = opts_for(cfg);
    int status = -1;
    CHECK(runc_create(ctx, "side", &o, NULL) == 0 && runc_start(ctx, "side") == 0, "%s", runc_last_error());
    CHECK(runc_wait(ctx, "side", -1, &status) == 0 && status == 4, "status %d", status);
    CHECK(runc_delete(ctx, "side", 0) == 0, "%s", runc_last_error());
    runc_context_free(ctx);
    free(cfg);

    take(&after);
    CHECK(memcmp(&before.mask, &after.mask, sizeof before.mask) == 0, "signal mask changed");
    for (int i = 1; i < 65; i++)
        CHECK(before.act[i].sa_handler == after.act[i].sa_handler && before.act[i].sa_flags == after.act[i].sa_flags, "handler of signal %d changed", i);
    CHECK(before.subreaper == after.subreaper, "subreaper changed");
    CHECK(strcmp(before.cwd, after.cwd) == 0, "cwd %s -> %s", before.cwd, after.cwd);
    CHECK(before.umask == after.umask, "umask changed");
    CHECK(before.nofile.rlim_cur == after.nofile.rlim_cur && before.nofile.rlim_max == after.nofile.rlim_max, "rlimit changed");
    CHECK(before.nenv == after.nenv, "environment changed");
    CHECK(strcmp(before.fds, after.fds) == 0, "fds [%s] -> [%s]", before.fds, after.fds);
    return finish();
}
