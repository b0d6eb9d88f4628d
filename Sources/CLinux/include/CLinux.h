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

extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
extern int pipe2(int fds[2], int flags);

/// Returns the heap's free pages to the system (glibc's malloc_trim); 0 elsewhere.
int clinux_release_free_memory(void);

#endif
