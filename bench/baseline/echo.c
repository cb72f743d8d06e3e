/*
 * echo.c — baseline TCP echo server in C (benchmark reference).
 *
 * Single thread, level-triggered epoll, non-blocking sockets.
 *   - listen socket: SO_REUSEADDR, non-blocking, backlog SOMAXCONN
 *   - accepted sockets: accept4(SOCK_NONBLOCK|SOCK_CLOEXEC), TCP_NODELAY
 *   - per connection a 64 KiB buffer; data is read until EAGAIN, a short read
 *     (socket drained; safe with level-triggered epoll) or the buffer is
 *     full, and written back after every read. Unsent bytes stay in the buffer; the
 *     connection then waits for EPOLLOUT and stops reading while its buffer is
 *     full (back-pressure towards the peer).
 *   - half-close: on read() == 0 the remaining bytes are still written, then
 *     shutdown(SHUT_WR) and close().
 *   - SIGTERM / SIGINT (via signalfd): close everything, exit 0.
 *
 * Usage: echo-c [--host 127.0.0.1] [--port 0]
 * Prints exactly one line "LISTENING <port>" on stdout once listening.
 *
 * Build: cc -O2 -Wall -Wextra -o echo-c echo.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_CAP (64 * 1024)
#define MAX_EVENTS 512

struct conn {
    int fd;
    int rd_closed;      /* peer sent FIN */
    uint32_t interest;  /* currently registered epoll events */
    size_t start, end;  /* pending bytes are buf[start, end) */
    char *buf;
};

static struct conn **conns; /* indexed by fd */
static size_t conns_cap;
static int epfd = -1;
static int spare_fd = -1; /* reserve fd for EMFILE handling */

static void usage(const char *argv0) {
    fprintf(stderr, "usage: %s [--host 127.0.0.1] [--port 0]\n", argv0);
}

static void conn_close(struct conn *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns[c->fd] = NULL;
    free(c->buf);
    free(c);
}

/* Desired interest set for the connection's current state. */
static uint32_t want_events(const struct conn *c) {
    uint32_t ev = 0;
    if (!c->rd_closed && c->end < BUF_CAP)
        ev |= EPOLLIN;
    if (c->end > c->start)
        ev |= EPOLLOUT;
    return ev;
}

/* Returns 0 if the connection is still alive, -1 if it was closed. */
static int conn_update(struct conn *c) {
    if (c->rd_closed && c->end == c->start) {
        shutdown(c->fd, SHUT_WR);
        conn_close(c);
        return -1;
    }
    uint32_t ev = want_events(c);
    if (ev != c->interest) {
        struct epoll_event e = {.events = ev, .data.fd = c->fd};
        if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0) {
            conn_close(c);
            return -1;
        }
        c->interest = ev;
    }
    return 0;
}

/* Write pending bytes. Returns -1 on a fatal error (connection closed). */
static int conn_flush(struct conn *c) {
    while (c->end > c->start) {
        ssize_t n = send(c->fd, c->buf + c->start, c->end - c->start, MSG_NOSIGNAL);
        if (n > 0) {
            c->start += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            conn_close(c);
            return -1;
        }
    }
    if (c->start == c->end) {
        c->start = c->end = 0;
    } else if (c->end == BUF_CAP && c->start > 0) {
        /* make room for more reads */
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    return 0;
}

static void conn_readable(struct conn *c) {
    while (!c->rd_closed && c->end < BUF_CAP) {
        size_t room = BUF_CAP - c->end;
        ssize_t n = read(c->fd, c->buf + c->end, room);
        if (n > 0) {
            c->end += (size_t)n;
            if (conn_flush(c) < 0)
                return;
            /* A short read means the socket buffer was drained. Level-triggered
             * epoll reports the fd again if more arrived meanwhile, so skip the
             * extra read() that would only return EAGAIN. */
            if ((size_t)n < room)
                break;
        } else if (n == 0) {
            c->rd_closed = 1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            conn_close(c);
            return;
        }
    }
    conn_update(c);
}

static void conn_writable(struct conn *c) {
    if (conn_flush(c) < 0)
        return;
    /* buffer may have room again: try to read right away */
    if (!c->rd_closed && c->end < BUF_CAP)
        conn_readable(c);
    else
        conn_update(c);
}

static void accept_all(int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
                /* shed one pending connection so we do not spin */
                close(spare_fd);
                int t = accept(lfd, NULL, NULL);
                if (t >= 0)
                    close(t);
                spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                continue;
            }
            return; /* EAGAIN or other */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if ((size_t)fd >= conns_cap) {
            size_t ncap = conns_cap ? conns_cap : 1024;
            while (ncap <= (size_t)fd)
                ncap *= 2;
            struct conn **n = realloc(conns, ncap * sizeof *n);
            if (!n) {
                close(fd);
                continue;
            }
            memset(n + conns_cap, 0, (ncap - conns_cap) * sizeof *n);
            conns = n;
            conns_cap = ncap;
        }
        struct conn *c = calloc(1, sizeof *c);
        char *buf = malloc(BUF_CAP);
        if (!c || !buf) {
            free(c);
            free(buf);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->buf = buf;
        c->interest = EPOLLIN;
        struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
            free(buf);
            free(c);
            close(fd);
            continue;
        }
        conns[fd] = c;
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    long port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc) {
            host = argv[++i];
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            char *end;
            errno = 0;
            port = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || port < 0 || port > 65535) {
                usage(argv[0]);
                return 2;
            }
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(argv[0]);
            return 0;
        } else {
            usage(argv[0]);
            return 2;
        }
    }

    /* allow many idle connections */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "echo-c: invalid IPv4 host: %s\n", host);
        return 2;
    }

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        perror("socket");
        return 1;
    }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        return 1;
    }
    if (listen(lfd, SOMAXCONN) < 0) {
        perror("listen");
        return 1;
    }
    socklen_t alen = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
        perror("getsockname");
        return 1;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0 || sfd < 0) {
        perror("epoll/signalfd");
        return 1;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e);
    e.data.fd = sfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &e);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    printf("LISTENING %u\n", (unsigned)ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            uint32_t ev = evs[i].events;
            if (fd == lfd) {
                accept_all(lfd);
                continue;
            }
            if (fd == sfd) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                }
                for (size_t k = 0; k < conns_cap; k++)
                    if (conns[k])
                        conn_close(conns[k]);
                free(conns);
                close(lfd);
                return 0;
            }
            struct conn *c = ((size_t)fd < conns_cap) ? conns[fd] : NULL;
            if (!c)
                continue;
            if (ev & EPOLLERR) {
                conn_close(c);
                continue;
            }
            if (ev & EPOLLOUT) {
                conn_writable(c);
                c = conns[fd];
                if (!c)
                    continue;
            }
            if (ev & (EPOLLIN | EPOLLHUP)) {
                if (!c->rd_closed && c->end < BUF_CAP) {
                    conn_readable(c);
                } else if (ev & EPOLLHUP) {
                    /* both directions gone, nothing more can be delivered */
                    conn_close(c);
                }
            }
        }
    }
}
