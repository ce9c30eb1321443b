/*
 * bench/proc/smoke.c - is the runtime ready? Spawns a child with a
 * parameter, exchanges one message each way, prints "smoke ok".
 */
#include "abi.h"

LT_EXPORT("child") void child(int64_t parent)
{
    int64_t v = recv_i64(7, NULL);
    send_i64((uint64_t)parent, 8, v + 1);
}

int main(void)
{
    int64_t self = lt_process_id();
    uint64_t c = spawn_fn("child", &self, 1);
    send_i64(c, 7, 41);
    int64_t v = recv_i64(8, NULL);
    if (v != 42) { printf("smoke: got %lld\n", (long long)v); return 1; }
    printf("smoke ok\n");
    return 0;
}
