/* capabilities.c - a process can never give a child more than it has
 * (issue "capabilities only narrow"): a config preopening "/", a parent
 * directory, or a directory reached through a symbolic link out of the
 * spawner's preopens is refused at spawn with an error; so is a config
 * granting a permission the spawner lacks. A preopen inside the spawner's
 * works. Memory and fuel limits are capped at the spawner's: a grandchild
 * whose config asks for 64 MiB gets no more than its parent's 2 MiB, and
 * one asking for unlimited fuel runs out with its parent's. */
#include "proc_test.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_REPORT 90

LG_EXPORT("reader") void reader(int64_t main_pid)
{
    FILE *f = fopen("sub/inside.txt", "r");
    char buf[64] = "";
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    report((uint64_t)main_pid, T_REPORT, "child read: %s", f ? buf : "(cannot open)");
}

/* Spawns reader with config c; prints what happened. */
static void try_spawn(const char *what, int64_t c)
{
    uint64_t id;
    uint32_t r = lg_spawn_ex(0, c, LG_MINE, "reader", LG_ARGS(LG_I64(lg_self())), &id);
    if (r == LG_OK) {
        char buf[128];
        say("%s: spawned; %s\n", what, recv_str(T_REPORT, buf, sizeof buf));
        return;
    }
    char err[300];
    lg_error_string(id, err, sizeof err);
    lg_error_drop(id);
    say("%s: refused (%s)\n", what, err);
}

/* A middle process with limited rights: tries to hand out more. */
LG_EXPORT("middle") void middle(int64_t main_pid)
{
    int64_t c = lg_config_create();
    lg_config_set_can_compile(c, 1);
    uint64_t id;
    uint32_t r = lg_spawn_ex(0, c, LG_MINE, "reader", LG_ARGS(LG_I64(main_pid)), &id);
    char err[300] = "";
    if (r != LG_OK) {
        lg_error_string(id, err, sizeof err);
        lg_error_drop(id);
    }
    report((uint64_t)main_pid, T_REPORT, "can_compile_modules it lacks: %s",
           r == LG_OK ? "spawned" : strstr(err, "can_compile_modules") ? "refused" : err);
    lg_config_drop(c);

    c = lg_config_create();
    lg_config_set_max_memory(c, 64 << 20);
    lg_config_set_can_spawn(c, 0);
    lg_spawn_ex(0, c, LG_MINE, "grower", LG_ARGS(LG_I64(main_pid)), &id);
    lg_config_drop(c);

    c = lg_config_create(); /* no fuel limit */
    lg_spawn_ex(0, c, LG_MINE, "spinner", LG_ARGS(LG_I64(main_pid)), &id);
    lg_monitor(id);
    uint32_t k = lg_receive_any(20000);
    report((uint64_t)main_pid, T_REPORT, "grandchild with unlimited fuel, spinning: %s",
           k == LG_PROCESS_DIED ? "ran out of fuel" : kind_name(k));
    lg_config_drop(c);
}

LG_EXPORT("grower") void grower(int64_t main_pid)
{
    /* volatile: an allocation only compared with NULL may be optimized away */
    char *volatile p = malloc(8 << 20);
    if (p)
        p[0] = 1;
    report((uint64_t)main_pid, T_REPORT, "grandchild asking for 64 MiB allocates 8 MiB: %s",
           p ? "yes" : "no (capped at its parent's 2 MiB)");
}

LG_EXPORT("spinner") void spinner(int64_t main_pid)
{
    (void)main_pid;
    for (volatile unsigned i = 0;; i++)
        ;
}

int main(void)
{
    mkdir("sub", 0755);
    FILE *f = fopen("sub/inside.txt", "w");
    fputs("inside", f);
    fclose(f);
    /* a link inside "." whose target is outside it (relative targets may
     * be created; following them out is what the check refuses) */
    symlink("../..", "out");

    int64_t c = lg_config_create();
    lg_config_preopen(c, "/");
    try_spawn("preopen /", c);
    lg_config_drop(c);

    c = lg_config_create();
    lg_config_preopen(c, "..");
    try_spawn("preopen ..", c);
    lg_config_drop(c);

    c = lg_config_create();
    lg_config_preopen(c, "out");
    try_spawn("preopen of a symlink out", c);
    lg_config_drop(c);

    c = lg_config_create();
    lg_config_preopen(c, "sub");
    try_spawn("preopen sub (inside .)", c);
    lg_config_drop(c);

    c = lg_config_create();
    lg_config_preopen(c, ".");
    try_spawn("preopen . (the spawner's own)", c);
    lg_config_drop(c);

    /* a middle process without can_compile_modules, 2 MiB and 20 fuel units */
    c = lg_config_create();
    lg_config_set_can_create_configs(c, 1);
    lg_config_set_can_spawn(c, 1);
    lg_config_set_max_memory(c, 2 << 20);
    lg_config_set_max_fuel(c, 20);
    uint64_t id;
    lg_spawn_ex(0, c, LG_MINE, "middle", LG_ARGS(LG_I64(lg_self())), &id);
    char buf[200];
    for (int i = 0; i < 3; i++)
        say("%s\n", recv_str(T_REPORT, buf, sizeof buf));
    return 0;
}
