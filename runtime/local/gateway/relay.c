/* relay.c - line relay of a function's output. */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "out.h"

/* A line longer than this is relayed in pieces rather than held without bound. */
#define GW_RELAY_LINE_MAX (256u * 1024)

struct gw_relay {
    int fd;
    int eof;
    int stop;
    char prefix[32];
    ig_buf partial;
    pthread_mutex_t mu;
    pthread_t thread;
};

static void gw_relay_emit_lines(gw_relay *r)
{
    size_t start = 0;
    for (size_t i = 0; i < r->partial.len; i++) {
        if (r->partial.data[i] == '\n') {
            size_t len = i - start;
            if (len && r->partial.data[start + len - 1] == '\r')
                len--;
            gw_out_line(r->prefix, r->partial.data + start, len);
            start = i + 1;
        }
    }
    if (start == 0 && r->partial.len >= GW_RELAY_LINE_MAX) {
        gw_out_line(r->prefix, r->partial.data, r->partial.len);
        start = r->partial.len;
    }
    if (start) {
        memmove(r->partial.data, r->partial.data + start, r->partial.len - start);
        r->partial.len -= start;
        r->partial.data[r->partial.len] = '\0';
    }
}

/* Reads what is available; caller holds r->mu. */
static void gw_relay_read_locked(gw_relay *r)
{
    char chunk[16384];
    while (!r->eof) {
        ssize_t n = read(r->fd, chunk, sizeof chunk);
        if (n > 0) {
            ig_buf_append(&r->partial, chunk, (size_t)n);
            gw_relay_emit_lines(r);
        } else if (n == 0) {
            r->eof = 1;
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                r->eof = 1;
            break;
        }
    }
    if (r->eof && r->partial.len) {
        gw_out_line(r->prefix, r->partial.data, r->partial.len);
        ig_buf_reset(&r->partial);
    }
}

static void *gw_relay_main(void *arg)
{
    gw_relay *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int done = r->eof || r->stop;
        pthread_mutex_unlock(&r->mu);
        if (done)
            return NULL;
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        int rc = poll(&pfd, 1, 100);
        if (rc > 0) {
            pthread_mutex_lock(&r->mu);
            gw_relay_read_locked(r);
            pthread_mutex_unlock(&r->mu);
        }
    }
}

gw_relay *gw_relay_start(int fd, const char *prefix)
{
    gw_relay *r = calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        return NULL;
    }
    r->fd = fd;
    snprintf(r->prefix, sizeof r->prefix, "%s", prefix);
    ig_buf_init(&r->partial, 0);
    pthread_mutex_init(&r->mu, NULL);
    if (pthread_create(&r->thread, NULL, gw_relay_main, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        close(fd);
        free(r);
        return NULL;
    }
    return r;
}

void gw_relay_drain(gw_relay *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    gw_relay_read_locked(r);
    pthread_mutex_unlock(&r->mu);
}

void gw_relay_stop(gw_relay *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    gw_relay_read_locked(r);
    if (r->partial.len) { /* a last line without a newline */
        gw_out_line(r->prefix, r->partial.data, r->partial.len);
        ig_buf_reset(&r->partial);
    }
    r->stop = 1;
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    close(r->fd);
    ig_buf_free(&r->partial);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
