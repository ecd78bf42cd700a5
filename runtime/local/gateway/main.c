/* main.c - imagegen-gateway: API Gateway and the Lambda service on 127.0.0.1.
 *
 * Start-up order matters: the client port is bound before any function runs, so a port in use
 * is reported (exit 2) with nothing left behind; then the environments start, and the line
 * "imagegen-gateway listening on http://127.0.0.1:PORT" is written once each has asked for its
 * first event or failed its init. The main thread supervises (spawns, times out, reaps) and
 * waits for SIGTERM or SIGINT, on which it stops accepting, stops every environment and exits 0.
 * With --watch-policy it also follows the policy folder (watch.h): a change that loads recycles
 * the environments; one that does not is reported on stderr, for the operator's terminal.
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
#include "config.h"
#include "http.h"
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
    gw_routes *routes = gw_routes_new(cfg.routes, cfg.n_routes, cfg.public_routes, cfg.n_public_routes, &err);
    if (!routes) {
        gw_config_free(&cfg);
        return gw_fail("invalid route", &err);
    }
    gw_keys *keys = NULL;
    if (cfg.api_keys_file && !(keys = gw_keys_load(cfg.api_keys_file, &err))) {
        gw_routes_free(routes);
        gw_config_free(&cfg);
        return gw_fail("cannot use the API keys", &err);
    }

    gw_watch *watch = NULL;
    if (cfg.watch_policy && !(watch = gw_watch_new(cfg.watch_policy, &err))) {
        gw_keys_free(keys);
        gw_routes_free(routes);
        gw_config_free(&cfg);
        return gw_fail("cannot watch the policy", &err);
    }
    int fd = -1, port = 0;
    if (gw_listen(cfg.port, &fd, &port, &err) != IG_OK) {
        gw_watch_free(watch);
        gw_keys_free(keys);
        gw_routes_free(routes);
        gw_config_free(&cfg);
        return gw_fail("cannot serve", &err);
    }
    gw_pool *pool = gw_pool_new(&cfg, &err);
    gw_http *http = pool ? gw_http_start(&cfg, pool, routes, keys, fd, port, &err) : NULL;
    int rc = 0;
    if (!http) {
        if (!pool)
            close(fd);
        rc = gw_fail("cannot start", &err);
    } else {
        gw_supervise(pool, watch, &set, port);
        gw_http_quiesce(http);
    }
    if (pool)
        gw_pool_shutdown(pool);
    gw_http_stop(http);
    gw_pool_free(pool);
    gw_out_finish();
    gw_watch_free(watch);
    gw_keys_free(keys);
    gw_routes_free(routes);
    gw_config_free(&cfg);
    return rc;
}
