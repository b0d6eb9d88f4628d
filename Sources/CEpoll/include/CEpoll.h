// Linux interfaces Swift's Glibc module does not export.
#ifndef CEPOLL_H
#define CEPOLL_H

#include <sys/epoll.h>
#include <sys/eventfd.h>

#endif
