/*
 * test.c - `lunatic test`: runs the tests a module exports (ABI.md 3.4,
 * "cargo-test mode").
 *
 *   lunatic test [OPTIONS] FILE.wasm [FILTER] [WASM_ARGS]...
 *     --dir DIR        preopen DIR (as `lunatic run`; "." always is)
 *     --ignored        run only the ignored tests
 *     --exact          FILTER must equal the name (default: a substring)
 *     --nocapture      also echo the tests' output as it is written
 *     --show-output    print the output of the tests that passed too
 *     --list           list the tests ("NAME: test") instead of running them
 *     --format terse   the only format --list knows
 *     --threads N      worker threads of the runtime
 *
 * It is also what `lunatic run FILE.wasm ...` does when CARGO_MANIFEST_DIR
 * is set and FILE.wasm lies under target/wasm32-wasi/(debug|release)/deps/
 * (cargo's test runner invocation; main.c decides).
 *
 * A test is an exported function named
 *   #lunatic_test_[#ignore_][#panic_<expected>#]<path::name>
 * (`\#` escapes a `#` inside <expected>). Every selected test runs as its
 * own process, in its own environment (ids 1, 2, ...) with its own
 * registry, all at once on one runtime, with the permissions of
 * `lunatic run`'s main process. Its stdout and stderr, and those of every
 * process it spawns (they inherit the capture with their config), go to
 * one pipe per test that this file drains (and echoes with --nocapture);
 * the runtime's failure message about any of those processes goes there
 * too.
 *
 * A test passes when its process ends normally (return or proc_exit(0)).
 * A #panic_ test passes when it fails instead, and, if <expected> is not
 * empty, when the panic message it printed contains <expected>: Rust's
 * "thread '...' panicked at '<msg>', file:line:col" (Rust <= 1.72) or
 * "thread '...' panicked at file:line:col:\n<msg>" (newer); without such a
 * message, when its output contains <expected>.
 *
 * The report is libtest's: "running N tests", one "test NAME ... ok |
 * FAILED | ignored" line per test as it ends, the output of the failures
 * (and with --show-output of the successes), the failures' names and
 * "test result: ok|FAILED. P passed; F failed; I ignored; 0 measured; X
 * filtered out; finished in S s". Exit status 1 when a test failed, 0
 * otherwise, 2 for a usage error (1 when the module cannot be loaded).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "lunatic.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

extern char **environ;

#define TEST_PREFIX "#lunatic_test_"

typedef enum { ST_PENDING, ST_OK, ST_FAILED, ST_PANIC_OK, ST_PANIC_FAILED, ST_IGNORED } test_status;

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

typedef struct test {
    char *export;        /* the export's name */
    char *name;          /* path::name */
    char *expected;      /* #panic_ text (unescaped), or NULL */
    bool ignored, filtered;
    /* running */
    uint64_t env, pid;   /* pid 0: not spawned (spawn failed) */
    int rfd;             /* the capture pipe's read end, -1 when closed */
    buf out;
    int exit;            /* lunatic_wait's status */
    bool done, reported;
    test_status status;
} test;

typedef struct opts {
    bool ignored, exact, nocapture, show_output, list;
    const char *filter;
    unsigned threads;
} opts;

static void buf_add(buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return;   /* out of memory: the output is truncated */
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static const char *buf_str(const buf *b) { return b->p ? b->p : ""; }

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static bool starts(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && !memcmp(s, prefix, n);
}

/* Parses an export name; false when it is not a test or out of memory. */
static bool parse_test(const char *s, size_t len, test *t)
{
    memset(t, 0, sizeof *t);
    t->rfd = -1;
    if (!starts(s, len, TEST_PREFIX))
        return false;
    t->export = dupn(s, len);
    s += strlen(TEST_PREFIX);
    len -= strlen(TEST_PREFIX);
    if (starts(s, len, "#ignore_")) {
        t->ignored = true;
        s += 8;
        len -= 8;
    }
    if (starts(s, len, "#panic_")) {
        s += 7;
        len -= 7;
        /* up to the first '#' not preceded by '\'; "\#" stands for "#" */
        size_t end = 0;
        while (end < len && !(s[end] == '#' && (end == 0 || s[end - 1] != '\\')))
            end++;
        if (end == len) {
            /* no closing '#': the original would not cope either; take the
             * whole rest as the name and expect any panic */
            t->expected = dupn("", 0);
        } else {
            t->expected = malloc(end + 1);
            if (t->expected) {
                size_t k = 0;
                for (size_t i = 0; i < end; i++) {
                    if (s[i] == '\\' && i + 1 < end && s[i + 1] == '#')
                        continue;
                    t->expected[k++] = s[i];
                }
                t->expected[k] = 0;
            }
            s += end + 1;
            len -= end + 1;
        }
    }
    t->name = dupn(s, len);
    return t->export && t->name;
}

static void test_free(test *t)
{
    free(t->export);
    free(t->name);
    free(t->expected);
    free(t->out.p);
    if (t->rfd >= 0)
        close(t->rfd);
}

/* ---- panic messages -------------------------------------------------------- */

/* Calls fn for each panic message in out; stops when fn returns true. */
static bool each_panic(const char *out, bool (*fn)(const char *msg, size_t len, void *ud), void *ud)
{
    static const char mark[] = "' panicked at ";
    for (const char *line = out; *line;) {
        const char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        const char *m = NULL;
        if (ll > 8 && !strncmp(line, "thread '", 8)) {
            const char *pa = memmem(line, ll, mark, sizeof mark - 1);
            if (pa)
                m = pa + sizeof mark - 1;
        }
        if (m) {
            const char *msg;
            size_t len;
            if (*m == '\'') {
                /* Rust <= 1.72: panicked at '<msg>', file:line:col. As the
                 * original's greedy regex: up to the last "', ". */
                msg = m + 1;
                const char *end = NULL;
                for (const char *q = strstr(msg, "', "); q; q = strstr(q + 1, "', "))
                    end = q;
                len = end ? (size_t)(end - msg) : strcspn(msg, "\n");
            } else {
                /* newer Rust: panicked at file:line:col:\n<msg>\n[note: ...] */
                msg = eol ? eol + 1 : line + ll;
                const char *end = strstr(msg, "\nnote: ");
                const char *end2 = strstr(msg, "\nthread '");
                if (!end || (end2 && end2 < end))
                    end = end2;
                len = end ? (size_t)(end - msg) : strlen(msg);
                while (len && msg[len - 1] == '\n')
                    len--;
            }
            if (fn(msg, len, ud))
                return true;
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    return false;
}

typedef struct panic_check {
    const char *expected;
    bool found;        /* some panic message */
    char first[512];   /* the first one, for the note */
} panic_check;

static bool check_panic(const char *msg, size_t len, void *ud)
{
    panic_check *c = ud;
    if (!c->found)
        snprintf(c->first, sizeof c->first, "%.*s", (int)len, msg);
    c->found = true;
    return memmem(msg, len, c->expected, strlen(c->expected)) != NULL;
}

/* Decides t->status from t->exit and the captured output. */
static void judge(test *t, bool nocapture)
{
    const char *out = buf_str(&t->out);
    if (!t->pid) {
        t->status = t->expected ? ST_PANIC_FAILED : ST_FAILED;
        return;
    }
    if (t->exit == 0) {
        if (!t->expected) {
            t->status = ST_OK;
        } else {
            buf_printf(&t->out, "note: test did not panic as expected\n");
            t->status = ST_PANIC_FAILED;
        }
        return;
    }
    const char *why = t->exit == LUNATIC_STATUS_KILLED ? "was killed"
                      : t->exit == LUNATIC_STATUS_FAILED ? "trapped" : NULL;
    if (!t->expected) {
        panic_check c = {.expected = ""};
        if (!each_panic(out, check_panic, &c) && !nocapture) {
            if (why)
                buf_printf(&t->out, "note: Process %s\n", why);
            else
                buf_printf(&t->out, "note: Process exited with status %d\n", t->exit);
        }
        t->status = ST_FAILED;
        return;
    }
    if (!*t->expected) {
        t->status = ST_PANIC_OK;
        return;
    }
    panic_check c = {.expected = t->expected};
    if (each_panic(out, check_panic, &c) || (!c.found && strstr(out, t->expected))) {
        t->status = ST_PANIC_OK;
    } else if (c.found) {
        buf_printf(&t->out,
                   "note: panic did not contain expected string\n"
                   "      panic message: `\"%s\"`,\n expected substring: `\"%s\"`\n",
                   c.first, t->expected);
        t->status = ST_PANIC_FAILED;
    } else {
        buf_printf(&t->out, "note: Process %s, but expected a panic that contains `%s`\n",
                   why ? why : "failed", t->expected);
        t->status = ST_PANIC_FAILED;
    }
}

/* ---- running ---------------------------------------------------------------- */

typedef struct waiter {
    lunatic_runtime *rt;
    test *tests;
    size_t n;
    int notify;          /* write end: one size_t index per finished test */
} waiter;

/* Waits for every spawned test in turn and reports each index. */
static void *wait_all(void *arg)
{
    waiter *w = arg;
    for (size_t i = 0; i < w->n; i++) {
        test *t = &w->tests[i];
        if (t->filtered || t->ignored)
            continue;
        if (t->pid)
            t->exit = lunatic_wait(w->rt, t->env, t->pid);
        ssize_t r;
        do
            r = write(w->notify, &i, sizeof i);
        while (r < 0 && errno == EINTR);
    }
    return NULL;
}

/* Reads what the pipe holds now; false at EOF or on an error. */
static bool drain(test *t, bool echo)
{
    char chunk[16384];
    for (;;) {
        ssize_t r = read(t->rfd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return true;
        if (r <= 0) {
            close(t->rfd);
            t->rfd = -1;
            return false;
        }
        buf_add(&t->out, chunk, (size_t)r);
        if (echo) {
            fwrite(chunk, 1, (size_t)r, stdout);
            fflush(stdout);
        }
    }
}

static bool use_color;

static const char *color(const char *word)
{
    if (!use_color)
        return word;
    if (!strcmp(word, "ok"))
        return "\x1b[92mok\x1b[0m";
    if (!strcmp(word, "FAILED"))
        return "\x1b[91mFAILED\x1b[0m";
    return "\x1b[93mignored\x1b[0m";
}

static void report_line(const test *t)
{
    bool panic = t->status == ST_PANIC_OK || t->status == ST_PANIC_FAILED;
    const char *word = t->status == ST_OK || t->status == ST_PANIC_OK ? "ok"
                       : t->status == ST_IGNORED ? "ignored" : "FAILED";
    printf("test %s%s ... %s\n", t->name, panic ? " - should panic" : "", color(word));
    fflush(stdout);
}

static bool passed(const test *t) { return t->status == ST_OK || t->status == ST_PANIC_OK; }

static void usage(void)
{
    fprintf(stderr,
            "usage: lunatic test [--dir DIR]... [--ignored] [--exact] [--nocapture] [--show-output]\n"
            "                    [--list [--format terse]] FILE.wasm [FILTER] [ARGS]...\n");
}

/* A config like `lunatic run`'s main process (ABI 3.2). */
static lunatic_config *base_config(const char *file, char **dirs, int ndirs, char **args, int nargs)
{
    lunatic_config *c = lunatic_config_new();
    if (!c)
        return NULL;
    lunatic_config_set_permissions(c, 1, 1, 1);
    bool ok = lunatic_config_add_preopen(c, ".") == 0;
    for (int i = 0; ok && i < ndirs; i++)
        ok = cli_add_dir(c, dirs[i]) == 0;
    ok = ok && lunatic_config_add_arg(c, file) == 0;
    for (int i = 0; ok && i < nargs; i++)
        ok = lunatic_config_add_arg(c, args[i]) == 0;
    for (int k = 0; ok && environ && environ[k]; k++)
        ok = lunatic_config_add_env(c, environ[k]) == 0;
    if (!ok) {
        lunatic_config_release(c);
        return NULL;
    }
    return c;
}

/* One `lunatic test` run: the options, the module and its tests. */
typedef struct session {
    opts o;
    const char *file, *format;
    char **dirs, **args;
    int ndirs, nargs;
    lunatic_module *mod;
    test *tests;
    size_t ntests;
} session;

/* Parses the command line into s: 0, or an exit status (a usage error). */
static int parse_args(session *s, int argc, char **argv)
{
    bool options = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options || a[0] != '-' || a[1] != '-') {
            if (!s->file)
                s->file = a;
            else if (!s->o.filter && options)
                s->o.filter = a;
            else
                s->args[s->nargs++] = (char *)a;
            continue;
        }
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
#define IS(lit) (nlen == strlen(lit) && !strncmp(a, lit, nlen))
        bool takes = IS("--dir") || IS("--format") || IS("--threads") || IS("--test-threads") ||
                     IS("--color") || IS("--skip");
        if (takes) {
            if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                log_error("%s needs a value", a);
                return EXIT_USAGE;
            }
        } else if (eq) {
            log_error("option '%.*s' takes no value", (int)nlen, a);
            return EXIT_USAGE;
        }
        if (IS("--"))
            options = false;
        else if (IS("--dir"))
            s->dirs[s->ndirs++] = (char *)val;
        else if (IS("--format"))
            s->format = val;
        else if (IS("--threads"))
            s->o.threads = (unsigned)atoi(val);
        else if (IS("--ignored"))
            s->o.ignored = true;
        else if (IS("--exact"))
            s->o.exact = true;
        else if (IS("--nocapture"))
            s->o.nocapture = true;
        else if (IS("--show-output"))
            s->o.show_output = true;
        else if (IS("--list"))
            s->o.list = true;
        else if (!IS("--test-threads") && !IS("--color") && !IS("--skip") && !IS("--quiet")) {
            /* (those are libtest options cargo may pass: accepted, no effect) */
            log_error("unknown option '%s'", a);
            usage();
            return EXIT_USAGE;
        }
#undef IS
    }
    if (!s->file) {
        usage();
        return EXIT_USAGE;
    }
    if (s->format && strcmp(s->format, "terse") && strcmp(s->format, "pretty")) {
        log_error("argument for --format must be terse (was %s)", s->format);
        return EXIT_USAGE;
    }
    if (!s->o.filter)
        s->o.filter = "";
    return 0;
}

/* Finds the module's tests, in export order, and marks those the filter
 * and --ignored leave out. 0, or -1 when out of memory. */
static int find_tests(session *s)
{
    uint32_t nexp = lunatic_module_func_exports(s->mod);
    s->tests = calloc(nexp + 1, sizeof *s->tests);
    if (!s->tests)
        return -1;
    for (uint32_t i = 0; i < nexp; i++) {
        size_t nlen;
        const char *name = lunatic_module_func_export(s->mod, i, &nlen);
        if (!starts(name, nlen, TEST_PREFIX))
            continue;
        test *t = &s->tests[s->ntests];
        if (!parse_test(name, nlen, t)) {
            test_free(t);
            return -1;
        }
        s->ntests++;
        if (s->o.ignored) {
            if (t->ignored)
                t->ignored = false;
            else
                t->filtered = true;
        }
        if (!t->filtered)
            t->filtered = s->o.exact ? strcmp(t->name, s->o.filter) != 0 : !strstr(t->name, s->o.filter);
    }
    return 0;
}

/* Spawns every selected test in an environment of its own (k+1 for the
 * k-th one run), its stdout and stderr into a pipe of its own. A test
 * that cannot be spawned keeps pid 0 and the reason in its output. */
static void spawn_tests(session *s, lunatic_runtime *rt)
{
    uint64_t next_env = 1;
    for (size_t i = 0; i < s->ntests; i++) {
        test *t = &s->tests[i];
        if (t->filtered)
            continue;
        if (t->ignored) {
            t->status = ST_IGNORED;
            continue;
        }
        t->env = next_env++;
        char why[600], err[512];
        int p[2] = {-1, -1};
        lunatic_config *c = NULL;
        if (lunatic_module_check_entry(s->mod, t->export, err, sizeof err) < 0) {
            snprintf(why, sizeof why, "%s", err);
        } else if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
            snprintf(why, sizeof why, "cannot create a pipe: %s", strerror(errno));
        } else if (!(c = base_config(s->file, s->dirs, s->ndirs, s->args, s->nargs)) ||
                   lunatic_config_set_stdio(c, p[1], p[1]) < 0) {
            snprintf(why, sizeof why, "cannot set up the config: %s", strerror(errno));
        } else {
            t->pid = lunatic_spawn(rt, t->env, s->mod, c, t->export, NULL, 0, err, sizeof err);
            if (!t->pid)
                snprintf(why, sizeof why, "%s", err);
        }
        lunatic_config_release(c);
        if (p[1] >= 0)
            close(p[1]);
        t->rfd = p[0];
        if (!t->pid)
            buf_printf(&t->out, "lunatic: cannot spawn the test '%s': %s\n", t->name, why);
    }
}

/* Drains the tests' pipes while a thread waits for their ends, and judges
 * and reports each test as it ends. 0, or -1 (a pipe or thread failed). */
static int collect(session *s, lunatic_runtime *rt)
{
    int nfd[2];
    if (pipe2(nfd, O_CLOEXEC) < 0) {
        log_error("cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    waiter w = {.rt = rt, .tests = s->tests, .n = s->ntests, .notify = nfd[1]};
    pthread_t th_wait;
    if (pthread_create(&th_wait, NULL, wait_all, &w)) {
        log_error("cannot start a thread");
        close(nfd[0]);
        close(nfd[1]);
        return -1;
    }
    struct pollfd *pfd = calloc(s->ntests + 1, sizeof *pfd);
    size_t *who = calloc(s->ntests + 1, sizeof *who);
    size_t left = 0;
    for (size_t i = 0; i < s->ntests; i++) {
        if (s->tests[i].status == ST_IGNORED)
            report_line(&s->tests[i]);
        else if (!s->tests[i].filtered)
            left++;
    }
    while (left && pfd && who) {
        nfds_t k = 0;
        pfd[k++] = (struct pollfd){.fd = nfd[0], .events = POLLIN};
        for (size_t i = 0; i < s->ntests; i++)
            if (s->tests[i].rfd >= 0) {
                who[k] = i;
                pfd[k++] = (struct pollfd){.fd = s->tests[i].rfd, .events = POLLIN};
            }
        if (poll(pfd, k, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s", strerror(errno));
            break;
        }
        for (nfds_t j = 1; j < k; j++)
            if (pfd[j].revents)
                drain(&s->tests[who[j]], s->o.nocapture);
        if (pfd[0].revents) {
            size_t i;
            ssize_t r = read(nfd[0], &i, sizeof i);
            if (r == (ssize_t)sizeof i && i < s->ntests) {
                test *t = &s->tests[i];
                /* what it wrote before it ended is in the pipe now */
                if (t->rfd >= 0)
                    drain(t, s->o.nocapture);
                judge(t, s->o.nocapture);
                t->reported = true;
                report_line(t);
                left--;
            }
        }
    }
    pthread_join(th_wait, NULL);
    free(pfd);
    free(who);
    close(nfd[0]);
    close(nfd[1]);
    return 0;
}

/* Prints libtest's summary; returns the exit status. */
static int summarize(const session *s, double t0)
{
    size_t npass = 0, nfail = 0, nign = 0, filtered_out = 0;
    const test *tests = s->tests;
    for (size_t i = 0; i < s->ntests; i++) {
        if (tests[i].filtered)
            filtered_out++;
        else if (tests[i].status == ST_IGNORED)
            nign++;
        else if (passed(&tests[i]))
            npass++;
        else
            nfail++;
    }
    if (s->o.show_output) {
        printf("\nsuccesses:\n");
        for (size_t i = 0; i < s->ntests; i++)
            if (!tests[i].filtered && passed(&tests[i]) && tests[i].out.len)
                printf("\n---- %s stdout ----\n%s", tests[i].name, buf_str(&tests[i].out));
        printf("\nsuccesses:\n");
        for (size_t i = 0; i < s->ntests; i++)
            if (!tests[i].filtered && passed(&tests[i]))
                printf("    %s\n", tests[i].name);
    }
    if (nfail) {
        printf("\nfailures:\n");
        for (size_t i = 0; i < s->ntests; i++) {
            const test *t = &tests[i];
            if (t->filtered || t->status == ST_IGNORED || passed(t) || !t->out.len)
                continue;
            const char *out = buf_str(&t->out);
            printf("\n---- %s stdout ----\n%s%s", t->name, out, out[t->out.len - 1] == '\n' ? "" : "\n");
        }
        printf("\nfailures:\n");
        for (size_t i = 0; i < s->ntests; i++) {
            const test *t = &tests[i];
            if (!t->filtered && t->status != ST_IGNORED && !passed(t))
                printf("    %s\n", t->name);
        }
    }
    printf("\ntest result: %s. %zu passed; %zu failed; %zu ignored; 0 measured; %zu filtered out; "
           "finished in %.2fs\n\n",
           color(nfail ? "FAILED" : "ok"), npass, nfail, nign, filtered_out, now_s() - t0);
    fflush(stdout);
    return nfail ? EXIT_FAILED : 0;
}

int cli_test(int argc, char **argv)
{
    session s = {0};
    int status = EXIT_FAILED;
    s.dirs = calloc((size_t)argc + 1, sizeof *s.dirs);
    s.args = calloc((size_t)argc + 1, sizeof *s.args);
    if (!s.dirs || !s.args)
        goto out;
    if ((status = parse_args(&s, argc, argv)) != 0)
        goto out;
    status = EXIT_FAILED;
    size_t len;
    char err[512];
    s.mod = cli_load_module(s.file, false, &len, err, sizeof err);
    if (!s.mod) {
        log_error("%s", err);
        goto out;
    }
    if (find_tests(&s) < 0) {
        log_error("out of memory");
        goto out;
    }
    if (s.o.list) {
        for (size_t i = 0; i < s.ntests; i++)
            if (!s.tests[i].filtered)
                printf("%s: test\n", s.tests[i].name);
        status = 0;
        goto out;
    }

    use_color = isatty(1);
    double t0 = now_s();
    size_t n = 0;
    for (size_t i = 0; i < s.ntests; i++)
        n += !s.tests[i].filtered;
    printf("\nrunning %zu %s\n", n, n == 1 ? "test" : "tests");
    fflush(stdout);
    lunatic_options lo = cli_runtime_options(s.o.threads);
    lunatic_runtime *rt = lunatic_runtime_new(&lo);
    if (!rt) {
        log_error("cannot start the runtime: %s", errno == ENOMEM ? "out of memory" : strerror(errno));
        goto out;
    }
    spawn_tests(&s, rt);
    if (collect(&s, rt) == 0)
        status = summarize(&s, t0);
    lunatic_runtime_stop(rt); /* before exit's handlers run (see run.c) */

out:
    for (size_t i = 0; i < s.ntests; i++)
        test_free(&s.tests[i]);
    free(s.tests);
    lunatic_module_release(s.mod);
    free(s.dirs);
    free(s.args);
    return status;
}

static bool cargo_test_path(const char *path)
{
    size_t len = strlen(path);
    if (len < 5 || strcmp(path + len - 5, ".wasm"))
        return false;
    static const char *const targets[] = {"target/wasm32-wasi/", "target/wasm32-unknown-unknown/"};
    static const char *const profiles[] = {"debug/deps/", "release/deps/"};
    for (const char *p = path; (p = strstr(p, "target/")); p++) {
        if (p != path && p[-1] != '/')
            continue;
        for (int a = 0; a < 2; a++) {
            size_t tl = strlen(targets[a]);
            if (strncmp(p, targets[a], tl))
                continue;
            for (int b = 0; b < 2; b++)
                if (!strncmp(p + tl, profiles[b], strlen(profiles[b])))
                    return true;
        }
    }
    return false;
}

bool cli_is_cargo_test(int argc, char **argv)
{
    if (!getenv("CARGO_MANIFEST_DIR"))
        return false;
    const char *file = NULL;
    int i = 1;
    for (; i < argc && !file; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--dir") || !strcmp(a, "--threads"))
            i++;
        else if (!strcmp(a, "--bench"))
            return false;
        else if (a[0] != '-' || a[1] != '-')
            file = a;
    }
    if (!file || !cargo_test_path(file))
        return false;
    for (; i < argc; i++)
        if (!strcmp(argv[i], "--bench"))
            return false;
    return true;
}
