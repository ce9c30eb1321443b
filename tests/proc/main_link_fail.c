/* main_link_fail.c - the main process is linked to a child that traps; with
 * the default die_when_link_dies it dies too, and `lunatic run` exits with a
 * non-zero status (decision 1). */
#include "proc_test.h"

LG_EXPORT("trapper")
void trapper(void)
{
    lg_sleep_ms(10);
    lg_trap();
}

int main(void)
{
    lg_spawn_link(1, "trapper", LG_NOARGS);
    say("waiting\n");
    lg_receive_any(LG_FOREVER);
    say("main survived (wrong)\n");
    return 0;
}
