/* timer_churn.c - 200,000 long timers set and cancelled in a loop: every
 * cancel returns 1 (and the heap does not keep them: the runtime removes
 * a cancelled timer at once), ids keep counting, and a short timer set
 * afterwards still fires on time. */
#include "proc_test.h"

int main(void)
{
    uint64_t last = 0;
    for (int i = 0; i < 200000; i++) {
        lg_msg_create(1, 0);
        last = lg_send_after(lg_self(), 3600000);
        if (lg_cancel_timer(last) != 1) {
            lg_printf("cancel %d failed\n", i);
            return 1;
        }
    }
    lg_printf("last id %llu\n", (unsigned long long)last);
    lg_printf("cancel again: %d\n", lg_cancel_timer(last));
    lg_msg_create(7, 0);
    lg_send_after(lg_self(), 10);
    uint32_t kind = lg_receive_any(5000);
    lg_printf("kind %u tag %lld\n", kind, (long long)lg_msg_tag());
    return 0;
}
