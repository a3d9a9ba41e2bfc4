/* floor: the least any runtime must do to run a container's /bin/true, as a
 * yardstick for bench/run.sh. It makes the namespaces of `runc spec`'s
 * config (mount, pid, network, ipc, uts, cgroup), creates a cgroup in every
 * hierarchy below the caller's own and puts the child in it (v2: clone3 with
 * CLONE_INTO_CGROUP), pivots into ROOTFS, mounts /proc, execs /bin/true,
 * waits, and removes the cgroups. No config parsing, no state, no checks.
 *   floor ROOTFS            (as root)
 */
#define _GNU_SOURCE
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
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
static char dirs[16][512];
static int ndirs;

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
        ndirs++;
        if (strstr(ctrl, "cpuset")) {
            copy_knob(d, "cpuset.cpus");
            copy_knob(d, "cpuset.mems");
        }
    }
    fclose(f);
}

static int child(const char *rootfs, int gate) {
    char c;
    if (gate >= 0 && (read(gate, &c, 1) != 1 || unshare(CLONE_NEWCGROUP) < 0)) die("cgroup gate");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private");
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind rootfs");
    if (chdir(rootfs) < 0) die("chdir rootfs");
    if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
    if (umount2(".", MNT_DETACH) < 0) die("umount old root");
    if (chdir("/") < 0) die("chdir /");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die("mount proc");
    char *argv[] = {"true", NULL};
    execv("/bin/true", argv);
    die("exec /bin/true");
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: floor ROOTFS\n"); return 2; }
    struct statfs sf;
    int v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270;
    make_cgroups(v2);
    pid_t pid;
    if (v2) {
        int cg = open(dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct clone_args a = {.flags = NS | CLONE_NEWCGROUP | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cg};
        pid = syscall(SYS_clone3, &a, sizeof a);
        if (pid == 0) return child(argv[1], -1);
        close(cg);
    } else {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
        pid = syscall(SYS_clone, NS | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) { close(p[1]); return child(argv[1], p[0]); }
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
