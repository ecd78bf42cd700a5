/* spawn.c - fork and exec of a function process with Lambda's environment. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* Lambda's PATH for OS-only runtimes; the gateway's own PATH follows so local tools are found. */
#define GW_LAMBDA_PATH "/usr/local/bin:/usr/bin/:/bin:/opt/bin"

typedef struct {
    char **items;
    size_t len;
    size_t cap;
} gw_strv;

static void gw_strv_push(gw_strv *v, char *s)
{
    if (!s)
        return;
    if (v->len + 2 > v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        char **items = realloc(v->items, cap * sizeof *items);
        if (!items) {
            free(s);
            return;
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->len++] = s;
    v->items[v->len] = NULL;
}

/* Sets name=value, replacing an earlier entry of the same name. */
static void gw_strv_setenv(gw_strv *v, const char *name, const char *value)
{
    size_t n = strlen(name);
    size_t len = n + strlen(value) + 2;
    char *s = malloc(len);
    if (!s)
        return;
    snprintf(s, len, "%s=%s", name, value);
    for (size_t i = 0; i < v->len; i++) {
        if (strncmp(v->items[i], name, n) == 0 && v->items[i][n] == '=') {
            free(v->items[i]);
            v->items[i] = s;
            return;
        }
    }
    gw_strv_push(v, s);
}

void gw_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* The gateway's variables a function may see: credentials, endpoints and settings (AWS_*),
 * ours (IMAGEGEN_*), and the sanitizers' options so an instrumented function behaves alike. */
static int gw_passes_through(const char *entry)
{
    static const char *const prefixes[] = {"AWS_", "IMAGEGEN_", "ASAN_OPTIONS=", "UBSAN_OPTIONS=",
                                           "LSAN_OPTIONS=", "TMPDIR="};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

char **gw_spawn_environment(const gw_config *c, const char *runtime_api, const char *log_stream)
{
    gw_strv v = {0};
    for (char **e = environ; e && *e; e++)
        if (gw_passes_through(*e))
            gw_strv_push(&v, strdup(*e));

    char buf[4096];
    gw_strv_setenv(&v, "AWS_LAMBDA_RUNTIME_API", runtime_api);
    /* Lambda's Invoke API is this gateway's: a function that invokes itself asynchronously
     * reaches its own queue, whatever endpoint the gateway itself was given. */
    if (c->lambda_endpoint)
        gw_strv_setenv(&v, "AWS_ENDPOINT_URL_LAMBDA", c->lambda_endpoint);
    gw_strv_setenv(&v, "AWS_LAMBDA_FUNCTION_NAME", c->function_name);
    gw_strv_setenv(&v, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    snprintf(buf, sizeof buf, "%d", c->memory_mb);
    gw_strv_setenv(&v, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", buf);
    snprintf(buf, sizeof buf, "/aws/lambda/%s", c->function_name);
    gw_strv_setenv(&v, "AWS_LAMBDA_LOG_GROUP_NAME", buf);
    gw_strv_setenv(&v, "AWS_LAMBDA_LOG_STREAM_NAME", log_stream);
    gw_strv_setenv(&v, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    gw_strv_setenv(&v, "LAMBDA_TASK_ROOT", c->task_root);
    gw_strv_setenv(&v, "LAMBDA_RUNTIME_DIR", c->runtime_dir);
    gw_strv_setenv(&v, "_HANDLER", c->handler);
    gw_strv_setenv(&v, "AWS_REGION", c->region);
    gw_strv_setenv(&v, "AWS_DEFAULT_REGION", c->region);
    gw_strv_setenv(&v, "TZ", ":UTC");
    gw_strv_setenv(&v, "LANG", "en_US.UTF-8");
    const char *path = getenv("PATH");
    snprintf(buf, sizeof buf, "%s%s%s", GW_LAMBDA_PATH, path && *path ? ":" : "", path ? path : "");
    gw_strv_setenv(&v, "PATH", buf);
    const char *ld = getenv("LD_LIBRARY_PATH");
    snprintf(buf, sizeof buf, "%s:%s/lib:%s:%s/lib:/opt/lib%s%s", c->runtime_dir, c->runtime_dir,
             c->task_root, c->task_root, ld && *ld ? ":" : "", ld ? ld : "");
    gw_strv_setenv(&v, "LD_LIBRARY_PATH", buf);
    if (!v.items)
        v.items = calloc(1, sizeof(char *));
    return v.items;
}

/* Between fork and exec only async-signal-safe calls: the parent has other threads. */
static void gw_child(const gw_config *c, char **envp, int out_fd, pid_t parent)
{
    /* exec keeps ignored signals ignored and the mask as is: give the function a clean slate. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0 && devnull != 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    dup2(out_fd, 1);
    dup2(out_fd, 2);
#ifdef SYS_close_range
    syscall(SYS_close_range, 3u, ~0u, 0u);
#endif
    if (chdir(c->task_root) != 0) {
        static const char msg[] = "imagegen-gateway: cannot enter the task root\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(126);
    }
    execve(c->function_argv[0], c->function_argv, envp);
    static const char msg[] = "imagegen-gateway: cannot execute the function\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

ig_err gw_spawn(const gw_config *c, char **envp, gw_process *p, ig_error *err)
{
    int fds[2];
    /* Only this thread forks, so setting close-on-exec after pipe() races with no exec. */
    if (pipe(fds) != 0)
        return ig_error_set(err, IG_ERR_IO, "pipe: %s", strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        return ig_error_set(err, IG_ERR_IO, "fork: %s", strerror(saved));
    }
    if (pid == 0)
        gw_child(c, envp, fds[1], parent);
    /* Also set the group from this side: the child may not have run yet when we signal it. */
    setpgid(pid, pid);
    close(fds[1]);
    int fl = fcntl(fds[0], F_GETFL);
    fcntl(fds[0], F_SETFL, fl | O_NONBLOCK);
    p->pid = pid;
    p->out_fd = fds[0];
    return IG_OK;
}

void gw_process_signal(const gw_process *p, int sig)
{
    if (p->pid > 0 && kill(-p->pid, sig) != 0)
        kill(p->pid, sig);
}
