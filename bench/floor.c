/* floor: the least any runtime must do to run a container's /bin/true, as a
 * yardstick for bench/run.sh. It makes the namespaces of `runc spec`'s
 * config (mount, pid, network, ipc, uts, cgroup), creates a cgroup in every
 * hierarchy below the caller's own and puts the child in it (v2: clone3 with
 * CLONE_INTO_CGROUP), pivots into ROOTFS, mounts /proc, execs /bin/true,
 * waits, and removes the cgroups. No config parsing, no state, no checks.
 *   floor [-o] [-n N] ROOTFS       (as root)
 * -o: also every other mount of `runc spec`'s config (/dev and its children
 * and nodes, /sys, the cgroup view, masked and read-only paths, a read-only
 * root) and its hostname, with plain mount(2) calls; still no device rules,
 * capabilities or state, so a lower bound for that config.
 * -n N: N containers back to back in this one process (no exec of a runtime
 * per container, as a library's caller); prints the median and the minimum
 * of one container in ms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "loop-timing.h"

#define NS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
static char dirs[16][512], names[16][128];
static int ndirs, oci;

static void die(const char *what) { perror(what); exit(1); }

static void put(const char *path, const char *v) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, v, strlen(v)) < 0) die(path);
    close(fd);
}

static void copy_knob(const char *dir, const char *knob) {
    char src[600], dst[600], buf[256];
    snprintf(src, sizeof src, "%s/../%s", dir, knob);
    snprintf(dst, sizeof dst, "%s/%s", dir, knob);
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (n < 0) die(src);
    close(fd);
    buf[n] = 0;
    put(dst, buf);
}

/* One cgroup per hierarchy the caller is in, named floor-PID below its own. */
static void make_cgroups(int v2) {
    FILE *f = fopen("/proc/self/cgroup", "re");
    char line[512];
    if (!f) die("/proc/self/cgroup");
    while (fgets(line, sizeof line, f) && ndirs < 16) {
        char *ctrl = strchr(line, ':'), *path = ctrl ? strchr(ctrl + 1, ':') : NULL;
        if (!path) continue;
        *path++ = 0;
        ctrl++;
        path[strcspn(path, "\n")] = 0;
        if (v2 != (*ctrl == 0)) continue;
        const char *name = v2 ? "" : strncmp(ctrl, "name=", 5) == 0 ? ctrl + 5 : ctrl;
        char *d = dirs[ndirs];
        snprintf(d, sizeof dirs[0], "/sys/fs/cgroup/%s%s/floor-%d", name, strcmp(path, "/") ? path : "", getpid());
        if (mkdir(d, 0755) < 0) die(d);
        snprintf(names[ndirs], sizeof names[0], "%s", name);
        ndirs++;
        if (strstr(ctrl, "cpuset")) {
            copy_knob(d, "cpuset.cpus");
            copy_knob(d, "cpuset.mems");
        }
    }
    fclose(f);
}

static void mnt(const char *src, const char *dst, const char *type, unsigned long fl, const char *data) {
    if (mount(src, dst, type, fl, data) < 0) die(dst);
}

static void dir(const char *path) {
    if (mkdir(path, 0755) < 0 && errno != EEXIST) die(path);
}

/* runc spec's mounts below /dev and /sys, in the rootfs (the cwd) before the pivot. */
static void oci_mounts(int v2) {
    mnt("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    dir("dev/pts");
    mnt("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    dir("dev/shm");
    mnt("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k");
    dir("dev/mqueue");
    mnt("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
    static const struct { const char *name; int major, minor; } nodes[] = {
        {"dev/null", 1, 3}, {"dev/zero", 1, 5}, {"dev/full", 1, 7},
        {"dev/random", 1, 8}, {"dev/urandom", 1, 9}, {"dev/tty", 5, 0}};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        if (mknod(nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0) die(nodes[i].name);
    static const char *links[][2] = {{"/proc/self/fd", "dev/fd"}, {"/proc/self/fd/0", "dev/stdin"},
        {"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"}, {"pts/ptmx", "dev/ptmx"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlink(links[i][0], links[i][1]) < 0) die(links[i][1]);
    unsigned long ro = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY;
    mnt("sysfs", "sys", "sysfs", ro, NULL);
    if (v2) {
        mnt("cgroup", "sys/fs/cgroup", "cgroup2", ro, NULL);
        return;
    }
    /* v1: a tmpfs holding a read-only bind of the container's own directory
     * of each hierarchy, then made read-only itself. */
    mnt("tmpfs", "sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=755");
    for (int i = 0; i < ndirs; i++) {
        char at[160];
        snprintf(at, sizeof at, "sys/fs/cgroup/%s", names[i]);
        dir(at);
        mnt(dirs[i], at, NULL, MS_BIND, NULL);
        mnt(NULL, at, NULL, MS_BIND | MS_REMOUNT | ro, NULL);
    }
    mnt(NULL, "sys/fs/cgroup", NULL, MS_REMOUNT | ro, "mode=755");
}

/* runc spec's masked and read-only paths and read-only root, in the new root. */
static void oci_paths(void) {
    static const char *masked[] = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/sys/firmware", "/proc/scsi"};
    static const char *readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    const char *empty = NULL; /* the first masked directory's read-only tmpfs, bound on the others */
    for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
        struct stat st;
        if (stat(masked[i], &st) < 0) continue;
        if (!S_ISDIR(st.st_mode)) mnt("/dev/null", masked[i], NULL, MS_BIND, NULL);
        else if (empty) mnt(empty, masked[i], NULL, MS_BIND, NULL);
        else mnt("tmpfs", empty = masked[i], "tmpfs", MS_RDONLY, NULL);
    }
    for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
        struct stat st;
        if (stat(readonly[i], &st) < 0) continue;
        mnt(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL);
        mnt(NULL, readonly[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL);
    }
    mnt(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
    if (sethostname("runc", 4) < 0) die("sethostname");
}

static int child(const char *rootfs, int gate, int v2) {
    char c;
    if (gate >= 0 && (read(gate, &c, 1) != 1 || unshare(CLONE_NEWCGROUP) < 0)) die("cgroup gate");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private");
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind rootfs");
    if (chdir(rootfs) < 0) die("chdir rootfs");
    if (oci) oci_mounts(v2);
    if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
    if (umount2(".", MNT_DETACH) < 0) die("umount old root");
    if (chdir("/") < 0) die("chdir /");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die("mount proc");
    if (oci) oci_paths();
    char *argv[] = {"true", NULL};
    execv("/bin/true", argv);
    die("exec /bin/true");
    return 1;
}

/* One container: its cgroups, the child, its exit, the cgroups removed. */
static int one(const char *rootfs, int v2) {
    ndirs = 0;
    make_cgroups(v2);
    pid_t pid;
    if (v2) {
        int cg = open(dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct clone_args a = {.flags = NS | CLONE_NEWCGROUP | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cg};
        pid = syscall(SYS_clone3, &a, sizeof a);
        if (pid == 0) _exit(child(rootfs, -1, v2));
        close(cg);
    } else {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
        pid = syscall(SYS_clone, NS | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) { close(p[1]); _exit(child(rootfs, p[0], v2)); }
        close(p[0]);
        char buf[32], procs[600];
        snprintf(buf, sizeof buf, "%d", pid);
        for (int i = 0; i < ndirs; i++) {
            snprintf(procs, sizeof procs, "%s/cgroup.procs", dirs[i]);
            put(procs, buf);
        }
        if (write(p[1], "x", 1) != 1) die("gate");
        close(p[1]);
    }
    if (pid < 0) die("clone");
    int st;
    if (waitpid(pid, &st, 0) < 0) die("wait");
    for (int i = 0; i < ndirs; i++)
        if (rmdir(dirs[i]) < 0) die(dirs[i]);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
    int n = 0, opt, bad = 0;
    while ((opt = getopt(argc, argv, "on:")) != -1) {
        if (opt == 'o') oci = 1;
        else if (opt != 'n' || (n = atoi(optarg)) < 1) bad = 1;
    }
    if (bad || optind != argc - 1) { fprintf(stderr, "usage: floor [-o] [-n N] ROOTFS\n"); return 2; }
    const char *rootfs = argv[optind];
    struct statfs sf;
    int v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270;
    if (n == 0) return one(rootfs, v2);
    double *t = calloc(n, sizeof *t);
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        int st = one(rootfs, v2);
        if (st != 0) { fprintf(stderr, "floor: container %d exited %d\n", i, st); return 1; }
        t[i] = now_ms() - t0;
    }
    print_median_min(t, n);
    free(t);
    return 0;
}
