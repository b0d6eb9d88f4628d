// Linux interfaces Swift's Glibc module does not export: epoll, eventfd,
// accept4 and pipe2 (declared by glibc only under _GNU_SOURCE, which would make
// this module's view of the C headers differ from Glibc's).
#ifndef CLINUX_H
#define CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
extern int pipe2(int fds[2], int flags);

/// Returns the heap's free pages to the system (glibc's malloc_trim); a
/// no-op with other C libraries, which give memory back on their own terms.
static inline int clinux_release_free_memory(void) {
#ifdef __GLIBC__
    return malloc_trim(0);
#else
    return 0;
#endif
}

#endif
