/* peak-rss: runs a command and writes the peak resident set size (KiB) of
 * it and the children it waited for (wait4's ru_maxrss) to OUT. Spawned with
 * vfork so that no copy of a large parent is counted. (The result goes to a
 * file: a container started by CMD may keep our stdout open.)
 *   peak-rss OUT CMD [ARG...] */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: peak-rss OUT CMD [ARG...]\n");
        return 2;
    }
    pid_t pid = vfork();
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) < 0) {
        perror("peak-rss");
        return 1;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out || fprintf(out, "%ld\n", ru.ru_maxrss) < 0 || fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
