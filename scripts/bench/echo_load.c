/*
 * echo_load.c - closed-loop load generator for TCP echo servers.
 *
 * One thread, one epoll instance, N non-blocking TCP connections. Every
 * connection keeps exactly one message of SIZE bytes in flight: it sends the
 * message, reads until SIZE bytes have come back, checks that they are the
 * bytes it sent, and starts the next message. The number of such round
 * trips completed per second is the server's throughput at this
 * concurrency; with one connection it is the inverse of the round-trip
 * latency.
 *
 * Usage:
 *   echo_load --host 127.0.0.1 --port P --connections N --size BYTES
 *             --seconds S [--warmup S] [--sync]
 *
 * All connections are opened before any timing starts (connect is retried
 * for a few seconds while the server refuses, so the server may still be
 * starting). Round trips completed during the warm-up are not counted.
 *
 * Output: one JSON line on stdout,
 *   {"round_trips": n, "seconds": s, "rps": x, "errors": e,
 *    "connections": N, "size": SIZE, "mean_latency_us": l, "client_cpu": c}
 * errors = echoed messages that did not match + connections that failed or
 * were closed by the server (counted from the first byte sent, warm-up
 * included). client_cpu = this process's CPU time (user + sys) during the
 * measured interval divided by its length: near 1.0 means the generator,
 * not the server, was the bottleneck.
 *
 * --tls: speak TLS (OpenSSL, no certificate verification: a benchmark);
 * each connection's handshake is done before timing starts, and the echo
 * is checked after decryption. --new-session-per-request: close after each
 * round trip and open a new connection with a full handshake, to measure
 * handshakes (round trips/s is then new sessions/s).
 *
 * --sync (for scripts/bench/echo_compare): also print {"event": "start"} at
 * the moment measuring starts, and after the result line keep the
 * connections open (and idle) until stdin reaches EOF, so the caller can
 * sample the server's CPU counters at both ends of the measured interval.
 *
 * Build: gcc -O2 -o .build-bench/echo_load scripts/bench/echo_load.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_SPAN 251        /* prime: message offsets cycle through it */
#define MAX_EVENTS 256
#define CONNECT_RETRY_SECONDS 10.0

struct options {
    const char *host;
    const char *port;
    int connections;
    size_t size;
    double seconds;
    double warmup;
    int sync;
    int tls;
    int new_session;
};

struct conn {
    int fd;                     /* -1 once closed */
    unsigned id;
    uint32_t seq;               /* messages started on this connection */
    const unsigned char *msg;   /* the current message */
    size_t sent;                /* bytes of it written so far */
    size_t received;            /* bytes of it echoed back so far */
    int want_out;               /* EPOLLOUT is registered */
    int mismatch;               /* the current echo already differed */
    SSL *ssl;                   /* with --tls */
};

enum phase { WARMUP, MEASURING, DONE };

struct state {
    struct options opt;
    int epfd;
    struct conn *conns;
    int alive;                  /* connections still open */
    enum phase phase;
    uint64_t round_trips;       /* completed while MEASURING */
    uint64_t errors;            /* mismatches and failed connections */
    int failed_conns;           /* connections that broke (for messages) */
    unsigned char *pattern;     /* size + PATTERN_SPAN pseudo-random bytes */
    unsigned char *rbuf;        /* receive buffer, size bytes */
    SSL_CTX *ctx;               /* with --tls */
    struct addrinfo *ai;        /* the server, for --new-session-per-request */
};

/* ---------------------------------------------------------------- utils */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
         + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *msg)
{
    fprintf(stderr, "echo_load: %s\n", msg);
    exit(2);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: echo_load --host HOST --port PORT --connections N --size BYTES\n"
            "                 --seconds S [--warmup S] [--sync] [--tls [--new-session-per-request]]\n");
    exit(2);
}

/* Make sure N connections (plus stdio and epoll) fit under RLIMIT_NOFILE. */
static void raise_fd_limit(int connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)connections + 32;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* -------------------------------------------------------------- options */

static double parse_seconds(const char *s, const char *name)
{
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || v < 0) {
        fprintf(stderr, "echo_load: bad %s: %s\n", name, s);
        usage();
    }
    return v;
}

static long parse_positive(const char *s, const char *name)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v <= 0) {
        fprintf(stderr, "echo_load: bad %s: %s\n", name, s);
        usage();
    }
    return v;
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'h'},
        {"port", required_argument, 0, 'p'},
        {"connections", required_argument, 0, 'c'},
        {"size", required_argument, 0, 's'},
        {"seconds", required_argument, 0, 't'},
        {"warmup", required_argument, 0, 'w'},
        {"sync", no_argument, 0, 'S'},
        {"tls", no_argument, 0, 'T'},
        {"new-session-per-request", no_argument, 0, 'N'},
        {0, 0, 0, 0},
    };
    struct options o = {"127.0.0.1", NULL, 1, 1024, 5.0, 1.0, 0, 0, 0};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = optarg; break;
        case 'c': o.connections = (int)parse_positive(optarg, "--connections"); break;
        case 's': o.size = (size_t)parse_positive(optarg, "--size"); break;
        case 't': o.seconds = parse_seconds(optarg, "--seconds"); break;
        case 'w': o.warmup = parse_seconds(optarg, "--warmup"); break;
        case 'S': o.sync = 1; break;
        case 'T': o.tls = 1; break;
        case 'N': o.new_session = 1; break;
        default: usage();
        }
    }
    if (optind != argc || o.port == NULL || o.seconds <= 0)
        usage();
    return o;
}

/* ----------------------------------------------------------- connecting */

static struct addrinfo *resolve(const char *host, const char *port)
{
    struct addrinfo hints = {0}, *res;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "echo_load: cannot resolve %s:%s: %s\n", host, port, gai_strerror(rc));
        exit(2);
    }
    return res;
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Blocking connect, retried while refused (server not listening yet). */
static int connect_one(const struct addrinfo *ai, double give_up_at)
{
    for (;;) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            perror("echo_load: socket");
            return -1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            if (set_nonblocking(fd) == 0)
                return fd;
            perror("echo_load: fcntl");
            close(fd);
            return -1;
        }
        int err = errno;
        close(fd);
        int transient = err == ECONNREFUSED || err == EINTR || err == EAGAIN || err == ETIMEDOUT;
        if (!transient || now_seconds() >= give_up_at) {
            fprintf(stderr, "echo_load: connect: %s\n", strerror(err));
            return -1;
        }
        usleep(20 * 1000);
    }
}

/* A blocking TLS handshake on a connected socket, which is left non-blocking. */
static SSL *handshake(SSL_CTX *ctx, int fd)
{
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    int rc = SSL_connect(ssl);
    fcntl(fd, F_SETFL, flags);
    if (rc != 1) {
        unsigned long e = ERR_get_error();
        fprintf(stderr, "echo_load: TLS handshake failed: %s\n", e ? ERR_reason_error_string(e) : "EOF");
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

/* Connects c (and handshakes with --tls); -1 on failure. */
static int open_conn(struct state *st, struct conn *c, double give_up_at)
{
    c->fd = connect_one(st->ai, give_up_at);
    if (c->fd < 0)
        return -1;
    if (st->opt.tls && (c->ssl = handshake(st->ctx, c->fd)) == NULL) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->want_out = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        die("epoll_ctl ADD failed");
    st->alive++;
    return 0;
}

static void open_connections(struct state *st)
{
    st->ai = resolve(st->opt.host, st->opt.port);
    double give_up_at = now_seconds() + CONNECT_RETRY_SECONDS;
    for (int i = 0; i < st->opt.connections; i++) {
        struct conn *c = &st->conns[i];
        c->id = (unsigned)i;
        if (open_conn(st, c, give_up_at) != 0) {
            fprintf(stderr, "echo_load: connection %d of %d failed\n", i + 1, st->opt.connections);
            exit(1);
        }
    }
}

/* ------------------------------------------------------------ messages */

static void set_events(struct state *st, struct conn *c, int want_out)
{
    if (c->want_out == want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(st->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_ctl MOD failed");
    c->want_out = want_out;
}

static void close_conn(struct state *st, struct conn *c)
{
    if (c->fd < 0)
        return;
    epoll_ctl(st->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    close(c->fd);
    c->fd = -1;
    st->alive--;
}

/* A connection that broke: count it and stop using it. */
static void fail_conn(struct state *st, struct conn *c, const char *why)
{
    if (st->failed_conns++ < 10)
        fprintf(stderr, "echo_load: connection %u: %s\n", c->id, why);
    st->errors++;
    close_conn(st, c);
}

/* Write what is left of the current message; returns -1 if the connection broke. */
static int flush_out(struct state *st, struct conn *c)
{
    while (c->sent < st->opt.size) {
        if (c->ssl) {
            int n = SSL_write(c->ssl, c->msg + c->sent, (int)(st->opt.size - c->sent));
            if (n > 0) {
                c->sent += (size_t)n;
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                set_events(st, c, 1);
                return 0;
            }
            fail_conn(st, c, "SSL_write failed");
            return -1;
        }
        ssize_t n = send(c->fd, c->msg + c->sent, st->opt.size - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(st, c, 1);
            return 0;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            fail_conn(st, c, n < 0 ? strerror(errno) : "send returned 0");
            return -1;
        }
    }
    set_events(st, c, 0);
    return 0;
}

static void start_message(struct state *st, struct conn *c)
{
    size_t offset = ((size_t)c->id * 31u + c->seq) % PATTERN_SPAN;
    c->seq++;
    c->msg = st->pattern + offset;
    c->sent = 0;
    c->received = 0;
    c->mismatch = 0;
    flush_out(st, c);
}

static void finish_round_trip(struct state *st, struct conn *c)
{
    if (c->mismatch)
        st->errors++;
    else if (st->phase == MEASURING)
        st->round_trips++;
    if (st->phase == DONE)
        return;
    if (st->opt.new_session) {
        if (c->ssl)
            SSL_shutdown(c->ssl);
        close_conn(st, c);
        if (open_conn(st, c, now_seconds() + CONNECT_RETRY_SECONDS) != 0) {
            fail_conn(st, c, "reconnect failed");
            return;
        }
    }
    start_message(st, c);
}

/* Read the echo of the current message; never reads past its end. */
static void on_readable(struct state *st, struct conn *c)
{
    for (;;) {
        size_t want = st->opt.size - c->received;
        if (want == 0) {
            /* Bytes beyond what we sent: the server is not an echo server. */
            want = st->opt.size;
        }
        ssize_t n;
        if (c->ssl) {
            int r = SSL_read(c->ssl, st->rbuf, (int)want);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return;
                fail_conn(st, c, e == SSL_ERROR_ZERO_RETURN ? "closed by the server" : "SSL_read failed");
                return;
            }
            n = r;
        } else {
            n = recv(c->fd, st->rbuf, want, 0);
        }
        if (n > 0) {
            if (c->received + (size_t)n > c->sent ||
                memcmp(st->rbuf, c->msg + c->received, (size_t)n) != 0)
                c->mismatch = 1;
            c->received += (size_t)n;
            if (c->received >= st->opt.size) {
                finish_round_trip(st, c);
                return;         /* level-triggered: epoll reports the next echo */
            }
        } else if (n == 0) {
            fail_conn(st, c, "closed by the server");
            return;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else if (errno != EINTR) {
            fail_conn(st, c, strerror(errno));
            return;
        }
    }
}

static void on_event(struct state *st, struct conn *c, uint32_t events)
{
    if (c->fd < 0)
        return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(st, c);
    if (c->fd >= 0 && (events & EPOLLOUT))
        flush_out(st, c);
}

/* ------------------------------------------------------------- running */

static void fill_pattern(unsigned char *p, size_t n)
{
    uint32_t x = 2463534242u;   /* xorshift32: reproducible, not constant */
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

static int ms_until(double deadline)
{
    double left = deadline - now_seconds();
    if (left <= 0)
        return 0;
    return (int)(left * 1000.0) + 1;
}

/* Wait for EOF on stdin (the caller has read the result). */
static void hold_until_stdin_eof(void)
{
    char buf[256];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR))
            return;
    }
}

int main(int argc, char **argv)
{
    struct state st = {0};
    st.opt = parse_options(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(st.opt.connections);

    st.pattern = malloc(st.opt.size + PATTERN_SPAN);
    st.rbuf = malloc(st.opt.size);
    st.conns = calloc((size_t)st.opt.connections, sizeof *st.conns);
    st.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!st.pattern || !st.rbuf || !st.conns || st.epfd < 0)
        die("out of memory or epoll_create1 failed");
    fill_pattern(st.pattern, st.opt.size + PATTERN_SPAN);
    if (st.opt.tls) {
        st.ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(st.ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_mode(st.ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }

    open_connections(&st);

    double t0 = now_seconds(), t1 = t0, cpu0 = cpu_seconds(), cpu1 = cpu0;
    st.phase = st.opt.warmup > 0 ? WARMUP : MEASURING;
    double deadline = t0 + (st.phase == WARMUP ? st.opt.warmup : st.opt.seconds);
    if (st.phase == MEASURING && st.opt.sync) {
        printf("{\"event\": \"start\"}\n");
        fflush(stdout);
    }
    for (int i = 0; i < st.opt.connections; i++)
        start_message(&st, &st.conns[i]);

    struct epoll_event events[MAX_EVENTS];
    while (st.phase != DONE && st.alive > 0) {
        int n = epoll_wait(st.epfd, events, MAX_EVENTS, ms_until(deadline));
        if (n < 0 && errno != EINTR)
            die("epoll_wait failed");
        for (int i = 0; i < n; i++)
            on_event(&st, events[i].data.ptr, events[i].events);
        double now = now_seconds();
        if (now < deadline)
            continue;
        if (st.phase == WARMUP) {
            st.phase = MEASURING;
            st.round_trips = 0;
            t0 = now;
            cpu0 = cpu_seconds();
            deadline = now + st.opt.seconds;
            if (st.opt.sync) {
                printf("{\"event\": \"start\"}\n");
                fflush(stdout);
            }
        } else {
            st.phase = DONE;
        }
    }
    t1 = now_seconds();
    cpu1 = cpu_seconds();
    int all_failed = st.phase != DONE;
    if (st.phase == WARMUP)     /* every connection failed during the warm-up */
        t0 = t1;

    double secs = t1 - t0;
    double rps = secs > 0 ? st.round_trips / secs : 0.0;
    double latency_us = st.round_trips ? st.opt.connections * secs / st.round_trips * 1e6 : 0.0;
    printf("{\"round_trips\": %llu, \"seconds\": %.6f, \"rps\": %.1f, \"errors\": %llu, "
           "\"connections\": %d, \"size\": %zu, \"mean_latency_us\": %.2f, \"client_cpu\": %.3f}\n",
           (unsigned long long)st.round_trips, secs, rps, (unsigned long long)st.errors,
           st.opt.connections, st.opt.size, latency_us, secs > 0 ? (cpu1 - cpu0) / secs : 0.0);
    fflush(stdout);

    if (st.opt.sync)
        hold_until_stdin_eof();
    for (int i = 0; i < st.opt.connections; i++)
        close_conn(&st, &st.conns[i]);
    return all_failed ? 1 : 0;
}
