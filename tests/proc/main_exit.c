/* main_exit.c - when the main process returns, `lunatic run` ends with
 * status 0 at once, even though a process spins and another waits forever
 * (they are killed with the runtime). */
#include "proc_test.h"

LG_EXPORT("tight") void tight(void) { for (;;) { } }
LG_EXPORT("blocker") void blocker(void) { lg_receive_any(LG_FOREVER); }
LG_EXPORT("sleeper") void sleeper(void) { lg_sleep_ms(600000); }

int main(void)
{
    lg_spawn("tight", LG_NOARGS);
    lg_spawn("blocker", LG_NOARGS);
    lg_spawn("sleeper", LG_NOARGS);
    lg_sleep_ms(10);
    say("main done\n");
    return 0;
}
