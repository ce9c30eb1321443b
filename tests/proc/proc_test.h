/*
 * proc_test.h - helpers shared by the process-runtime test programs
 * (the programs in tests/proc, run by tests/t-proc.sh).
 *
 * Only the main process prints; children report to it in tagged messages,
 * and it prints them in an order it chooses, so the output is the same
 * whatever the scheduling.
 */
#ifndef PROC_TEST_H
#define PROC_TEST_H

#include "lunatic_guest.h"
#include <stdlib.h>
#include <time.h>

#define say lg_printf

static inline uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline const char *kind_name(uint32_t k)
{
    switch (k) {
    case LG_DATA: return "data";
    case LG_LINK_DIED: return "link-died";
    case LG_PROCESS_DIED: return "process-died";
    case LG_TIMEOUT: return "timeout";
    default: return "?";
    }
}

/* Sends a formatted string to pid with tag. */
__attribute__((format(printf, 3, 4))) static inline void report(uint64_t pid, int64_t tag, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lg_send_str(pid, tag, buf);
}

/* Waits (up to 10 s) for a data message tagged tag and copies its text into
 * buf; returns buf, or "<timeout>". */
static inline const char *recv_str(int64_t tag, char *buf, size_t cap)
{
    if (lg_receive_tag(tag, 10000) != LG_DATA) {
        snprintf(buf, cap, "<timeout>");
        return buf;
    }
    lg_msg_read_str(buf, cap);
    return buf;
}

/* Waits (up to 10 s) for a u64 message tagged tag; UINT64_MAX on timeout. */
static inline uint64_t recv_u64(int64_t tag)
{
    if (lg_receive_tag(tag, 10000) != LG_DATA)
        return UINT64_MAX;
    return lg_msg_read_u64();
}

/* Waits (up to 10 s) for the next message; 1 if it is ProcessDied for pid. */
static inline int got_died(uint64_t pid)
{
    uint32_t k = lg_receive_any(10000);
    return k == LG_PROCESS_DIED && lg_msg_pid() == pid;
}

/* Waits until pid no longer exists (up to 10 s); 1 if it is gone. */
static inline int wait_gone(uint64_t pid)
{
    for (int i = 0; i < 10000 && lg_exists(pid); i++)
        lg_sleep_ms(1);
    return !lg_exists(pid);
}

#endif
