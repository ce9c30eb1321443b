/*
 * test_api_abi.c - every lunatic::* host function the runtime registers
 * has exactly the name and signature of tests/proc/abi_imports.txt (the
 * ABI list, docs/ABI.md §2), and every function of the list is registered:
 * the host table is compared with the list directly, without the SDK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "check.h"

/* "(i64 i32) -> (i32)" for a host signature string "Ii:i". */
static void format_sig(const char *sig, char *out, size_t size)
{
    size_t n = 0;
    bool results = false, first = true;
    n += (size_t)snprintf(out + n, size - n, "(");
    for (const char *p = sig; *p; p++) {
        if (*p == ':') {
            n += (size_t)snprintf(out + n, size - n, ") -> (");
            results = true;
            first = true;
            continue;
        }
        const char *t = *p == 'i' ? "i32" : *p == 'I' ? "i64" : *p == 'f' ? "f32" : "f64";
        n += (size_t)snprintf(out + n, size - n, "%s%s", first ? "" : " ", t);
        first = false;
    }
    snprintf(out + n, size - n, "%s)", results ? "" : ") -> (");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void)
{
    const lw_host_table *t = lapi_host_table();
    CHECK(t != NULL, "the host table is built");
    if (!t)
        return check_report();
    char **got = calloc(t->n, sizeof *got);
    for (size_t i = 0; i < t->n; i++) {
        char sig[256], line[512];
        format_sig(t->defs[i].sig, sig, sizeof sig);
        snprintf(line, sizeof line, "%s::%s %s", t->defs[i].module, t->defs[i].name, sig);
        got[i] = strdup(line);
    }
    qsort(got, t->n, sizeof *got, cmp);

    FILE *f = fopen("tests/proc/abi_imports.txt", "r");
    CHECK(f != NULL, "tests/proc/abi_imports.txt opens (run from the repository root)");
    if (!f)
        return check_report();
    char **want = NULL;
    size_t nwant = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "lunatic::", 9))
            continue;
        want = realloc(want, (nwant + 1) * sizeof *want);
        want[nwant++] = strdup(line);
    }
    fclose(f);
    qsort(want, nwant, sizeof *want, cmp);

    size_t i = 0, j = 0;
    int missing = 0, extra = 0;
    while (i < nwant || j < t->n) {
        int c = i == nwant ? 1 : j == t->n ? -1 : strcmp(want[i], got[j]);
        if (c < 0) {
            printf("missing or mistyped: %s\n", want[i++]);
            missing++;
        } else if (c > 0) {
            printf("not in the ABI list: %s\n", got[j++]);
            extra++;
        } else {
            i++, j++;
        }
    }
    CHECK(nwant == 140, "the ABI list has 140 functions (%zu)", nwant);
    CHECK(missing == 0 && extra == 0, "%d functions missing or mistyped, %d not in the list",
          missing, extra);
    for (i = 0; i < nwant; i++)
        free(want[i]);
    for (j = 0; j < t->n; j++)
        free(got[j]);
    free(want);
    free(got);
    return check_report();
}
