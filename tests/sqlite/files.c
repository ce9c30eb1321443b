/* files.c - database files lie in the process's preopened directories.
 * t-sqlite.sh runs it in an empty directory holding data/ and planted
 * symbolic links: data/link.db -> ../outside.db, data/abs.db -> an
 * absolute path outside, data/up -> .. . A child whose config preopens
 * only "data" may open and ATTACH files in it and nothing else: every
 * refusal is an error code with a message, never a trap, and no file is
 * created outside (the script checks). The main process, whose preopen is
 * ".", then finds the child's rows. */
#include "sql_test.h"

#define T_DONE 1

static void refused(const char *path)
{
    uint64_t c;
    uint64_t r = lg_sqlite_open(path, &c);
    char e[300] = "";
    if (r == 1) {
        lg_error_string(c, e, sizeof e);
        lg_error_drop(c);
    }
    char what[100];
    snprintf(what, sizeof what, "open %s is refused", path);
    EXPECT(r == 1, what, "returned %llu", (unsigned long long)r);
    lg_printf("     %s\n", e);
}

LG_EXPORT("confined")
void confined(int64_t parent)
{
    uint64_t c = sql_open("data/app.db");
    sql_ok(c, "CREATE TABLE t (v TEXT)");
    sql_ok(c, "INSERT INTO t VALUES ('from the child')");
    /* with a journal file beside it: a rollback journal transaction */
    sql_ok(c, "BEGIN; INSERT INTO t VALUES ('second'); COMMIT");
    uint64_t c2 = sql_open("./data//app.db");
    EXPECT(sql_int(c2, "SELECT count(*) FROM t") == 2, "the same file by another spelling", "?");

    refused("outside.db");        /* "." is not this process's preopen */
    refused("/etc/passwd");
    refused("data/../outside.db");
    refused("data/link.db");      /* planted symlink to ../outside.db */
    refused("data/abs.db");       /* planted symlink to an absolute path */
    refused("data/up/outside.db"); /* through a symlinked directory */

    char m[200];
    EXPECT(lg_sqlite_exec(c, "ATTACH 'data/att.db' AS a; CREATE TABLE a.x (v); INSERT INTO a.x VALUES (1)") == 0,
           "ATTACH inside the preopen", "%u", lg_sqlite_last_error(c, m, sizeof m));
    uint32_t rc = lg_sqlite_exec(c, "ATTACH 'outside.db' AS o");
    lg_sqlite_last_error(c, m, sizeof m);
    EXPECT(rc == 14, "ATTACH outside the preopen is refused (SQLITE_CANTOPEN)", "%u %s", rc, m);
    rc = lg_sqlite_exec(c, "ATTACH 'data/link.db' AS l");
    EXPECT(rc == 14, "ATTACH through the planted symlink is refused", "%u", rc);
    rc = lg_sqlite_exec(c, "ATTACH 'file:outside.db?vfs=unix' AS u");
    EXPECT(rc != 0, "ATTACH of a URI cannot pick another VFS", "%u", rc);
    rc = lg_sqlite_exec(c, "VACUUM INTO '/tmp/lunatic-sqlite-vacuum-escape.db'");
    EXPECT(rc != 0, "VACUUM INTO outside is refused", "%u", rc);
    lg_send_u64((uint64_t)parent, T_DONE, 0);
}

int main(void)
{
    int64_t cfg = lg_config_create();
    lg_config_preopen(cfg, "data");
    uint64_t pid;
    if (lg_spawn_ex(0, cfg, LG_MINE, "confined", LG_ARGS(LG_I64(lg_self())), &pid) != 0) {
        lg_printf("FAIL spawn\n");
        return 1;
    }
    lg_monitor(pid);
    EXPECT(recv_u64(T_DONE) == 0, "the confined child finished", "?");
    EXPECT(got_died(pid), "and ended", "?");
    uint64_t c = sql_open("data/app.db");
    EXPECT(sql_int(c, "SELECT count(*) FROM t") == 2, "the parent reads the child's rows", "?");
    EXPECT(lg_sqlite_exec(c, "ATTACH 'data/att.db' AS a") == 0 && sql_int(c, "SELECT v FROM a.x") == 1,
           "and the attached file's", "?");
    return 0;
}
