/*
 * tls_echo_ref.c - the C reference TLS echo server for echo_compare --tls:
 * the physical limit of a TLS echo on one core. One thread, one epoll
 * instance (level-triggered), non-blocking sockets, OpenSSL on the socket
 * directly (SSL_set_fd, no memory BIOs), a 16 KiB buffer per connection
 * only while an echo is waiting for the socket to take it.
 *
 * Usage: tls_echo_ref --host 127.0.0.1 --port P --cert FILE --key FILE
 * Runs until SIGTERM or SIGINT, then exits with status 0.
 *
 * Build: gcc -O2 -o .build-bench/tls_echo_ref scripts/bench/tls_echo_ref.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 16384

struct conn {
    int fd;
    SSL *ssl;
    int handshaken;
    unsigned char *pending;     /* an echo the socket did not take yet */
    int pending_len;
    int want_out;
};

static int epfd;
static unsigned char rbuf[BUF];

static void on_signal(int sig) { (void)sig; _exit(0); }

static void set_events(struct conn *c, int want_out)
{
    if (c->want_out == want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want_out;
}

static void drop(struct conn *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    SSL_free(c->ssl);
    close(c->fd);
    free(c->pending);
    free(c);
}

/* 1: wait for the socket; 0: done; -1: the connection is finished. */
static int settle(struct conn *c, int rc)
{
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ: set_events(c, 0); return 1;
    case SSL_ERROR_WANT_WRITE: set_events(c, 1); return 1;
    default: ERR_clear_error(); return -1;
    }
}

/* Sends the pending echo; 0 when it has all gone. */
static int flush_pending(struct conn *c)
{
    while (c->pending_len > 0) {
        int n = SSL_write(c->ssl, c->pending, c->pending_len);
        if (n <= 0)
            return settle(c, n);
        c->pending_len = 0;
    }
    set_events(c, 0);
    return 0;
}

static void on_event(struct conn *c)
{
    if (!c->handshaken) {
        int rc = SSL_accept(c->ssl);
        if (rc != 1) {
            if (settle(c, rc) < 0)
                drop(c);
            return;
        }
        c->handshaken = 1;
        set_events(c, 0);
    }
    if (c->pending_len > 0) {
        int r = flush_pending(c);
        if (r < 0)
            drop(c);
        if (r != 0)
            return;
    }
    for (;;) {
        int n = SSL_read(c->ssl, rbuf, BUF);
        if (n <= 0) {
            if (settle(c, n) < 0)
                drop(c);
            return;
        }
        int w = SSL_write(c->ssl, rbuf, n);
        if (w <= 0) {
            int r = settle(c, w);
            if (r < 0) {
                drop(c);
                return;
            }
            /* SSL_write must be retried with the same bytes. */
            c->pending = c->pending ? c->pending : malloc(BUF);
            memcpy(c->pending, rbuf, (size_t)n);
            c->pending_len = n;
            return;
        }
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *cert = NULL, *key = NULL;
    int port = 0;
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'h'}, {"port", required_argument, 0, 'p'},
        {"cert", required_argument, 0, 'c'}, {"key", required_argument, 0, 'k'}, {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        default: return 64;
        }
    }
    if (!cert || !key) {
        fprintf(stderr, "usage: tls_echo_ref --host H --port P --cert FILE --key FILE\n");
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "tls_echo_ref: cannot load %s / %s\n", cert, key);
        return 1;
    }

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 1024) != 0) {
        perror("tls_echo_ref: listen");
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);

    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epfd, events, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c != NULL) {
                on_event(c);
                continue;
            }
            for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    break;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                c = calloc(1, sizeof *c);
                c->fd = fd;
                c->ssl = SSL_new(ctx);
                SSL_set_fd(c->ssl, fd);
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
            }
        }
    }
}
