/* basic.c - identity and spawning: version, process_id, environment_id,
 * spawn by export name with i32/i64 parameters (negative and full-width
 * values), exists, pids counted from 1 in environment 1, metrics calls. */
#include "proc_test.h"

LG_EXPORT("params")
void params(int64_t parent, int32_t a, int64_t b, int32_t c, int64_t d)
{
    report((uint64_t)parent, 1, "a=%d b=%lld c=%d d=%lld self=%llu env=%llu", a, (long long)b, c,
           (long long)d, (unsigned long long)lg_self(), (unsigned long long)lg_environment_id());
}

LG_EXPORT("noparams") void noparams(void) {}

LG_EXPORT("wait_then_return")
void wait_then_return(void)
{
    lg_receive_any(LG_FOREVER);
}

int main(void)
{
    char buf[256];
    say("version %u.%u.%u\n", lg_version_major(), lg_version_minor(), lg_version_patch());
    say("main pid %llu env %llu\n", (unsigned long long)lg_self(), (unsigned long long)lg_environment_id());

    uint64_t c = lg_spawn("params", LG_ARGS(LG_I64(lg_self()), LG_I32(-7), LG_I64(-5000000000LL),
                                            LG_I32(2147483647), LG_I64(INT64_MAX)));
    say("first child pid %llu\n", (unsigned long long)c);
    say("child says: %s\n", recv_str(1, buf, sizeof buf));

    /* Raw spawn with hand-made records; the upper 64 bits of an i32 record
     * are ignored. */
    uint8_t rec[17 * 5];
    uint32_t n = lg_encode_params(rec, LG_ARGS(LG_I64(lg_self()), LG_I32(1), LG_I64(2), LG_I32(3), LG_I64(4)));
    memset(rec + 17 + 5, 0xAB, 12); /* junk above the low 32 bits of a */
    uint64_t id = 0;
    uint32_t r = lgi_process_spawn(0, -1, -1, "params", 6, rec, n, &id);
    say("raw spawn %u pid %llu\n", r, (unsigned long long)id);
    say("child says: %s\n", recv_str(1, buf, sizeof buf));

    uint64_t w = lg_spawn("wait_then_return", LG_NOARGS);
    lg_monitor(w);
    say("exists(child) %d\n", lg_exists(w));
    say("exists(self) %d\n", lg_exists(lg_self()));
    say("exists(123456) %d\n", lg_exists(123456));
    lg_send_u64(w, 1, 0);
    say("child ended: %d\n", got_died(w));
    say("exists(ended child) %d\n", lg_exists(w));

    uint64_t z = lg_spawn("noparams", LG_NOARGS);
    lg_monitor(z);
    say("spawn without params: %d\n", got_died(z));

    lg_counter("lg.test.counter", 3);
    lg_increment_counter("lg.test.counter");
    lg_gauge("lg.test.gauge", 1.5);
    lg_increment_gauge("lg.test.gauge", 2.0);
    lg_decrement_gauge("lg.test.gauge", 0.5);
    lg_histogram("lg.test.histogram", 0.25);
    say("metrics ok\n");
    return 0;
}
