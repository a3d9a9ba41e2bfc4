/* peak-rss: runs a command and prints the peak resident set size (KiB) of
 * it and the children it waited for (wait4's ru_maxrss). Spawned with
 * vfork so that no copy of a large parent is counted.
 *   peak-rss CMD [ARG...] */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: peak-rss CMD [ARG...]\n");
        return 2;
    }
    pid_t pid = vfork();
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) < 0) {
        perror("peak-rss");
        return 1;
    }
    printf("%ld\n", ru.ru_maxrss);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
