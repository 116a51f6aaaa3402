/* Clocks, sleeping (poll_oneoff clock subscriptions), randomness and sched_yield. */
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#include "check.h"

static int64_t ns(clockid_t c) {
    struct timespec t;
    if (clock_gettime(c, &t) != 0) return -1;
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(void) {
    int64_t real = ns(CLOCK_REALTIME);
    CHECK("realtime after 2020", real > 1577836800LL * 1000000000);
    int64_t m0 = ns(CLOCK_MONOTONIC);
    CHECK("monotonic", m0 > 0);
    struct timespec res;
    CHECK("clock_getres", clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 &&
                              res.tv_nsec > 0);
    volatile uint64_t x = 0;
    for (int i = 0; i < 200000; i++) x += i;
    __wasi_timestamp_t cpu = 0;
    CHECK("process cputime",
          __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &cpu) == 0 && cpu > 0);
    cpu = 0;
    CHECK("thread cputime",
          __wasi_clock_time_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, 1, &cpu) == 0 && cpu > 0);
    struct timespec nap = {0, 20 * 1000 * 1000};
    CHECK("nanosleep", nanosleep(&nap, NULL) == 0);
    int64_t m1 = ns(CLOCK_MONOTONIC);
    CHECK("slept at least 20ms", m1 - m0 >= 20 * 1000 * 1000);
    CHECK("poll timeout", poll(NULL, 0, 10) == 0);
    CHECK("usleep", usleep(1000) == 0);

    /* Two clock subscriptions: the earlier fires alone. */
    __wasi_subscription_t subs[2] = {0};
    subs[0].userdata = 1;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 5 * 1000 * 1000;
    subs[1] = subs[0];
    subs[1].userdata = 2;
    subs[1].u.u.clock.timeout = 5000ULL * 1000 * 1000;
    __wasi_event_t ev[2];
    __wasi_size_t nev = 0;
    CHECK("poll_oneoff clocks", __wasi_poll_oneoff(subs, ev, 2, &nev) == 0 && nev == 1 &&
                                    ev[0].userdata == 1 && ev[0].error == 0);
    /* An fd subscription for stdout is ready at once. */
    subs[1].userdata = 3;
    subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[1].u.u.fd_write.file_descriptor = 1;
    subs[0].u.u.clock.timeout = 5000ULL * 1000 * 1000;
    CHECK("poll_oneoff fd ready", __wasi_poll_oneoff(subs, ev, 2, &nev) == 0 && nev == 1 &&
                                      ev[0].userdata == 3 && ev[0].type == __WASI_EVENTTYPE_FD_WRITE);
    subs[1].u.u.fd_write.file_descriptor = 999;
    CHECK("poll_oneoff bad fd", __wasi_poll_oneoff(subs, ev, 2, &nev) == 0 && nev == 1 &&
                                    ev[0].error == __WASI_ERRNO_BADF);
    CHECK("poll_oneoff none", __wasi_poll_oneoff(subs, ev, 0, &nev) == __WASI_ERRNO_INVAL);

    unsigned char a[64] = {0}, b[64] = {0};
    CHECK("getentropy", getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0 &&
                            memcmp(a, b, sizeof a) != 0);
    uint32_t r = arc4random();
    (void)r;
    CHECK("sched_yield", sched_yield() == 0);
    return finish();
}
