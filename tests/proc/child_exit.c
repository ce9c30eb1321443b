/* child_exit.c - the ways a child ends, as a monitor and a link with
 * die_when_link_dies(0) see them: return and proc_exit(0) are normal (no
 * LinkDied), exit(0) from libc too; proc_exit(7), a trap and an abort() are
 * failures. */
#include "proc_test.h"

LG_EXPORT("ends")
void ends(int32_t how)
{
    switch (how) {
    case 0: return;
    case 1: _Exit(0);
    case 2: exit(0);
    case 3: _Exit(7);
    case 4: lg_trap();
    case 5: abort();
    }
}

int main(void)
{
    static const char *names[] = {"return", "proc_exit(0)", "exit(0)", "proc_exit(7)", "trap", "abort()"};
    lg_die_when_link_dies(0);
    for (int i = 0; i < 6; i++) {
        uint64_t c = lg_spawn_link(10 + i, "ends", LG_ARGS(LG_I32(i)));
        lg_monitor(c);
        /* Both messages, in whatever order they come. */
        int64_t tag = -1;
        int died = 0, other = 0;
        for (int j = 0; j < 2; j++) {
            uint32_t k = lg_receive_any(j == 0 ? 10000 : 200);
            if (k == LG_LINK_DIED)
                tag = lg_msg_tag();
            else if (k == LG_PROCESS_DIED && lg_msg_pid() == c)
                died++;
            else if (k != LG_TIMEOUT)
                other++;
        }
        if (tag >= 0)
            say("%s: failure, link-died tag %lld, process-died %d%s\n", names[i], (long long)tag, died,
                other ? ", other messages" : "");
        else
            say("%s: normal, process-died %d%s\n", names[i], died, other ? ", other messages" : "");
    }
    return 0;
}
