/* badptr.c - WASI-only: out-of-bounds guest pointers give ERRNO_FAULT,
 * never a host crash. */
#include <stdio.h>
#include <wasi/api.h>

/* The raw import: wasi-libc's wrapper would strlen() the bad path first. */
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len,
                      int32_t oflags, int64_t base, int64_t inh, int32_t fdflags,
                      int32_t fd_out)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")));

int main(void)
{
    uint8_t *far = (uint8_t *)0xfffffff0u;
    __wasi_ciovec_t iov = {far, 64};
    __wasi_size_t n;
    printf("fd_write bad buffer: %d\n", __wasi_fd_write(1, &iov, 1, &n));
    printf("fd_write bad iovs: %d\n", __wasi_fd_write(1, (__wasi_ciovec_t *)far, 4, &n));
    iov.buf = (const uint8_t *)"x";
    iov.buf_len = 0;
    printf("fd_write bad nwritten: %d\n", __wasi_fd_write(1, &iov, 1, (__wasi_size_t *)far));
    printf("random_get bad: %d\n", __wasi_random_get(far, 4096));
    printf("args_sizes_get bad: %d\n", __wasi_args_sizes_get((__wasi_size_t *)far, &n));
    printf("clock_time_get bad: %d\n",
           __wasi_clock_time_get(0, 1, (__wasi_timestamp_t *)far));
    printf("clock bad id: %d\n", __wasi_clock_time_get(99, 1, (__wasi_timestamp_t *)&n));
    printf("path_open bad path: %d\n",
           raw_path_open(3, 0, (int32_t)(uintptr_t)far, 64, 0, 0, 0, 0, (int32_t)(uintptr_t)&n));
    printf("fd_read bad fd: %d\n", __wasi_fd_read(99, (const __wasi_iovec_t *)&iov, 1, &n));
    printf("poll_oneoff none: %d\n", __wasi_poll_oneoff(0, 0, 0, &n));
    printf("poll_oneoff bad: %d\n",
           __wasi_poll_oneoff((const __wasi_subscription_t *)far, (__wasi_event_t *)far, 4, &n));
    printf("sock_shutdown on file: %d\n", __wasi_sock_shutdown(1, __WASI_SDFLAGS_WR));
    printf("prestat of stdout: %d\n", __wasi_fd_prestat_get(1, (__wasi_prestat_t *)&iov));
    printf("sched_yield: %d\n", __wasi_sched_yield());
    return 0;
}
