/* utf8.c - strings a guest passes (here: registry names) must be valid
 * UTF-8: a process passing an overlong form, a surrogate, a code point
 * above U+10FFFF or a cut sequence traps; valid multi-byte names work. */
#include "proc_test.h"

static const char *const bad[] = {
    "\xc0\xaf",          /* "/" in two bytes (overlong) */
    "\xe0\x80\xaf",      /* "/" in three bytes (overlong) */
    "\xf0\x80\x80\xaf",  /* "/" in four bytes (overlong) */
    "\xed\xa0\x80",      /* U+D800, a surrogate */
    "\xf4\x90\x80\x80",  /* U+110000 */
    "\xe2\x82",          /* a cut sequence */
};
#define NBAD (int)(sizeof bad / sizeof *bad)

LG_EXPORT("put_bad") void put_bad(int32_t i)
{
    lg_register(bad[i], lg_self());
    lg_printf("put_bad %d was accepted\n", i);
}

int main(void)
{
    for (int i = 0; i < NBAD; i++) {
        uint64_t pid = lg_spawn("put_bad", LG_ARGS(LG_I32(i)));
        lg_monitor(pid);
        uint32_t k = lg_receive_any(10000);
        say("bad name %d: %s\n", i, k == LG_PROCESS_DIED ? "the process trapped" : kind_name(k));
    }
    lg_register("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", lg_self());
    uint64_t node, pid;
    say("valid UTF-8 name: %s\n", lg_lookup("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", &node, &pid) == 0 &&
                                          pid == lg_self() ? "registered" : "WRONG");
    return 0;
}
