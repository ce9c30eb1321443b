/* main_proc_exit.c - proc_exit(3) in the main process ends `lunatic run`
 * with status 3 (decision 1) while other processes still run. */
#include "proc_test.h"

LG_EXPORT("tight") void tight(void) { for (;;) { } }
LG_EXPORT("blocker") void blocker(void) { lg_receive_any(LG_FOREVER); }

int main(void)
{
    lg_spawn("tight", LG_NOARGS);
    lg_spawn("blocker", LG_NOARGS);
    say("exiting with 3\n");
    _Exit(3);
}
