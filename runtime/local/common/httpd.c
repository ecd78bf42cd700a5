/* httpd.c - libmicrohttpd helpers the local servers share. */
#include "httpd.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

void lo_loopback_address(struct sockaddr_in *addr, int port)
{
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

size_t lo_keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

typedef struct {
    ig_header *items;
    size_t len, cap;
} header_array;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    header_array *a = cls;
    if (a->len == a->cap)
        return MHD_NO;
    a->items[a->len++] = (ig_header){key, value ? value : ""};
    return MHD_YES;
}

ig_header *lo_received_headers(struct MHD_Connection *c, size_t *n)
{
    int count = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
    header_array a = {NULL, 0, count > 0 ? (size_t)count : 0};
    a.items = calloc(a.cap + 1, sizeof *a.items);
    if (a.items)
        MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &a);
    *n = a.len;
    return a.items;
}

static enum MHD_Result collect_argument(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    ig_buf *q = cls;
    if (q->len)
        ig_buf_append_char(q, '&');
    ig_buf_append_str(q, key);
    if (value) {
        ig_buf_append_char(q, '=');
        ig_buf_append_str(q, value);
    }
    return MHD_YES;
}

void lo_received_query(struct MHD_Connection *c, ig_buf *q)
{
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_argument, q);
}

void lo_received_body(ig_buf *body, int *too_large, const char *upload, size_t *upload_size)
{
    if (!*too_large && ig_buf_append(body, upload, *upload_size) != IG_OK) {
        *too_large = 1;
        ig_buf_free(body);
    }
    *upload_size = 0;
}

void lo_block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

const char *lo_signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "signal";
}
