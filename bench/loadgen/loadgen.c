/*
 * loadgen.c — single-threaded epoll TCP echo load generator with byte-exact
 * verification.
 *
 * Build: cc -O2 -Wall -Wextra -o loadgen loadgen.c
 *
 * Usage:
 *   loadgen --host 127.0.0.1 --port P --mode pingpong|stream|connect|idle
 *           [--connections N] [--size BYTES] [--duration SECONDS]
 *           [--warmup SECONDS] [--rate R] [--count N]
 *   (--opt=value is accepted too)
 *
 * Defaults: --host 127.0.0.1, --connections 10, --duration 5, --warmup 1,
 *           --size 64 (pingpong/connect/idle) or 16384 (stream).
 *           --size 0 is allowed in idle mode only (connect, no exchange).
 * Connections of pingpong/stream/idle are opened with at most 128 handshakes
 * in flight (ramp-up happens during warmup); RLIMIT_NOFILE is raised to
 * connections + 64 (exit 2 if the hard limit does not allow it).
 *
 * Modes
 *   pingpong  every connection sends --size bytes, waits until all of them are
 *             echoed, repeats. Closed loop by default; latency = first send()
 *             of the message .. last byte received. With --rate R (messages/s
 *             over all connections) each connection has its own open-loop
 *             schedule (interval N/R, connections staggered) and latency is
 *             measured from the *intended* send time, so a stalled server is
 *             charged for the whole queueing delay (no coordinated omission).
 *   stream    every connection writes --size-byte chunks continuously, keeping
 *             at most 256 KiB (or --size if larger) generated-but-not-echoed,
 *             and reads/verifies the echo. "messages" = verified bytes / size.
 *   connect   N concurrent loops of: socket+connect (non-blocking) -> send
 *             --size bytes -> read them back -> close. Latency is the whole
 *             cycle (from intended start with --rate). Reports conns_per_s.
 *   idle      opens N connections (at most 128 handshakes/exchanges in
 *             flight), does one --size-byte exchange on each, then prints
 *             "IDLE_READY <open>" to stderr and holds them for --duration
 *             seconds (warmup is not used). Peer closes (EPOLLRDHUP / read 0 /
 *             reset) during the hold reduce open_at_end; they are not errors.
 *             duration_s is the hold time. Opening/exchange has a 10 s timeout
 *             per connection (counted as an error).
 *
 * Verification: each connection (and each re-opened connection, and each
 *   connect-mode cycle) sends a deterministic pseudo-random byte stream and
 *   checks the echoed bytes against the same stream. The streams are cut from
 *   one precomputed 1 MiB xorshift64* pattern (fixed seed), read cyclically
 *   from a starting offset derived from (connection index, cycle counter), so
 *   bytes are sent straight from the pattern and each read() is checked with
 *   one memcmp(). Any echoed byte that differs, or more bytes than were
 *   sent, counts as one mismatch; that connection is then closed and a fresh
 *   one is opened (new starting offset) since the stream can't be trusted
 *   any more.
 *   Connection errors (connect failure, reset, unexpected EOF, timeout) count
 *   as errors; pingpong/stream reconnect after 10 ms, connect mode starts
 *   its next cycle after 10 ms. Errors and mismatches are counted over the
 *   whole run including warmup; throughput/latency only after warmup.
 *
 * --count N: stop after N measured (post-warmup) messages/cycles (stream: N
 *   chunks of --size bytes) instead of after --duration; if --duration is
 *   also given explicitly it caps the run time. Not valid for idle.
 * --rate: pingpong and connect only.
 *
 * Output: exactly one JSON object on stdout at the end (also after SIGINT/
 *   SIGTERM, which stop the run early):
 *   {"mode","connections","size","duration_s","messages","msgs_per_s",
 *    "mb_per_s","conns_per_s","latency_us":{"p50","p90","p99","p999","max",
 *    "mean"},"errors","mismatches","open_at_end","latency_curve_us"}
 *   mb_per_s = verified echoed payload bytes / 1e6 / duration_s.
 *   conns_per_s only in connect mode, open_at_end only in idle mode,
 *   latency_us only in pingpong/connect (null otherwise or when no samples).
 *   latency_curve_us: [[percentile, us], ...] at CURVE_PCT below (p0 = the
 *   exact min), null when latency_us is: the points of a percentile chart.
 *   Keys are only ever added at the end (tcp-echo bench --json prints the
 *   same schema).
 * Exit: 0 = no errors and no mismatches, 1 = otherwise, 2 = bad arguments.
 *
 * Latency histogram: HDR-style log-linear, nanosecond units, 128 linear
 *   sub-buckets per power of two (bucket width <= 1/128 of the value, i.e.
 *   < 0.8 % relative error), range 0 .. 60 s (larger values clamp to 60 s).
 *   Percentiles report the highest value equivalent to the bucket (capped at
 *   the exact max); max and mean are exact.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* configuration                                                             */

enum mode { M_PINGPONG, M_STREAM, M_CONNECT, M_IDLE };
static const char *mode_names[] = {"pingpong", "stream", "connect", "idle"};

#define STREAM_WINDOW_MIN (256 * 1024)
#define SCRATCH_SIZE (256 * 1024)
#define MAX_OPENING 128
#define BACKOFF_NS 10000000LL        /* 10 ms before reconnecting after an error */
#define IDLE_OPEN_TIMEOUT_NS 10000000000LL
#define MAX_EVENTS 1024
#define INF_NS INT64_MAX

static struct {
    struct sockaddr_in addr;
    enum mode mode;
    long conns;
    long size;
    double duration;
    double warmup;
    double rate; /* 0 = closed loop */
    long long count; /* 0 = duration based */
    int duration_given;
} cfg;

/* ------------------------------------------------------------------------ */
/* time                                                                      */

static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* deterministic byte stream: a precomputed pseudo-random pattern            */

/*
 * pattern[0 .. PAT_LEN) holds xorshift64* bytes from a fixed seed; it is
 * followed by pat_tail more bytes that repeat it from the start
 * (pattern[i] == pattern[i % PAT_LEN]). A connection's byte stream is the
 * pattern read cyclically from its starting offset, so the bytes at stream
 * position pos are pattern + ((base + pos) % PAT_LEN), contiguous for up to
 * pat_tail bytes. Generating is then free (send() straight from the pattern)
 * and verifying is one memcmp() per read().
 */
#define PAT_LEN (1u << 20)               /* period of every stream; power of 2 */
#define PAT_TAIL_MAX (16u * 1024 * 1024) /* longer sends are split */

static uint8_t *pattern;
static size_t pat_tail; /* >= SCRATCH_SIZE: any read() can be verified in one go */

static inline uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static inline uint64_t xs_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* tail = longest contiguous window needed (message/chunk size, at least one read) */
static int pattern_init(size_t tail) {
    if (tail < SCRATCH_SIZE)
        tail = SCRATCH_SIZE;
    if (tail > PAT_TAIL_MAX)
        tail = PAT_TAIL_MAX;
    pat_tail = tail;
    size_t total = PAT_LEN + tail;
    pattern = malloc(total);
    if (!pattern)
        return -1;
    uint64_t s = splitmix64(0x5EEDC0DE00000000ULL) | 1;
    for (size_t i = 0; i < PAT_LEN; i += 8) {
        uint64_t w = xs_next(&s);
        for (int b = 0; b < 8; b++)
            pattern[i + (size_t)b] = (uint8_t)(w >> (8 * b));
    }
    for (size_t off = PAT_LEN; off < total; off += PAT_LEN) {
        size_t n = total - off < PAT_LEN ? total - off : PAT_LEN;
        memcpy(pattern + off, pattern, n);
    }
    return 0;
}

/* starting offset of the stream of connection idx, (re)opened for the cycle-th time */
static inline uint32_t stream_base(uint64_t idx, uint64_t cycle) {
    return (uint32_t)(splitmix64((idx << 32) ^ cycle ^ 0x5EEDC0DE00000000ULL) & (PAT_LEN - 1));
}

static inline const uint8_t *pat_at(uint32_t base, uint64_t pos) {
    return pattern + ((base + pos) & (PAT_LEN - 1));
}

/* returns 1 if p[0..n) equals the stream bytes at pos .. pos+n (n <= pat_tail) */
static inline int pat_verify(uint32_t base, uint64_t pos, const uint8_t *p, size_t n) {
    return memcmp(p, pat_at(base, pos), n) == 0;
}

/* send up to len stream bytes starting at stream position pos */
static inline ssize_t pat_send(int fd, uint32_t base, uint64_t pos, size_t len) {
    if (len > pat_tail)
        len = pat_tail;
    return send(fd, pat_at(base, pos), len, MSG_NOSIGNAL);
}

/* ------------------------------------------------------------------------ */
/* HDR-style histogram (ns)                                                  */

#define H_SUB_BITS 7
#define H_SUB (1 << H_SUB_BITS)           /* 128 */
#define H_MAX_NS 60000000000LL            /* 60 s, < 2^36 */
#define H_TOP_BIT 35
#define H_BUCKETS (2 * H_SUB + (H_TOP_BIT - H_SUB_BITS) * H_SUB)

static struct {
    uint64_t counts[H_BUCKETS];
    uint64_t n;
    double sum;
    int64_t min;
    int64_t max;
} hist;

/* Percentiles of latency_curve_us, as in src/bench/latency.ts (CURVE_PERCENTILES):
 * tail (1 - q) in steps of 1, 2, 5 per decade, so they spread evenly on a
 * log(1 - q) axis. */
static const double CURVE_PCT[] = {0,    50,    80,    90,     95,     98,     99,     99.5,
                                   99.8, 99.9,  99.95, 99.98,  99.99,  99.995, 99.998, 99.999};

static inline int h_index(uint64_t v) {
    if (v < 2 * H_SUB)
        return (int)v;
    int k = 63 - __builtin_clzll(v); /* >= 8 */
    int shift = k - H_SUB_BITS;
    return 2 * H_SUB + (k - H_SUB_BITS - 1) * H_SUB + (int)((v >> shift) - H_SUB);
}

static inline uint64_t h_highest(int idx) {
    if (idx < 2 * H_SUB)
        return (uint64_t)idx;
    int k = (idx - 2 * H_SUB) / H_SUB + H_SUB_BITS + 1;
    uint64_t sub = (uint64_t)((idx - 2 * H_SUB) % H_SUB + H_SUB);
    int shift = k - H_SUB_BITS;
    return (sub << shift) + ((1ULL << shift) - 1);
}

static void h_record(int64_t v) {
    if (v < 0)
        v = 0;
    if (v > H_MAX_NS)
        v = H_MAX_NS;
    hist.counts[h_index((uint64_t)v)]++;
    if (hist.n == 0 || v < hist.min)
        hist.min = v;
    hist.n++;
    hist.sum += (double)v;
    if (v > hist.max)
        hist.max = v;
}

static double h_percentile_us(double p) {
    if (p <= 0)
        return (double)hist.min / 1000.0;
    double x = p / 100.0 * (double)hist.n;
    uint64_t target = (uint64_t)x;
    if ((double)target < x)
        target++; /* ceil without libm */
    if (target < 1)
        target = 1;
    uint64_t cum = 0;
    for (int i = 0; i < H_BUCKETS; i++) {
        cum += hist.counts[i];
        if (cum >= target) {
            uint64_t v = h_highest(i);
            if (v > (uint64_t)hist.max)
                v = (uint64_t)hist.max;
            return (double)v / 1000.0;
        }
    }
    return (double)hist.max / 1000.0;
}

/* ------------------------------------------------------------------------ */
/* timers: binary min-heap; each connection has at most one live timer       */

enum tkind { T_RECONNECT, T_SEND, T_START, T_TIMEOUT };

struct tmr {
    int64_t when;
    uint32_t idx;
    uint32_t seq;
    int kind;
};

static struct tmr *heap;
static size_t heap_n, heap_cap;

static void heap_push(struct tmr t) {
    if (heap_n == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 1024;
        heap = realloc(heap, heap_cap * sizeof *heap);
        if (!heap) {
            perror("realloc");
            exit(1);
        }
    }
    size_t i = heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (heap[p].when <= t.when)
            break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = t;
}

static struct tmr heap_pop(void) {
    struct tmr top = heap[0];
    struct tmr last = heap[--heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t mw = last.when;
        if (l < heap_n && heap[l].when < mw) {
            m = l;
            mw = heap[l].when;
        }
        if (r < heap_n && heap[r].when < mw)
            m = r;
        if (m == i)
            break;
        heap[i] = heap[m];
        i = m;
    }
    if (heap_n)
        heap[i] = last;
    return top;
}

/* ------------------------------------------------------------------------ */
/* connections                                                               */

enum cstate { CS_NONE, CS_CONNECTING, CS_ACTIVE, CS_HOLD, CS_CLOSED, CS_FAILED };

struct conn {
    int fd;
    uint32_t idx;
    uint32_t gen;  /* incremented per socket; stale epoll events are ignored */
    uint32_t tseq; /* timer sequence; stale timers are ignored */
    int state;
    int initial;   /* counted in `opening` */
    int msg_active;
    uint32_t interest;
    uint64_t cycle;
    uint32_t base; /* stream starting offset in the pattern (from idx, cycle) */
    size_t slen, soff, rgot; /* current message / stream chunk */
    uint64_t gen_total;      /* stream bytes handed out to messages/chunks */
    uint64_t tx_total, rx_total; /* stream mode: bytes sent / verified */
    int64_t t_start;
    double next_intended; /* rate mode (ns) */
};

static struct conn *conns;
static int epfd, tfd, sfd;
static uint8_t scratch[SCRATCH_SIZE];

static uint64_t errors, mismatches;
static uint64_t messages;      /* measured */
static uint64_t bytes_echoed;  /* measured, verified */
static int measuring;
static int64_t measure_t0, measure_start, end_at;
static double interval_ns;     /* rate mode, per connection */
static long next_open, opening;
static long slots_done, open_count; /* idle */
static uint64_t idle_exchanges;
static int stop_flag, idle_ready;
static size_t stream_window;

#define TAG_SIG UINT64_MAX
#define TAG_TIMER (UINT64_MAX - 1)

static inline uint64_t conn_tag(const struct conn *c) {
    return ((uint64_t)c->gen << 32) | c->idx;
}

static void set_timer(struct conn *c, int64_t when, int kind) {
    c->tseq++;
    heap_push((struct tmr){.when = when, .idx = c->idx, .seq = c->tseq, .kind = kind});
}

static inline void cancel_timer(struct conn *c) { c->tseq++; }

static void set_interest(struct conn *c, uint32_t ev) {
    if (ev == c->interest)
        return;
    struct epoll_event e = {.events = ev, .data.u64 = conn_tag(c)};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
    c->interest = ev;
}

static void close_socket(struct conn *c) {
    if (c->fd >= 0) {
        close(c->fd); /* also removes it from epoll */
        c->fd = -1;
    }
    cancel_timer(c);
}

static void measured_message(int64_t t, int64_t lat) {
    if (!measuring || t < measure_start)
        return;
    if (cfg.count && (long long)messages >= cfg.count)
        return;
    messages++;
    bytes_echoed += (uint64_t)cfg.size;
    h_record(lat);
}

enum fkind { F_ERROR, F_MISMATCH };

static void conn_fail(struct conn *c, int kind) {
    int64_t now = now_ns();
    if (kind == F_ERROR)
        errors++;
    else
        mismatches++;
    int was_msg = c->msg_active;
    close_socket(c);
    c->msg_active = 0;
    c->cycle++;
    int64_t backoff = kind == F_ERROR ? BACKOFF_NS : 0;
    if (c->initial) {
        c->initial = 0;
        opening--;
    }
    switch (cfg.mode) {
    case M_PINGPONG:
        if (cfg.rate > 0 && was_msg)
            c->next_intended += interval_ns; /* that message is lost */
        c->state = CS_NONE;
        set_timer(c, now + backoff, T_RECONNECT);
        break;
    case M_STREAM:
        c->state = CS_NONE;
        set_timer(c, now + backoff, T_RECONNECT);
        break;
    case M_CONNECT: {
        c->state = CS_NONE;
        int64_t when = now + backoff;
        if (cfg.rate > 0) {
            c->next_intended += interval_ns;
            if ((int64_t)c->next_intended > when)
                when = (int64_t)c->next_intended;
        }
        set_timer(c, when, T_START);
        break;
    }
    case M_IDLE:
        c->state = CS_FAILED;
        slots_done++;
        break;
    }
}

static void conn_open(struct conn *c) {
    c->gen++;
    c->msg_active = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_fail(c, F_ERROR);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&cfg.addr, sizeof cfg.addr) < 0 && errno != EINPROGRESS) {
        conn_fail(c, F_ERROR);
        return;
    }
    c->state = CS_CONNECTING;
    c->interest = EPOLLOUT;
    struct epoll_event e = {.events = EPOLLOUT, .data.u64 = conn_tag(c)};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) {
        conn_fail(c, F_ERROR);
        return;
    }
    if (cfg.mode == M_IDLE && c->initial)
        set_timer(c, now_ns() + IDLE_OPEN_TIMEOUT_NS, T_TIMEOUT);
}

/* message-oriented modes: write the rest of the current message, i.e.
 * stream bytes [gen_total - slen + soff, gen_total) */
static void msg_write(struct conn *c) {
    while (c->soff < c->slen) {
        ssize_t n = pat_send(c->fd, c->base, c->gen_total - c->slen + c->soff, c->slen - c->soff);
        if (n > 0) {
            c->soff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_interest(c, EPOLLIN | EPOLLOUT);
            return;
        } else {
            conn_fail(c, F_ERROR);
            return;
        }
    }
    set_interest(c, EPOLLIN);
}

static void msg_start(struct conn *c, int64_t t_start) {
    c->t_start = t_start;
    c->gen_total += (uint64_t)cfg.size;
    c->slen = (size_t)cfg.size;
    c->soff = 0;
    c->rgot = 0;
    c->msg_active = 1;
    msg_write(c);
}

static void stream_write(struct conn *c) {
    for (;;) {
        if (c->soff == c->slen) {
            uint64_t inflight = c->gen_total - c->rx_total;
            if (inflight >= stream_window) {
                set_interest(c, EPOLLIN);
                return;
            }
            size_t len = (size_t)cfg.size;
            if (len > stream_window - inflight)
                len = (size_t)(stream_window - inflight);
            c->slen = len;
            c->soff = 0;
            c->gen_total += len;
        }
        /* tx_total == gen_total - slen + soff: next unsent stream byte */
        ssize_t n = pat_send(c->fd, c->base, c->tx_total, c->slen - c->soff);
        if (n > 0) {
            c->soff += (size_t)n;
            c->tx_total += (uint64_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_interest(c, EPOLLIN | EPOLLOUT);
            return;
        } else {
            conn_fail(c, F_ERROR);
            return;
        }
    }
}

/* pingpong: schedule/start the next message after one completed or at connect */
static void pingpong_next(struct conn *c) {
    if (cfg.rate > 0) {
        int64_t t = now_ns();
        if ((int64_t)c->next_intended <= t)
            msg_start(c, (int64_t)c->next_intended);
        else
            set_timer(c, (int64_t)c->next_intended, T_SEND);
    } else {
        msg_start(c, now_ns());
    }
}

static void connect_cycle_start(struct conn *c) {
    c->t_start = cfg.rate > 0 ? (int64_t)c->next_intended : now_ns();
    conn_open(c);
}

static void on_connected(struct conn *c) {
    c->state = CS_ACTIVE;
    c->base = stream_base(c->idx, c->cycle);
    c->slen = c->soff = c->rgot = 0;
    c->gen_total = c->tx_total = c->rx_total = 0;
    switch (cfg.mode) {
    case M_PINGPONG:
        if (c->initial) {
            c->initial = 0;
            opening--;
        }
        set_interest(c, EPOLLIN);
        pingpong_next(c);
        break;
    case M_STREAM:
        if (c->initial) {
            c->initial = 0;
            opening--;
        }
        set_interest(c, EPOLLIN);
        stream_write(c);
        break;
    case M_CONNECT:
        msg_start(c, c->t_start);
        break;
    case M_IDLE:
        if (cfg.size > 0) {
            msg_start(c, now_ns());
        } else {
            goto hold;
        }
        break;
    }
    return;
hold:
    cancel_timer(c);
    c->state = CS_HOLD;
    c->initial = 0;
    opening--;
    slots_done++;
    open_count++;
    idle_exchanges++;
    set_interest(c, EPOLLIN | EPOLLRDHUP);
}

/* a complete echo of the current message has been received */
static void msg_complete(struct conn *c) {
    int64_t t = now_ns();
    c->msg_active = 0;
    switch (cfg.mode) {
    case M_PINGPONG:
        measured_message(t, t - c->t_start);
        if (cfg.rate > 0)
            c->next_intended += interval_ns;
        pingpong_next(c);
        break;
    case M_CONNECT:
        close_socket(c);
        c->state = CS_NONE;
        c->cycle++;
        t = now_ns();
        measured_message(t, t - c->t_start);
        if (cfg.rate > 0) {
            c->next_intended += interval_ns;
            if ((int64_t)c->next_intended > t) {
                set_timer(c, (int64_t)c->next_intended, T_START);
                break;
            }
        }
        connect_cycle_start(c);
        break;
    case M_IDLE:
        cancel_timer(c);
        c->state = CS_HOLD;
        c->initial = 0;
        opening--;
        slots_done++;
        open_count++;
        idle_exchanges++;
        set_interest(c, EPOLLIN | EPOLLRDHUP);
        break;
    case M_STREAM:
        break;
    }
}

/* returns 0 normally, -1 if the connection failed/closed */
static int on_readable(struct conn *c, int err_flag) {
    size_t want = SCRATCH_SIZE;
    ssize_t n = read(c->fd, scratch, want);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (err_flag) {
                conn_fail(c, F_ERROR);
                return -1;
            }
            return 0;
        }
        conn_fail(c, F_ERROR);
        return -1;
    }
    if (n == 0) { /* unexpected EOF */
        conn_fail(c, F_ERROR);
        return -1;
    }
    if (cfg.mode == M_STREAM) {
        if (c->rx_total + (uint64_t)n > c->tx_total ||
            !pat_verify(c->base, c->rx_total, scratch, (size_t)n)) {
            conn_fail(c, F_MISMATCH);
            return -1;
        }
        c->rx_total += (uint64_t)n;
        if (measuring) {
            bytes_echoed += (uint64_t)n;
            if (cfg.count) {
                uint64_t cap = (uint64_t)cfg.count * (uint64_t)cfg.size;
                if (bytes_echoed > cap)
                    bytes_echoed = cap;
            }
        }
        stream_write(c);
        return c->fd < 0 ? -1 : 0;
    }
    /* message modes */
    if (!c->msg_active || c->rgot + (size_t)n > c->slen ||
        !pat_verify(c->base, c->gen_total - c->slen + c->rgot, scratch, (size_t)n)) {
        conn_fail(c, F_MISMATCH);
        return -1;
    }
    c->rgot += (size_t)n;
    if (c->rgot == c->slen && c->soff == c->slen)
        msg_complete(c);
    return c->fd < 0 ? -1 : 0;
}

static void hold_event(struct conn *c, uint32_t ev) {
    for (;;) {
        ssize_t n = read(c->fd, scratch, SCRATCH_SIZE);
        if (n > 0) {
            mismatches++; /* nothing should arrive on an idle connection */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(ev & (EPOLLERR | EPOLLHUP)))
            return;
        break;
    }
    /* read 0 (peer FIN), reset or error: the server closed it */
    close_socket(c);
    c->state = CS_CLOSED;
    open_count--;
}

static void fire_timer(struct tmr t) {
    struct conn *c = &conns[t.idx];
    if (c->tseq != t.seq)
        return;
    c->tseq++; /* consumed */
    switch (t.kind) {
    case T_RECONNECT:
        conn_open(c);
        break;
    case T_SEND:
        if (c->fd >= 0 && c->state == CS_ACTIVE && !c->msg_active)
            msg_start(c, (int64_t)c->next_intended);
        break;
    case T_START:
        connect_cycle_start(c);
        break;
    case T_TIMEOUT:
        if (c->fd >= 0 && c->state != CS_HOLD)
            conn_fail(c, F_ERROR);
        break;
    }
}

static void handle_event(uint64_t tag, uint32_t ev) {
    uint32_t idx = (uint32_t)tag, g = (uint32_t)(tag >> 32);
    if (idx >= (uint32_t)cfg.conns)
        return;
    struct conn *c = &conns[idx];
    if (c->fd < 0 || c->gen != g)
        return;
    if (c->state == CS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err || (ev & (EPOLLERR | EPOLLHUP)))
            conn_fail(c, F_ERROR);
        else
            on_connected(c);
        return;
    }
    if (c->state == CS_HOLD) {
        hold_event(c, ev);
        return;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        if (on_readable(c, !!(ev & (EPOLLERR | EPOLLHUP))) < 0)
            return;
        if (c->gen != g)
            return;
    }
    if ((ev & EPOLLOUT) && c->fd >= 0) {
        if (cfg.mode == M_STREAM)
            stream_write(c);
        else if (c->msg_active)
            msg_write(c);
        else
            set_interest(c, EPOLLIN);
    }
}

/* ------------------------------------------------------------------------ */
/* arguments / report                                                        */

static void usage(FILE *f) {
    fprintf(f,
            "usage: loadgen --host 127.0.0.1 --port P --mode pingpong|stream|connect|idle\n"
            "               [--connections N] [--size BYTES] [--duration SECONDS]\n"
            "               [--warmup SECONDS] [--rate MSGS_PER_S] [--count N]\n");
}

static int bad(const char *msg, const char *v) {
    fprintf(stderr, "loadgen: %s%s%s\n", msg, v ? ": " : "", v ? v : "");
    usage(stderr);
    return 2;
}

static int parse_long(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv) {
    const char *host = "127.0.0.1";
    long long port = -1, conns_n = 10, size = -1, count = 0;
    double duration = 5, warmup = 1, rate = 0;
    int mode = -1;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (strncmp(a, "--", 2) != 0)
            return bad("unexpected argument", a);
        char name[32];
        const char *val;
        char *eq = strchr(a, '=');
        if (eq) {
            size_t l = (size_t)(eq - a);
            if (l >= sizeof name)
                return bad("unknown option", a);
            memcpy(name, a, l);
            name[l] = 0;
            val = eq + 1;
        } else {
            if (strlen(a) >= sizeof name)
                return bad("unknown option", a);
            strcpy(name, a);
            if (i + 1 >= argc)
                return bad("missing value for", a);
            val = argv[++i];
        }
        if (!strcmp(name, "--host")) {
            host = val;
        } else if (!strcmp(name, "--port")) {
            if (parse_long(val, 1, 65535, &port))
                return bad("invalid --port", val);
        } else if (!strcmp(name, "--mode")) {
            mode = -1;
            for (int m = 0; m < 4; m++)
                if (!strcmp(val, mode_names[m]))
                    mode = m;
            if (mode < 0)
                return bad("invalid --mode", val);
        } else if (!strcmp(name, "--connections")) {
            if (parse_long(val, 1, 1000000, &conns_n))
                return bad("invalid --connections", val);
        } else if (!strcmp(name, "--size")) {
            if (parse_long(val, 0, 1LL << 30, &size))
                return bad("invalid --size", val);
        } else if (!strcmp(name, "--duration")) {
            if (parse_double(val, 0, &duration) || duration <= 0 || duration > 1e6)
                return bad("invalid --duration", val);
            cfg.duration_given = 1;
        } else if (!strcmp(name, "--warmup")) {
            if (parse_double(val, 0, &warmup) || warmup > 1e6)
                return bad("invalid --warmup", val);
        } else if (!strcmp(name, "--rate")) {
            if (parse_double(val, 0, &rate) || rate <= 0)
                return bad("invalid --rate", val);
        } else if (!strcmp(name, "--count")) {
            if (parse_long(val, 1, 1LL << 50, &count))
                return bad("invalid --count", val);
        } else {
            return bad("unknown option", name);
        }
    }
    if (mode < 0)
        return bad("--mode is required", NULL);
    if (port < 0)
        return bad("--port is required", NULL);
    memset(&cfg.addr, 0, sizeof cfg.addr);
    cfg.addr.sin_family = AF_INET;
    cfg.addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &cfg.addr.sin_addr) != 1)
        return bad("invalid IPv4 --host", host);
    if (size < 0)
        size = mode == M_STREAM ? 16384 : 64;
    if (size == 0 && mode != M_IDLE)
        return bad("--size must be >= 1 for this mode", NULL);
    if (rate > 0 && (mode == M_STREAM || mode == M_IDLE))
        return bad("--rate is only supported in pingpong and connect modes", NULL);
    if (count > 0 && mode == M_IDLE)
        return bad("--count is not supported in idle mode", NULL);
    cfg.mode = (enum mode)mode;
    cfg.conns = (long)conns_n;
    cfg.size = (long)size;
    cfg.duration = duration;
    cfg.warmup = mode == M_IDLE ? 0 : warmup;
    cfg.rate = rate;
    cfg.count = count;
    return 0;
}

static void put_num(const char *key, double v, int last) {
    if (isfinite(v))
        printf("\"%s\":%.3f%s", key, v, last ? "" : ",");
    else
        printf("\"%s\":null%s", key, last ? "" : ",");
}

static void report(int64_t t_stop) {
    double dur = measuring ? (double)(t_stop - measure_t0) / 1e9 : 0.0;
    uint64_t msgs = messages;
    if (cfg.mode == M_STREAM)
        msgs = bytes_echoed / (uint64_t)cfg.size;
    if (cfg.mode == M_IDLE)
        msgs = idle_exchanges;
    double ebytes = cfg.mode == M_STREAM ? (double)bytes_echoed : (double)msgs * (double)cfg.size;
    double mps = dur > 0 ? (double)msgs / dur : NAN;
    double mbps = dur > 0 ? ebytes / 1e6 / dur : NAN;
    printf("{\"mode\":\"%s\",\"connections\":%ld,\"size\":%ld,", mode_names[cfg.mode], cfg.conns, cfg.size);
    put_num("duration_s", dur, 0);
    printf("\"messages\":%llu,", (unsigned long long)msgs);
    put_num("msgs_per_s", mps, 0);
    put_num("mb_per_s", mbps, 0);
    if (cfg.mode == M_CONNECT)
        put_num("conns_per_s", mps, 0);
    else
        printf("\"conns_per_s\":null,");
    if ((cfg.mode == M_PINGPONG || cfg.mode == M_CONNECT) && hist.n > 0) {
        printf("\"latency_us\":{");
        put_num("p50", h_percentile_us(50), 0);
        put_num("p90", h_percentile_us(90), 0);
        put_num("p99", h_percentile_us(99), 0);
        put_num("p999", h_percentile_us(99.9), 0);
        put_num("max", (double)hist.max / 1000.0, 0);
        put_num("mean", hist.sum / (double)hist.n / 1000.0, 1);
        printf("},");
    } else {
        printf("\"latency_us\":null,");
    }
    printf("\"errors\":%llu,\"mismatches\":%llu,", (unsigned long long)errors,
           (unsigned long long)mismatches);
    if (cfg.mode == M_IDLE)
        printf("\"open_at_end\":%ld,", open_count);
    else
        printf("\"open_at_end\":null,");
    if ((cfg.mode == M_PINGPONG || cfg.mode == M_CONNECT) && hist.n > 0) {
        printf("\"latency_curve_us\":[");
        for (size_t i = 0; i < sizeof CURVE_PCT / sizeof CURVE_PCT[0]; i++)
            printf("%s[%g,%.3f]", i ? "," : "", CURVE_PCT[i], h_percentile_us(CURVE_PCT[i]));
        printf("]}\n");
    } else {
        printf("\"latency_curve_us\":null}\n");
    }
    fflush(stdout);
}

/* ------------------------------------------------------------------------ */

static void begin_measure(int64_t t) {
    measuring = 1;
    measure_t0 = t;
    messages = 0;
    bytes_echoed = 0;
    memset(&hist, 0, sizeof hist);
}

/* idle mode: re-check every held connection right before reporting */
static void idle_final_sweep(void) {
    for (long i = 0; i < cfg.conns; i++) {
        struct conn *c = &conns[i];
        if (c->state != CS_HOLD || c->fd < 0)
            continue;
        char b;
        ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            close_socket(c);
            c->state = CS_CLOSED;
            open_count--;
        }
    }
}

int main(int argc, char **argv) {
    int rc = parse_args(argc, argv);
    if (rc)
        return rc;

    /* file descriptors: one per connection plus a few */
    rlim_t need = (rlim_t)cfg.conns + 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        struct rlimit nrl = rl;
        nrl.rlim_cur = need;
        if (nrl.rlim_max < need)
            nrl.rlim_max = need; /* works when privileged */
        if (setrlimit(RLIMIT_NOFILE, &nrl) < 0) {
            nrl.rlim_cur = rl.rlim_max;
            nrl.rlim_max = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &nrl);
            fprintf(stderr, "loadgen: RLIMIT_NOFILE hard limit %llu < %llu needed\n",
                    (unsigned long long)rl.rlim_max, (unsigned long long)need);
            return 2;
        }
    }

    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (sfd < 0 || epfd < 0 || tfd < 0) {
        perror("loadgen: setup");
        return 1;
    }
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = TAG_SIG};
    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &e);
    e.data.u64 = TAG_TIMER;
    epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &e);

    stream_window = STREAM_WINDOW_MIN;
    if ((size_t)cfg.size > stream_window)
        stream_window = (size_t)cfg.size;

    if (pattern_init((size_t)cfg.size) < 0) {
        perror("malloc");
        return 1;
    }
    conns = calloc((size_t)cfg.conns, sizeof *conns);
    if (!conns) {
        perror("calloc");
        return 1;
    }
    int64_t t0 = now_ns();
    if (cfg.rate > 0)
        interval_ns = (double)cfg.conns * 1e9 / cfg.rate;
    for (long i = 0; i < cfg.conns; i++) {
        struct conn *c = &conns[i];
        c->fd = -1;
        c->idx = (uint32_t)i;
        c->state = CS_NONE;
        if (cfg.rate > 0)
            c->next_intended = (double)t0 + interval_ns * (double)i / (double)cfg.conns;
    }

    measure_start = t0 + (int64_t)(cfg.warmup * 1e9);
    if (cfg.mode == M_IDLE)
        end_at = INF_NS; /* set once all connections are held */
    else if (cfg.count && !cfg.duration_given)
        end_at = INF_NS;
    else
        end_at = measure_start + (int64_t)(cfg.duration * 1e9);

    if (cfg.mode == M_CONNECT) {
        for (long i = 0; i < cfg.conns; i++) {
            struct conn *c = &conns[i];
            if (cfg.rate > 0 && (int64_t)c->next_intended > t0)
                set_timer(c, (int64_t)c->next_intended, T_START);
            else
                connect_cycle_start(c);
        }
    }

    struct epoll_event evs[MAX_EVENTS];
    int64_t armed = -1;
    int64_t t_stop;
    for (;;) {
        int64_t now = now_ns();
        /* initial connection ramp (pingpong/stream/idle) */
        while (cfg.mode != M_CONNECT && opening < MAX_OPENING && next_open < cfg.conns) {
            struct conn *c = &conns[next_open++];
            c->initial = 1;
            opening++;
            conn_open(c);
        }
        if (cfg.mode == M_IDLE) {
            if (!idle_ready && slots_done >= cfg.conns) {
                idle_ready = 1;
                fprintf(stderr, "IDLE_READY %ld\n", open_count);
                fflush(stderr);
                now = now_ns();
                begin_measure(now);
                measure_start = now;
                end_at = now + (int64_t)(cfg.duration * 1e9);
            }
        } else if (!measuring && now >= measure_start) {
            begin_measure(now);
        }
        if (stop_flag || now >= end_at)
            break;
        if (cfg.count && measuring) {
            if (cfg.mode == M_STREAM ? bytes_echoed >= (uint64_t)cfg.count * (uint64_t)cfg.size
                                     : (long long)messages >= cfg.count)
                break;
        }
        /* due timers */
        int fired = 0;
        while (heap_n && heap[0].when <= now) {
            fire_timer(heap_pop());
            if (++fired >= 4096)
                break;
        }
        if (fired) {
            continue; /* re-evaluate with fresh time */
        }
        /* next wake-up: earliest timer or phase change */
        int64_t next = end_at;
        if (!measuring && cfg.mode != M_IDLE && measure_start < next)
            next = measure_start;
        if (heap_n && heap[0].when < next)
            next = heap[0].when;
        if (next != armed && next != INF_NS) {
            struct itimerspec its = {0};
            its.it_value.tv_sec = next / 1000000000LL;
            its.it_value.tv_nsec = next % 1000000000LL;
            if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
                its.it_value.tv_nsec = 1;
            timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
            armed = next;
        }
        int n = epoll_wait(epfd, evs, MAX_EVENTS, 250);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == TAG_SIG) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                }
                stop_flag = 1;
            } else if (tag == TAG_TIMER) {
                uint64_t x;
                if (read(tfd, &x, sizeof x) < 0) {
                }
                armed = -1;
            } else {
                handle_event(tag, evs[i].events);
            }
        }
    }
    t_stop = now_ns();
    if (cfg.mode == M_IDLE && idle_ready)
        idle_final_sweep();
    report(t_stop);
    for (long i = 0; i < cfg.conns; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    return (errors || mismatches) ? 1 : 0;
}
