/* 8 threads each run 25 containers (create, start, wait, delete) while 4
 * threads hammer malloc/free, stdio and setenv. Every status must be right,
 * nothing may deadlock, and no fd or child may be left.
 * usage: threads STATE_ROOT ROOTFS */
#include "common.h"
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 8
#define PER_WORKER 25
static const char *root;
static runc_context *ctx;
static volatile int stop;
static int bad[WORKERS];

static int count_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void *worker(void *arg) {
    long w = (long)arg;
    for (int i = 0; i < PER_WORKER; i++) {
        char id[64], script[32];
        int want = (int)((w * PER_WORKER + i) % 200);
        snprintf(id, sizeof id, "t%ld-%d", w, i);
        snprintf(script, sizeof script, "exit %d", want);
        char *cfg = config_for(root, script);
        runc_create_opts o = opts_for(cfg);
        int status = -1;
        if (runc_create(ctx, id, &o, NULL) || runc_start(ctx, id) || runc_wait(ctx, id, -1, &status) || runc_delete(ctx, id, 0) || status != want) {
            fprintf(stderr, "worker %ld container %d: status %d want %d: %s\n", w, i, status, want, runc_last_error());
            bad[w]++;
        }
        free(cfg);
    }
    return NULL;
}

static void *noise(void *arg) {
    long k = (long)arg;
    char name[32];
    snprintf(name, sizeof name, "NOISE_%ld", k);
    FILE *devnull = fopen("/dev/null", "w");
    while (!stop) {
        void *p = malloc(1000 + k * 100);
        memset(p, 1, 1000);
        fprintf(devnull, "%p %s\n", p, name);
        setenv(name, "value", 1);
        free(p);
        unsetenv(name);
    }
    fclose(devnull);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s STATE_ROOT ROOTFS\n", argv[0]);
        return 2;
    }
    root = argv[2];
    CHECK(runc_context_new(argv[1], &ctx) == 0, "%s", runc_last_error());
    /* Two: the context keeps /proc/self/mounts open from its second container on. */
    CHECK(run_one(ctx, root, "warmup", "exit 0") == 0, "warm-up: %s", runc_last_error());
    CHECK(run_one(ctx, root, "warmup", "exit 0") == 0, "warm-up: %s", runc_last_error());
    int fds_before = count_fds();
    pthread_t wt[WORKERS], nt[4];
    for (long k = 0; k < 4; k++) pthread_create(&nt[k], NULL, noise, (void *)k);
    for (long w = 0; w < WORKERS; w++) pthread_create(&wt[w], NULL, worker, (void *)w);
    for (int w = 0; w < WORKERS; w++) pthread_join(wt[w], NULL);
    stop = 1;
    for (int k = 0; k < 4; k++) pthread_join(nt[k], NULL);
    for (int w = 0; w < WORKERS; w++) CHECK(bad[w] == 0, "worker %d had %d failures", w, bad[w]);
    CHECK(count_fds() == fds_before, "fds %d -> %d", fds_before, count_fds());
    CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "a child or zombie is left");
    char *json = NULL;
    CHECK(runc_list(ctx, &json) == 0 && strcmp(json, "[]") == 0, "containers left: %s", json);
    runc_free(json);
    runc_context_free(ctx);
    return finish();
}
