/* traps.c - guest programming errors trap the calling process (ABI.md §1.5)
 * and nothing else: empty or wrong-kind scratch message, reading past a
 * seek beyond the end, unknown resource ids, bad spawn parameter records,
 * bad UTF-8, out-of-bounds pointers. Each runs in a monitored child that
 * reports before the bad call and after it (it must never get there). */
#include "proc_test.h"

#define T_BEFORE 1
#define T_AFTER 2
#define BAD_PTR ((void *)(uintptr_t)0xFFFFFFF0u)

static const char *names[] = {
    "send, empty scratch",
    "read_data, empty scratch",
    "get_tag, empty scratch",
    "get_process_id, empty scratch",
    "send_after, empty scratch",
    "data_size of a LinkDied message",
    "read_data after seek past the end",
    "error::string_size, unknown id",
    "error::drop, unknown id",
    "drop_config, unknown id",
    "config_set_max_memory, unknown id",
    "drop_module, unknown id",
    "push_module, unknown id",
    "take_module, no such index",
    "spawn, unknown config id",
    "spawn, unknown module id",
    "spawn, parameter type 0x7D",
    "spawn, partial parameter record",
    "spawn, function name not UTF-8",
    "receive, tags out of bounds",
    "write_data, buffer out of bounds",
    "registry put, name out of bounds",
    "metrics counter, name not UTF-8",
};
#define N_CASES (int)(sizeof names / sizeof names[0])

LG_EXPORT("returner") void returner(void) {}

LG_EXPORT("bad_call")
void bad_call(int64_t parent, int32_t which)
{
    uint64_t out = 0;
    uint8_t params[34] = {0x7F};
    char buf[8];
    lg_send_u64((uint64_t)parent, T_BEFORE, 0);
    switch (which) {
    case 0: lgi_message_send((uint64_t)parent); break;
    case 1: lg_msg_read(buf, 4); break;
    case 2: lg_msg_tag(); break;
    case 3: lg_msg_pid(); break;
    case 4: lg_send_after((uint64_t)parent, 1); break;
    case 5:
        lg_die_when_link_dies(0);
        lg_link(1, 999999);
        lg_receive_any(LG_FOREVER);
        lg_msg_size();
        break;
    case 6:
        lg_msg_create(1, 0);
        lg_msg_write("abcd", 4);
        lg_msg_seek(10);
        lg_msg_read(buf, 4);
        break;
    case 7: lgi_error_string_size(12345); break;
    case 8: lgi_error_drop(12345); break;
    case 9: lgi_process_drop_config(12345); break;
    case 10: lgi_process_config_set_max_memory(12345, 1 << 20); break;
    case 11: lgi_process_drop_module(12345); break;
    case 12: lg_msg_create(1, 0); lg_msg_push_module(12345); break;
    case 13: lg_msg_create(1, 0); lg_msg_take_module(0); break;
    case 14: lg_spawn_ex(0, 12345, LG_MINE, "returner", LG_NOARGS, &out); break;
    case 15: lg_spawn_ex(0, LG_MINE, 12345, "returner", LG_NOARGS, &out); break;
    case 16:
        params[0] = 0x7D;
        lgi_process_spawn(0, -1, -1, "returner", 8, params, 17, &out);
        break;
    case 17: lgi_process_spawn(0, -1, -1, "returner", 8, params, 22, &out); break;
    case 18: lgi_process_spawn(0, -1, -1, "\xff\xfe", 2, params, 0, &out); break;
    case 19: lgi_message_receive(BAD_PTR, 2, 0); break;
    case 20: lg_msg_create(1, 0); lgi_message_write_data(BAD_PTR, 64); break;
    case 21: lgi_registry_put(BAD_PTR, 64, 0, 1); break;
    case 22: lgi_metrics_counter("\xff\xfe", 2, 1); break;
    }
    lg_send_u64((uint64_t)parent, T_AFTER, 0);
}

int main(void)
{
    for (int i = 0; i < N_CASES; i++) {
        uint64_t c = lg_spawn("bad_call", LG_ARGS(LG_I64(lg_self()), LG_I32(i)));
        lg_monitor(c);
        uint32_t k0 = lg_receive_any(10000);
        uint32_t k1 = lg_receive_any(10000);
        say("%s: %s\n", names[i], k0 != LG_DATA ? "?" : k1 == LG_PROCESS_DIED ? "trapped" : "RETURNED");
        if (k1 != LG_PROCESS_DIED)
            lg_receive_any(10000);
    }
    say("main still alive\n");
    return 0;
}
