/* main.c - bedrock-local: Amazon Bedrock's InvokeModel on 127.0.0.1, answering
 * with procedural pictures, for tests and benchmarks that must run offline.
 *
 * The first line on stdout is "bedrock-local listening on http://127.0.0.1:PORT" (tests read
 * the port from it); every later line is a JSON log line. SIGTERM or SIGINT stops the server
 * after the connections in progress finish.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "models.h"
#include "server.h"
#include "core/log.h"
#include "httpd.h"

int main(int argc, char **argv)
{
    ig_log_init();
    bl_config cfg;
    ig_error err;
    if (bl_config_parse(&cfg, argc, argv, &err) != IG_OK) {
        fprintf(stderr, "bedrock-local: %s\n", err.message);
        return 2;
    }
    if (cfg.help) {
        bl_config_usage(stdout);
        bl_config_free(&cfg);
        return 0;
    }

    /* Before any thread exists, so that every libmicrohttpd thread inherits the mask and only
     * sigwait below receives them. */
    sigset_t stop;
    lo_block_stop_signals(&stop);

    bl_server server;
    ig_err e = bl_server_start(&server, &cfg, &err);
    bl_config_free(&cfg);
    if (e) {
        fprintf(stderr, "bedrock-local: %s\n", err.message);
        return 1;
    }
    flockfile(stdout); /* whole, before any connection thread's log line */
    printf("bedrock-local listening on http://127.0.0.1:%u\n", server.port);
    fflush(stdout);
    funlockfile(stdout);
    json_t *models = bl_models_served(server.cfg.region);
    int none = json_array_size(models) == 0;
    ig_log(IG_LOG_INFO, "started",
                  json_pack("{s:i,s:s,s:b,s:b,s:o}", "port", (int)server.port, "region",
                            server.cfg.region, "verify", server.cfg.verify, "logPrompts",
                            server.cfg.log_prompts, "models", models ? models : json_array()));
    if (none)
        ig_log(IG_LOG_WARN, "this region serves no image models; every call will "
                                            "answer ResourceNotFoundException",
                      json_pack("{s:s}", "region", server.cfg.region));

    int sig = 0;
    sigwait(&stop, &sig);
    ig_log(IG_LOG_INFO, "stopping",
                  json_pack("{s:s}", "signal", lo_signal_name(sig)));
    bl_server_stop(&server);
    return 0;
}
