/* main.c - imagegen-gateway: API Gateway and the Lambda service on 127.0.0.1.
 *
 * Start-up order matters: the client port is bound before any function runs, so a port in use
 * is reported (exit 2) with nothing left behind; then the environments start, and the line
 * "imagegen-gateway listening on http://127.0.0.1:PORT" is written once each has asked for its
 * first event or failed its init. The main thread supervises (spawns, times out, reaps) and
 * waits for SIGTERM or SIGINT, on which it stops accepting, stops every environment and exits 0.
 * With --watch-policy it also follows the policy folder (watch.h): a change that loads recycles
 * the environments; one that does not is reported on stderr, for the operator's terminal.
 * Lambda's Invoke API (invoke.h) has its own port, bound right after the client's; its URL is
 * the functions' AWS_ENDPOINT_URL_LAMBDA, and the events it accepts wait in the asynchronous
 * queue (async.h) for the same environments as the API's requests.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "async.h"
#include "config.h"
#include "http.h"
#include "invoke.h"
#include "keys.h"
#include "net.h"
#include "out.h"
#include "pool.h"
#include "routes.h"
#include "watch.h"

/* How often the supervisor looks at timeouts and respawns: the precision of both. */
#define GW_TICK_MS 20

static int gw_fail(const char *what, const ig_error *err)
{
    fprintf(stderr, "imagegen-gateway: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
    return 2;
}

/* The signals the supervisor waits for; blocked in every thread (set before any is created). */
static void gw_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    /* Inherited dispositions may say "ignore" (a shell's background job ignores SIGINT; an
     * ignored SIGCHLD would reap children behind our back): these signals must be delivered. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
}

/* Each line of text on stderr, indented, after a headline. */
static void gw_report_stderr(const char *headline, const char *text)
{
    fprintf(stderr, "imagegen-gateway: %s\n", headline);
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        int len = (int)(nl ? (size_t)(nl - text) : strlen(text));
        if (len > 0)
            fprintf(stderr, "  %.*s\n", len, text);
        text += len + (nl ? 1 : 0);
    }
    fflush(stderr);
}

/* A change in the watched policy folder: check it, then recycle or keep the old environments. */
static void gw_follow_policy(gw_pool *pool, gw_watch *watch)
{
    if (!watch || !gw_watch_changed(watch, (int64_t)(ig_mono_s() * 1000.0)))
        return;
    char *output = NULL;
    char headline[PATH_MAX + 160];
    if (gw_watch_check(watch, &output)) {
        int started = gw_pool_recycle(pool);
        snprintf(headline, sizeof headline, "policy reloaded from %s: %d new execution environment%s the next requests",
                 gw_watch_dir(watch), started, started == 1 ? " takes" : "s take");
        gw_report_stderr(headline, NULL);
        gw_log(IG_LOG_INFO, "policy reloaded", json_pack("{s:s, s:i}", "policyDir", gw_watch_dir(watch), "environments", started));
    } else {
        snprintf(headline, sizeof headline, "policy in %s not reloaded, the previous one keeps serving:", gw_watch_dir(watch));
        gw_report_stderr(headline, output);
        gw_log(IG_LOG_ERROR, "policy not reloaded",
               json_pack("{s:s, s:s}", "policyDir", gw_watch_dir(watch), "error", output ? output : ""));
    }
    free(output);
}

/* Supervises until SIGTERM, SIGINT or SIGHUP. */
static void gw_supervise(gw_pool *pool, gw_watch *watch, const sigset_t *set, int port)
{
    struct timespec tick = {0, GW_TICK_MS * 1000000L};
    for (;;) {
        if (gw_pool_tick(pool)) {
            char line[96];
            snprintf(line, sizeof line, "imagegen-gateway listening on http://127.0.0.1:%d", port);
            gw_out_ready(line);
        }
        gw_follow_policy(pool, watch);
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
            gw_log(IG_LOG_INFO, "stopping", json_pack("{s:s}", "signal", sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM"));
            return;
        }
    }
}

/* What main starts after the configuration, in order, and stops in reverse. */
typedef struct {
    gw_routes *routes;
    gw_keys *keys;
    gw_watch *watch;
    gw_pool *pool;
    gw_async *async;
    gw_http *http;
    gw_invoke *invoke;
} gw_parts;

/* Binds the Invoke API's port; its URL becomes the functions' AWS_ENDPOINT_URL_LAMBDA. */
static ig_err gw_bind_invoke(gw_config *cfg, int *fd, ig_error *err)
{
    int port = 0;
    ig_err e = gw_listen(cfg->invoke_port, fd, &port, err);
    if (e)
        return e;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    cfg->lambda_endpoint = strdup(url);
    if (!cfg->lambda_endpoint) {
        close(*fd);
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    }
    return IG_OK;
}

/* The pool, the asynchronous queue and both servers; 2 (the exit status) with a sentence on failure. */
static int gw_start_parts(gw_config *cfg, gw_parts *parts, int fd, int invoke_fd, ig_error *err)
{
    parts->pool = gw_pool_new(cfg, err);
    if (!parts->pool) {
        close(fd);
        close(invoke_fd);
        return gw_fail("cannot start", err);
    }
    parts->async = gw_async_start(cfg, parts->pool, err);
    if (!parts->async) {
        close(fd);
        close(invoke_fd);
        return gw_fail("cannot start", err);
    }
    parts->http = gw_http_start(cfg, parts->pool, parts->routes, parts->keys, fd, cfg->port, err);
    if (!parts->http) {
        close(invoke_fd);
        return gw_fail("cannot start", err);
    }
    parts->invoke = gw_invoke_start(cfg, parts->async, invoke_fd, err);
    if (!parts->invoke)
        return gw_fail("cannot start", err);
    gw_log(IG_LOG_INFO, "lambda invoke api listening", json_pack("{s:s}", "url", cfg->lambda_endpoint));
    return 0;
}

/* Stops accepting, ends every environment (which ends the attempts in flight), then frees. */
static void gw_stop_parts(gw_parts *parts)
{
    gw_http_quiesce(parts->http);
    gw_invoke_quiesce(parts->invoke);
    gw_async_quiesce(parts->async);
    if (parts->pool)
        gw_pool_shutdown(parts->pool);
    gw_http_stop(parts->http);
    gw_invoke_stop(parts->invoke);
    gw_async_stop(parts->async);
    gw_pool_free(parts->pool);
    gw_out_finish();
    gw_watch_free(parts->watch);
    gw_keys_free(parts->keys);
    gw_routes_free(parts->routes);
}

/* Routes, API keys and the policy watch, from the configuration. */
static int gw_prepare(const gw_config *cfg, gw_parts *parts, ig_error *err)
{
    parts->routes = gw_routes_new(cfg->routes, cfg->n_routes, cfg->public_routes, cfg->n_public_routes, err);
    if (!parts->routes)
        return gw_fail("invalid route", err);
    if (cfg->api_keys_file && !(parts->keys = gw_keys_load(cfg->api_keys_file, err)))
        return gw_fail("cannot use the API keys", err);
    if (cfg->watch_policy && !(parts->watch = gw_watch_new(cfg->watch_policy, err)))
        return gw_fail("cannot watch the policy", err);
    return 0;
}

int main(int argc, char **argv)
{
    sigset_t set;
    gw_block_signals(&set);
    ig_log_init();
    gw_out_start();

    gw_config cfg;
    ig_error err;
    ig_error_clear(&err);
    gw_config_outcome outcome = gw_config_parse(&cfg, argc, argv, &err);
    if (outcome != GW_CONFIG_RUN) {
        gw_config_free(&cfg);
        if (outcome == GW_CONFIG_HELP) {
            gw_config_usage(argv[0]);
            return 0;
        }
        return gw_fail("invalid configuration", &err);
    }
    gw_parts parts;
    memset(&parts, 0, sizeof parts);
    int rc = gw_prepare(&cfg, &parts, &err);
    int fd = -1, invoke_fd = -1, port = 0;
    /* The client port first: one in use is reported with nothing started. */
    if (!rc && gw_listen(cfg.port, &fd, &port, &err) != IG_OK)
        rc = gw_fail("cannot serve", &err);
    if (!rc && gw_bind_invoke(&cfg, &invoke_fd, &err) != IG_OK) {
        close(fd);
        rc = gw_fail("cannot serve Lambda's Invoke API", &err);
    }
    if (!rc) {
        cfg.port = port;
        rc = gw_start_parts(&cfg, &parts, fd, invoke_fd, &err);
        if (!rc)
            gw_supervise(parts.pool, parts.watch, &set, port);
    }
    gw_stop_parts(&parts);
    gw_config_free(&cfg);
    return rc;
}
