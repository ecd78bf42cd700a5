/* watch.c - polls a policy folder's *.lua files and checks the policy with imagegen-policy. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

#define GW_WATCH_INTERVAL_MS 300
#define GW_WATCH_CHECK_LIMIT_MS 30000 /* a check that takes longer is killed and counts as failed */

extern char **environ;

struct gw_watch {
    char *dir;
    char *tool; /* imagegen-policy beside this executable */
    uint64_t fingerprint;
    int64_t next_poll_ms;
};

static uint64_t gw_fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Order-independent: the sum of one hash per *.lua file (name, size, mtime, inode), plus the
 * count. An atomic save (write elsewhere, rename) changes the inode even within one mtime tick. */
static uint64_t gw_fingerprint(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    uint64_t sum = 0, count = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".lua") != 0)
            continue;
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path || stat(path, &st) != 0)
            continue;
        uint64_t h = gw_fnv(1469598103934665603ULL, de->d_name, n);
        int64_t fields[5] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec,
                             (int64_t)st.st_ino, (int64_t)st.st_ctim.tv_nsec};
        sum += gw_fnv(h, fields, sizeof fields);
        count++;
    }
    closedir(d);
    return sum + count;
}

static char *gw_tool_path(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    slash[1] = '\0';
    size_t len = strlen(self) + sizeof "imagegen-policy";
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%simagegen-policy", self);
    return p;
}

gw_watch *gw_watch_new(const char *dir, ig_error *err)
{
    gw_watch *w = calloc(1, sizeof *w);
    if (!w) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(dir, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        ig_error_set(err, IG_ERR_CONFIG, "--watch-policy: %s is not a folder we can read", dir);
        free(w);
        return NULL;
    }
    w->dir = strdup(real);
    w->tool = gw_tool_path();
    if (!w->dir || !w->tool || access(w->tool, X_OK) != 0) {
        ig_error_set(err, IG_ERR_CONFIG, "--watch-policy needs imagegen-policy beside the gateway (%s)",
                     w->tool ? w->tool : "?");
        gw_watch_free(w);
        return NULL;
    }
    w->fingerprint = gw_fingerprint(w->dir);
    return w;
}

void gw_watch_free(gw_watch *w)
{
    if (!w)
        return;
    free(w->dir);
    free(w->tool);
    free(w);
}

const char *gw_watch_dir(const gw_watch *w)
{
    return w->dir;
}

int gw_watch_changed(gw_watch *w, int64_t now_ms)
{
    if (now_ms < w->next_poll_ms)
        return 0;
    w->next_poll_ms = now_ms + GW_WATCH_INTERVAL_MS;
    uint64_t f = gw_fingerprint(w->dir);
    if (f == w->fingerprint)
        return 0;
    w->fingerprint = f;
    return 1;
}

static int64_t gw_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads fd until EOF or the deadline; 0 at EOF. */
static int gw_read_all(int fd, ig_buf *out, int64_t deadline_ms)
{
    char chunk[4096];
    for (;;) {
        int64_t left = deadline_ms - gw_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? 0 : -1;
        if (out->len < 65536)
            ig_buf_append(out, chunk, (size_t)n);
    }
}

/* Starts argv with stdout and stderr on the write end of fds; signals as at exec from a shell. */
static int gw_start_check(char *const argv[], int fds[2], pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int gw_watch_check(const gw_watch *w, char **output)
{
    ig_buf out;
    ig_buf_init(&out, 0);
    int fds[2];
    pid_t pid = -1;
    char *argv[] = {w->tool, "check", w->dir, NULL};
    int ok = 0;
    if (pipe(fds) != 0) {
        ig_buf_appendf(&out, "cannot run %s: %s\n", w->tool, strerror(errno));
    } else {
        int rc = gw_start_check(argv, fds, &pid);
        close(fds[1]);
        if (rc != 0) {
            ig_buf_appendf(&out, "cannot run %s: %s\n", w->tool, strerror(rc));
        } else {
            if (gw_read_all(fds[0], &out, gw_ms() + GW_WATCH_CHECK_LIMIT_MS) != 0) {
                kill(pid, SIGKILL);
                ig_buf_appendf(&out, "%s check did not finish within %d s\n", w->tool, GW_WATCH_CHECK_LIMIT_MS / 1000);
            }
            int status = 0;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        close(fds[0]);
    }
    *output = ig_buf_steal(&out, NULL);
    return ok;
}
