/* tests.c - a module with #lunatic_test_ exports for `lunatic test`
 * (tests/t-testmode.sh): passing, failing (trap, proc_exit), ignored and
 * #panic_ tests (both Rust panic message formats, an escaped '#'), tests
 * that print and tests whose children print (with the inherited config
 * and with a config created by the test). main() is for `lunatic run`. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lunatic_guest.h"

#define TEST(name) LG_EXPORT("#lunatic_test_" name)

/* one write on stderr */
static void eprint(const char *s)
{
    write(2, s, strlen(s));
}

TEST("basic::passes") void basic_passes(void)
{
    lg_printf("hello from basic::passes\n");
}

TEST("basic::fails") void basic_fails(void)
{
    lg_printf("about to fail in basic::fails\n");
    eprint("on stderr too\n");
    lg_trap();
}

TEST("basic::exit_nonzero") void basic_exit_nonzero(void)
{
    lg_printf("exiting with 3\n");
    exit(3);
}

TEST("basic::exit_zero") void basic_exit_zero(void)
{
    exit(0);
}

TEST("#ignore_basic::ignored") void basic_ignored(void)
{
    lg_printf("the ignored test ran\n");
}

TEST("env::own_environment") void env_own(void)
{
    /* first process of its own environment */
    lg_printf("pid=%llu env=%llu\n", (unsigned long long)lg_self(),
              (unsigned long long)lg_environment_id());
    if (lg_self() != 1)
        lg_trap();
}

/* Rust <= 1.72 panic format; the expected text holds an escaped '#' */
TEST("#panic_boom\\#1#panics::old_format") void panics_old(void)
{
    eprint("thread 'main' panicked at 'boom#1 happened', src/lib.rs:10:5\n"
           "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n");
    lg_trap();
}

/* Rust >= 1.73 panic format */
TEST("#panic_new message#panics::new_format") void panics_new(void)
{
    eprint("thread 'main' panicked at src/lib.rs:20:9:\n"
           "a new message here\n"
           "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n");
    lg_trap();
}

TEST("#panic_#panics::any") void panics_any(void)
{
    lg_trap();
}

TEST("#panic_expected text#panics::wrong_message") void panics_wrong(void)
{
    eprint("thread 'main' panicked at 'something else', src/lib.rs:30:5\n");
    lg_trap();
}

TEST("#panic_never#panics::no_panic") void panics_none(void)
{
    lg_printf("returning normally\n");
}

/* a child spawned with the inherited config prints into this test's output */
LG_EXPORT("child") void child(uint64_t parent)
{
    lg_printf("child of %llu says hi from env %llu\n", (unsigned long long)parent,
              (unsigned long long)lg_environment_id());
}

static void wait_for(uint64_t pid)
{
    lg_monitor(pid);
    while (lg_receive_any(LG_FOREVER) != LG_PROCESS_DIED || lg_msg_pid() != pid)
        ;
}

TEST("spawn::child_prints") void spawn_child_prints(void)
{
    lg_printf("parent before\n");
    uint64_t c = lg_spawn("child", LG_ARGS(LG_I64(lg_self())));
    if (!c)
        lg_trap();
    wait_for(c);
    lg_printf("parent after\n");
}

TEST("spawn::child_prints_then_fail") void spawn_child_prints_fail(void)
{
    uint64_t c = lg_spawn("child", LG_ARGS(LG_I64(lg_self())));
    wait_for(c);
    lg_trap();
}

/* a config created by the test also writes into its capture */
TEST("spawn::new_config_child") void spawn_new_config(void)
{
    int64_t cfg = lg_config_create();
    if (cfg < 0)
        lg_trap();
    uint64_t c;
    if (lg_spawn_ex(0, cfg, LG_MINE, "child", LG_ARGS(LG_I64(lg_self())), &c) != LG_OK)
        lg_trap();
    wait_for(c);
    lg_trap();
}

LG_EXPORT("failing_child") void failing_child(void)
{
    lg_printf("the failing child prints\n");
    lg_trap();
}

/* a linked child fails: the test dies with it */
TEST("spawn::linked_child_fails") void spawn_linked_fail(void)
{
    lg_spawn_link(7, "failing_child", LG_NOARGS);
    lg_receive_any(LG_FOREVER);
}

/* a lot of output: more than a pipe holds */
TEST("output::large") void output_large(void)
{
    for (int i = 0; i < 5000; i++)
        lg_printf("line %04d of a large output, padded to be a bit longer than short\n", i);
}

int main(void)
{
    printf("main of the test module\n");
    return 0;
}
