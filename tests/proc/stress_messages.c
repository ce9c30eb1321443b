/* stress_messages.c - 40 senders x 250 messages to one receiver: all 10,000
 * arrive, each sender's in order. Then 10 senders x 200 tagged messages,
 * taken by selective receive one sender at a time, last sender first. */
#include "proc_test.h"

#define S1 40
#define M1 250
#define S2 10
#define M2 200

LG_EXPORT("sender")
void sender(int64_t to, int32_t index, int32_t count, int32_t tagged)
{
    for (int32_t i = 0; i < count; i++) {
        lg_msg_create(tagged ? index + 1 : 1, 8);
        uint32_t v[2] = {(uint32_t)index, (uint32_t)i};
        lg_msg_write(v, 8);
        lg_msg_send((uint64_t)to);
    }
}

static int32_t next[S1];

int main(void)
{
    uint64_t me = lg_self();
    for (int s = 0; s < S1; s++)
        lg_spawn("sender", LG_ARGS(LG_I64(me), LG_I32(s), LG_I32(M1), LG_I32(0)));
    int got = 0, bad = 0;
    for (int i = 0; i < S1 * M1; i++) {
        if (lg_receive_any(10000) != LG_DATA)
            break;
        uint32_t v[2];
        lg_msg_read(v, 8);
        got++;
        if (v[0] >= S1 || (int32_t)v[1] != next[v[0]])
            bad++;
        else
            next[v[0]]++;
    }
    say("phase 1: %d senders x %d: received %d, out of order %d\n", S1, M1, got, bad);
    say("phase 1: then %s\n", kind_name(lg_receive_any(50)));

    for (int s = 0; s < S2; s++)
        lg_spawn("sender", LG_ARGS(LG_I64(me), LG_I32(s), LG_I32(M2), LG_I32(1)));
    got = bad = 0;
    for (int s = S2 - 1; s >= 0; s--) {
        for (int i = 0; i < M2; i++) {
            if (lg_receive_tag(s + 1, 10000) != LG_DATA)
                break;
            uint32_t v[2];
            lg_msg_read(v, 8);
            got++;
            if ((int)v[0] != s || (int)v[1] != i)
                bad++;
        }
    }
    say("phase 2: %d senders x %d by tag, last first: received %d, wrong %d\n", S2, M2, got, bad);
    say("phase 2: then %s\n", kind_name(lg_receive_any(50)));
    return 0;
}
