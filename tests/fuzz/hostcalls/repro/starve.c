/* FINDINGS.md 4: a process looping on an expensive host call (tls_bind:
 * PEM parsing and an SSL_CTX, about 0.75 ms each) is charged one reduction
 * per iteration and so keeps its worker for a whole slice of 20,000 calls
 * (15 s). Here the child makes 400 calls (about 0.3 s) and ends; on one
 * worker thread the main process's 10 ms sleep must end within 100 ms,
 * not after the child. Main waits for the child's end before it returns
 * (see exit_during_tls.c). tls_cert and tls_key come from mods.h. */
#include <time.h>

#include "lunatic_guest.h"
#include "mods.h"

LG_EXPORT("child") void child(void)
{
    static const uint8_t lo[4] = {127, 0, 0, 1};
    for (int i = 0; i < 400; i++) {
        uint64_t id;
        if (lgi_networking_tls_bind(4, lo, 0, 0, 0, &id, tls_cert, sizeof tls_cert - 1, tls_key,
                                    sizeof tls_key - 1) == 0)
            lgi_networking_drop_tls_listener(id);
        else
            lgi_error_drop(id);
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void)
{
    uint64_t pid = lg_spawn("child", LG_NOARGS);
    lg_monitor(pid);
    double t0 = now_ms();
    lg_sleep_ms(10);
    double late = now_ms() - t0 - 10;
    lg_printf("slept 10 ms, woke %.0f ms late: %s\n", late, late < 100 ? "ok" : "STARVED");
    lg_receive_any(LG_FOREVER);   /* the child's ProcessDied */
    return late < 100 ? 0 : 1;
}
