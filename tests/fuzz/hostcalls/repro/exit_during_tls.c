/* FINDINGS.md 3: `lunatic run` ends the OS process with exit() while worker
 * threads still run host code. Here children keep creating TLS listeners
 * (OpenSSL contexts) when the main process returns: exit() runs OpenSSL's
 * atexit cleanup, which frees the tables the workers are using. The run
 * must end with status 0 (it dies of SIGSEGV or SIGBUS, or hangs, in
 * about a third of the runs). tls_cert and tls_key come from mods.h. */
#include "lunatic_guest.h"
#include "mods.h"

LG_EXPORT("child") void child(void)
{
    static const uint8_t lo[4] = {127, 0, 0, 1};
    for (;;) {
        uint64_t id;
        if (lgi_networking_tls_bind(4, lo, 0, 0, 0, &id, tls_cert, sizeof tls_cert - 1, tls_key,
                                    sizeof tls_key - 1) == 0)
            lgi_networking_drop_tls_listener(id);
        else
            lgi_error_drop(id);
    }
}

int main(void)
{
    /* on 4 workers: 3 children, and one worker left for main (see starve.c) */
    for (int i = 0; i < 3; i++)
        lg_spawn("child", LG_NOARGS);
    lg_sleep_ms(20);
    lg_printf("main returns\n");
    return 0;
}
