/* config.c - configs: create_config defaults, setters and getters, each
 * permission alone (spawn without can_spawn_processes traps the spawner;
 * create_config without can_create_configs and compile_module without
 * can_compile_modules return -1), environment variables and arguments
 * given to a child (a new config starts empty; config -1 inherits the
 * caller's), preopened directories (a child without one cannot open files;
 * a missing directory is a spawn error), drop_config. */
#include "proc_test.h"
#include "tiny_module.h"
#include <wasi/api.h>

#define T_REPORT 80
#define T_AFTER 81

LG_EXPORT("returner") void returner(void) {}

/* Tries each privileged call; the spawn comes last since it may trap. */
LG_EXPORT("try_all")
void try_all(int64_t main_pid)
{
    int64_t cfg = lg_config_create();
    uint64_t m = 0;
    int32_t c = lg_compile(tiny_module, sizeof tiny_module, &m);
    report((uint64_t)main_pid, T_REPORT, "create_config %s, compile_module %d", cfg >= 0 ? ">= 0" : "-1", c);
    uint64_t pid = lg_spawn("returner", LG_NOARGS);
    report((uint64_t)main_pid, T_AFTER, "spawn %s", pid ? "ok" : "error");
}

static void count_env(size_t *argc, size_t *envc, char *args, size_t cap)
{
    size_t argsz = 0, envsz = 0;
    args[0] = 0;
    if (__wasi_args_sizes_get(argc, &argsz) != 0 || __wasi_environ_sizes_get(envc, &envsz) != 0) {
        snprintf(args, cap, "sizes_get failed");
        return;
    }
    if (*argc > 0 && *argc < 16 && argsz < 1024) {
        char *argv[16];
        char data[1024];
        if (__wasi_args_get((uint8_t **)argv, (uint8_t *)data) != 0) {
            snprintf(args, cap, "args_get failed");
            return;
        }
        for (size_t i = 0; i < *argc; i++)
            snprintf(args + strlen(args), cap - strlen(args), "%s'%s'", i ? " " : "", argv[i]);
    }
}

LG_EXPORT("show_env")
void show_env(int64_t main_pid)
{
    size_t argc = 0, envc = 0;
    char args[256];
    count_env(&argc, &envc, args, sizeof args);
    const char *a = getenv("LG_A"), *b = getenv("LG_B");
    report((uint64_t)main_pid, T_REPORT, "child: argc %zu [%s] envc %zu LG_A=%s LG_B=%s", argc, args, envc,
           a ? a : "(unset)", b ? (*b ? b : "(empty)") : "(unset)");
}

LG_EXPORT("read_file")
void read_file(int64_t main_pid)
{
    char line[64] = "";
    FILE *f = fopen("pre.txt", "r");
    if (!f) {
        report((uint64_t)main_pid, T_REPORT, "child: cannot open pre.txt");
        return;
    }
    if (!fgets(line, sizeof line, f))
        strcpy(line, "(empty)");
    fclose(f);
    line[strcspn(line, "\n")] = 0;
    report((uint64_t)main_pid, T_REPORT, "child: pre.txt says '%s'", line);
}

/* Spawns func(main) with cfg and prints its report, a second report if
 * one comes (try_all's spawn result), and its end. The child's messages
 * precede its ProcessDied. */
static void run_child(const char *what, int64_t cfg, const char *func)
{
    char buf[256];
    uint64_t pid = 0;
    uint32_t r = lg_spawn_ex(0, cfg, LG_MINE, func, LG_ARGS(LG_I64(lg_self())), &pid);
    if (r != 0) {
        size_t n = lg_error_string(pid, buf, sizeof buf);
        lg_error_drop(pid);
        say("%s: spawn %u, error text %s\n", what, r, n > 0 ? "present" : "empty");
        return;
    }
    lg_monitor(pid);
    say("%s: %s\n", what, recv_str(T_REPORT, buf, sizeof buf));
    uint32_t k = lg_receive_any(10000);
    if (k == LG_DATA && lg_msg_tag() == T_AFTER) {
        lg_msg_read_str(buf, sizeof buf);
        say("  then %s\n", buf);
        k = lg_receive_any(10000);
    } else if (strcmp(func, "try_all") == 0) {
        say("  then nothing (the spawn trapped)\n");
    }
    say("  %s\n", k == LG_PROCESS_DIED && lg_msg_pid() == pid ? "ended" : "did not end");
}

int main(void)
{
    int64_t c = lg_config_create();
    say("create_config: %s\n", c >= 0 ? ">= 0" : "-1");
    say("defaults: max_memory %llu max_fuel %llu compile %d create_configs %d spawn %d\n",
        (unsigned long long)lg_config_max_memory(c), (unsigned long long)lg_config_max_fuel(c),
        lg_config_can_compile(c), lg_config_can_create_configs(c), lg_config_can_spawn(c));
    lg_config_set_max_memory(c, 12345678);
    lg_config_set_max_fuel(c, 9);
    lgi_process_config_set_can_compile_modules((uint64_t)c, 7);
    lg_config_set_can_create_configs(c, 1);
    lg_config_set_can_spawn(c, 1);
    say("set: max_memory %llu max_fuel %llu compile %d create_configs %d spawn %d\n",
        (unsigned long long)lg_config_max_memory(c), (unsigned long long)lg_config_max_fuel(c),
        lg_config_can_compile(c), lg_config_can_create_configs(c), lg_config_can_spawn(c));
    lg_config_set_max_fuel(c, 0);
    lg_config_set_can_create_configs(c, 0);
    say("reset: max_fuel %llu compile %d create_configs %d spawn %d\n", (unsigned long long)lg_config_max_fuel(c),
        lg_config_can_compile(c), lg_config_can_create_configs(c), lg_config_can_spawn(c));
    lg_config_drop(c);

    int64_t none = lg_config_create();
    int64_t all = lg_config_create();
    lg_config_set_can_compile(all, 1);
    lg_config_set_can_create_configs(all, 1);
    lg_config_set_can_spawn(all, 1);
    int64_t compile_only = lg_config_create();
    lg_config_set_can_compile(compile_only, 1);
    int64_t configs_only = lg_config_create();
    lg_config_set_can_create_configs(configs_only, 1);
    int64_t spawn_only = lg_config_create();
    lg_config_set_can_spawn(spawn_only, 1);
    run_child("no permissions", none, "try_all");
    run_child("all permissions", all, "try_all");
    run_child("can compile", compile_only, "try_all");
    run_child("can create configs", configs_only, "try_all");
    run_child("can spawn", spawn_only, "try_all");
    run_child("caller's config", LG_MINE, "try_all");

    int64_t e = lg_config_create();
    lg_config_add_env(e, "LG_A", "alpha");
    lg_config_add_env(e, "LG_B", "");
    lg_config_add_arg(e, "prog");
    lg_config_add_arg(e, "x y");
    run_child("env and args", e, "show_env");
    run_child("new config", none, "show_env");
    {
        size_t argc = 0, envc = 0;
        char args[256], buf[256], want[300];
        count_env(&argc, &envc, args, sizeof args);
        uint64_t pid = lg_spawn("show_env", LG_ARGS(LG_I64(lg_self())));
        lg_monitor(pid);
        recv_str(T_REPORT, buf, sizeof buf);
        snprintf(want, sizeof want, "child: argc %zu [%s] envc %zu", argc, args, envc);
        say("caller's config: same args and environment as main: %s\n",
            strncmp(buf, want, strlen(want)) == 0 ? "yes" : buf);
        say("  %s\n", got_died(pid) ? "ended" : "did not end");
    }

    FILE *f = fopen("pre.txt", "w");
    fputs("preopened file\n", f);
    fclose(f);
    int64_t p = lg_config_create();
    lg_config_preopen(p, ".");
    run_child("preopen .", p, "read_file");
    run_child("no preopen", none, "read_file");
    run_child("caller's preopens", LG_MINE, "read_file");
    int64_t missing = lg_config_create();
    lg_config_preopen(missing, "/nonexistent-lunatic-test-dir");
    run_child("preopen of a missing directory", missing, "read_file");
    lg_config_drop(p);
    lg_config_drop(missing);
    say("finally: %s\n", kind_name(lg_receive_any(50)));
    return 0;
}
