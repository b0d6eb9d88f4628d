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
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
extern int pipe2(int fds[2], int flags);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

extern int pthread_setname_np(pthread_t thread, const char *name);

/// The calling thread's kernel ID (gettid, a glibc 2.30 wrapper declared
/// only under _GNU_SOURCE).
static inline int clinux_gettid(void) {
    return (int)syscall(SYS_gettid);
}

/// Sets the capacity of a pipe's kernel buffer (F_SETPIPE_SZ, which glibc
/// declares only under _GNU_SOURCE; its value is fixed in Linux's ABI).
static inline int clinux_set_pipe_size(int fd, int size) {
    return fcntl(fd, 1031, size);
}

/// A descriptor that becomes readable when process `pid` exits (Linux 5.3+);
/// -1 with errno set (ENOSYS on older kernels) otherwise. Called through
/// syscall(2) so it works with C libraries that lack the wrapper.
static inline int clinux_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/// The C library's `stdout` stream. Swift imports the global as a mutable
/// variable, which strict concurrency rejects; the stream itself is
/// thread-safe (stdio locks it).
static inline FILE *clinux_stdout(void) {
    return stdout;
}

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
