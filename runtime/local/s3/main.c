/* main.c - s3-verify: Amazon S3's signature checks in front of s3rver, so that the local stack
 * refuses a tampered or expired presigned URL, or a browser upload its policy does not allow, as
 * S3 does.
 *
 * The first line on stdout is "s3-verify listening on http://127.0.0.1:PORT"; every later line
 * is a JSON log line. SIGTERM or SIGINT stops it (exit status 0).
 */
#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "core/log.h"
#include "httpd.h"
#include "server.h"

int main(int argc, char **argv)
{
    ig_log_init();
    s3v_config cfg;
    ig_error err;
    ig_error_clear(&err);
    if (s3v_config_parse(&cfg, argc, argv, &err) != IG_OK) {
        fprintf(stderr, "s3-verify: %s\n", err.message);
        return 2;
    }
    if (cfg.help) {
        s3v_config_usage();
        s3v_config_free(&cfg);
        return 0;
    }
    sigset_t stop;
    lo_block_stop_signals(&stop);

    unsigned port = 0;
    s3v_server *s = s3v_server_start(&cfg, &port, &err);
    if (!s) {
        fprintf(stderr, "s3-verify: %s\n", err.message);
        s3v_config_free(&cfg);
        return 1;
    }
    flockfile(stdout);
    printf("s3-verify listening on http://127.0.0.1:%u\n", port);
    fflush(stdout);
    funlockfile(stdout);
    ig_log(IG_LOG_INFO, "started",
           json_pack("{s:i, s:s, s:s}", "port", (int)port, "upstream", "127.0.0.1", "region", cfg.region));
    int sig = 0;
    sigwait(&stop, &sig);
    ig_log(IG_LOG_INFO, "stopping", json_pack("{s:s}", "signal", lo_signal_name(sig)));
    s3v_server_stop(s);
    s3v_config_free(&cfg);
    return 0;
}
