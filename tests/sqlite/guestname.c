/* guestname.c - run as `lunatic run --dir store::/db`: a database path is
 * resolved by the name the guest sees a preopen by (/db), not by the host
 * path (store), as the guest's libc resolves file names. */
#include "sql_test.h"

int main(void)
{
    uint64_t c = sql_open("/db/named.db");
    sql_ok(c, "CREATE TABLE t (v); INSERT INTO t VALUES (42)");
    EXPECT(sql_int(c, "SELECT v FROM t") == 42, "a database under the guest name /db", "?");
    uint64_t d;
    uint64_t r = lg_sqlite_open("/store/named.db", &d);
    EXPECT(r == 1, "the host path is no name the guest knows", "%llu", (unsigned long long)r);
    if (r == 1)
        lg_error_drop(d);
    /* "." is still preopened: store/named.db there is the same file */
    uint64_t e = sql_open("store/named.db");
    EXPECT(sql_int(e, "SELECT v FROM t") == 42, "the same file through \".\"", "?");
    return 0;
}
