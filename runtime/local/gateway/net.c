/* net.c - binding loopback listening sockets. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd.h"

ig_err gw_listen(int port, int *fd_out, int *bound_port, ig_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ig_error_set(err, IG_ERR_CONNECT, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    lo_loopback_address(&addr, port);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int saved = errno;
        close(fd);
        if (saved == EADDRINUSE)
            return ig_error_set(err, IG_ERR_CONNECT, "port %d on 127.0.0.1 is already in use", port);
        return ig_error_set(err, IG_ERR_CONNECT, "cannot bind 127.0.0.1:%d: %s", port, strerror(saved));
    }
    if (listen(fd, 128) != 0) {
        int saved = errno;
        close(fd);
        return ig_error_set(err, IG_ERR_CONNECT, "cannot listen on 127.0.0.1:%d: %s", port, strerror(saved));
    }
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        int saved = errno;
        close(fd);
        return ig_error_set(err, IG_ERR_CONNECT, "getsockname: %s", strerror(saved));
    }
    *fd_out = fd;
    *bound_port = ntohs(addr.sin_port);
    return IG_OK;
}

unsigned int gw_mhd_flags(void)
{
    return MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
           MHD_USE_ERROR_LOG;
}
