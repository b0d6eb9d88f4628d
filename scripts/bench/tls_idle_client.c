/*
 * tls_idle_client.c - the client of echo_compare --idle N: opens N TLS
 * connections to an echo server one after another, completes the handshake
 * and one echo of --size bytes on each (checked), then holds them all open
 * and idle until its stdin closes, so the caller can read the server's
 * memory with N idle TLS connections.
 *
 * Prints one JSON line when every connection is established and idle:
 *     {"event": "ready", "connections": N, "seconds": S}
 * and exits with status 0 once stdin reaches end of file (its connections
 * close then). Any failure: a message on stderr, exit status 1.
 *
 * Usage: tls_idle_client --host H --port P --connections N [--size S]
 * Build: gcc -O2 -o .build-bench/tls_idle_client scripts/bench/tls_idle_client.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(int index, const char *what)
{
    unsigned long e = ERR_get_error();
    fprintf(stderr, "tls_idle_client: connection %d: %s%s%s\n", index, what,
            e ? ": " : "", e ? ERR_reason_error_string(e) : "");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 0, connections = 0, size = 64;
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'h'}, {"port", required_argument, 0, 'p'},
        {"connections", required_argument, 0, 'n'}, {"size", required_argument, 0, 's'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': connections = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        default: return 64;
        }
    }
    if (port <= 0 || connections <= 0 || size <= 0 || size > 16384) {
        fprintf(stderr, "usage: tls_idle_client --host H --port P --connections N [--size S<=16384]\n");
        return 64;
    }

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);  /* a benchmark: the server is ours */
    /* The client's own buffers are not what is measured, but keep it small. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "tls_idle_client: bad host %s\n", host);
        return 64;
    }
    unsigned char *msg = malloc((size_t)size), *echo = malloc((size_t)size);
    SSL **held = calloc((size_t)connections, sizeof *held);
    int one = 1;
    double start = now();
    for (int i = 0; i < connections; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            fail(i, "socket");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
            fail(i, "connect");
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) != 1)
            fail(i, "handshake");
        for (int k = 0; k < size; k++)
            msg[k] = (unsigned char)(i + k);
        if (SSL_write(ssl, msg, size) != size)
            fail(i, "write");
        int got = 0;
        while (got < size) {
            int n = SSL_read(ssl, echo + got, size - got);
            if (n <= 0)
                fail(i, "read");
            got += n;
        }
        if (memcmp(msg, echo, (size_t)size) != 0)
            fail(i, "echo differs");
        held[i] = ssl;
    }
    printf("{\"event\": \"ready\", \"connections\": %d, \"seconds\": %.3f}\n", connections, now() - start);
    fflush(stdout);

    char discard[256];
    while (fread(discard, 1, sizeof discard, stdin) > 0) {
    }
    /* Exit closes the sockets; no close_notify, as for a client that goes away. */
    return 0;
}
