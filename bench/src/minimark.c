/* minimark: a CoreMark-like mix written from scratch. Each iteration runs
 *   - a linked-list workload (find, reverse, merge sort by two keys, unlink and
 *     re-link nodes),
 *   - an integer matrix workload (add/multiply by constants, matrix-vector and
 *     matrix-matrix products, bit-field extraction),
 *   - a switch-based state machine classifying tokens of a text buffer
 *     (integer, decimal, exponent, hex, invalid),
 * and folds every intermediate result into a CRC-16. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

#define ITER 1600

static uint16_t crc16(uint16_t crc, uint32_t v, int bytes)
{
    for (int b = 0; b < bytes; b++) {
        uint8_t d = (uint8_t)(v >> (8 * b));
        for (int i = 0; i < 8; i++) {
            int mix = (crc ^ d) & 1;
            crc >>= 1;
            if (mix) crc ^= 0xA001;
            d >>= 1;
        }
    }
    return crc;
}

/* ---- linked list ---- */
typedef struct node { struct node *next; int16_t val; uint16_t idx; } node;
#define LN 300
static node pool[LN];

static node *list_build(uint16_t seed)
{
    node *head = NULL;
    for (int i = LN - 1; i >= 0; i--) {
        pool[i].idx = (uint16_t)i;
        pool[i].val = (int16_t)(((i ^ seed) * 0x9E37u >> 3) & 0x7fff);
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}
static node *list_find(node *l, int16_t val)
{
    while (l && l->val != val) l = l->next;
    return l;
}
static node *list_reverse(node *l)
{
    node *prev = NULL;
    while (l) { node *n = l->next; l->next = prev; prev = l; l = n; }
    return prev;
}
static int cmp_val(const node *a, const node *b) { return a->val - b->val; }
static int cmp_idx(const node *a, const node *b) { return (int)a->idx - (int)b->idx; }
static node *list_sort(node *l, int (*cmp)(const node *, const node *))
{
    /* bottom-up merge sort */
    for (int k = 1;; k *= 2) {
        node *p = l, *tail = NULL, *head = NULL;
        int merges = 0;
        while (p) {
            merges++;
            node *q = p;
            int ps = 0, qs = k;
            for (int i = 0; i < k && q; i++) { ps++; q = q->next; }
            while (ps > 0 || (qs > 0 && q)) {
                node *e;
                if (ps == 0) { e = q; q = q->next; qs--; }
                else if (qs == 0 || !q) { e = p; p = p->next; ps--; }
                else if (cmp(p, q) <= 0) { e = p; p = p->next; ps--; }
                else { e = q; q = q->next; qs--; }
                if (tail) tail->next = e; else head = e;
                tail = e;
            }
            p = q;
        }
        tail->next = NULL;
        l = head;
        if (merges <= 1) return l;
    }
}
static uint16_t bench_list(uint16_t crc, uint16_t seed)
{
    node *l = list_build(seed);
    for (int i = 0; i < 40; i++) {
        node *f = list_find(l, (int16_t)(((i * 37 ^ seed) * 0x9E37u >> 3) & 0x7fff));
        crc = crc16(crc, f ? f->idx : 0xffff, 2);
    }
    l = list_reverse(l);
    l = list_sort(l, cmp_val);
    crc = crc16(crc, (uint16_t)l->val, 2);
    /* unlink every 5th node and put it at the front */
    node *p = l;
    for (int i = 0; p && p->next; i++, p = p->next)
        if (i % 5 == 4) { node *m = p->next; p->next = m->next; m->next = l; l = m; }
    crc = crc16(crc, l->idx, 2);
    l = list_sort(l, cmp_idx);
    uint32_t s = 0;
    for (node *q = l; q; q = q->next) s = s * 31 + (uint16_t)q->val;
    return crc16(crc, s, 4);
}

/* ---- matrix ---- */
#define MN 24
static int16_t ma[MN][MN], mb[MN][MN];
static int32_t mc[MN][MN];

static uint16_t bench_matrix(uint16_t crc, uint16_t seed)
{
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            ma[i][j] = (int16_t)(((i * MN + j) * seed + 17) & 0xff) - 128;
            mb[i][j] = (int16_t)(((j * MN + i) ^ seed) & 0xff) - 64;
        }
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) ma[i][j] = (int16_t)(ma[i][j] + 3);
    for (int i = 0; i < MN; i++)   /* multiply by constant */
        for (int j = 0; j < MN; j++) mc[i][j] = ma[i][j] * 7;
    int32_t acc = 0;
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) acc += mc[i][j];
    crc = crc16(crc, (uint32_t)acc, 4);
    for (int i = 0; i < MN; i++) {   /* matrix * vector (first column of B) */
        int32_t s = 0;
        for (int j = 0; j < MN; j++) s += ma[i][j] * mb[j][0];
        mc[i][0] = s;
        crc = crc16(crc, (uint32_t)s, 2);
    }
    for (int i = 0; i < MN; i++)   /* matrix * matrix */
        for (int j = 0; j < MN; j++) {
            int32_t s = 0;
            for (int k = 0; k < MN; k++) s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    uint32_t bits = 0;
    for (int i = 0; i < MN; i++)   /* bit-field extraction of the product */
        for (int j = 0; j < MN; j++) bits += ((uint32_t)mc[i][j] >> 2) & 0xf;
    for (int i = 0; i < MN; i++) crc = crc16(crc, (uint32_t)mc[i][i], 4);
    return crc16(crc, bits, 4);
}

/* ---- state machine ---- */
enum { S_START, S_INT, S_DOT, S_FRAC, S_E, S_ESIGN, S_EXP, S_HEX0, S_HEX, S_BAD, S_COUNT };
#define TBUF 2400
static char text[TBUF + 1];

static void make_text(uint16_t seed)
{
    static const char *tok[] = {"5012", "1.25", "-87", "3e12", "0x1f", "1.5e-3", "+7", "x1",
                                "0.", "12e", "0xg", "99.9e+1", "-", "42"};
    size_t n = 0;
    uint32_t s = seed;
    while (n < TBUF - 16) {
        s = s * 1103515245u + 12345u;
        const char *t = tok[(s >> 16) % 14];
        size_t l = strlen(t);
        memcpy(text + n, t, l);
        n += l;
        text[n++] = ',';
    }
    text[n] = 0;
}
static uint16_t bench_state(uint16_t crc)
{
    unsigned finals[S_COUNT] = {0}, transitions = 0;
    const char *p = text;
    while (*p) {
        int st = S_START;
        for (; *p && *p != ','; p++) {
            char c = *p;
            int ns = st;
            switch (st) {
            case S_START:
                if (c == '0' && (p[1] == 'x')) { ns = S_HEX0; p++; }
                else if (c >= '0' && c <= '9') ns = S_INT;
                else if (c == '+' || c == '-') ns = S_INT;
                else if (c == '.') ns = S_DOT;
                else ns = S_BAD;
                break;
            case S_INT:
                if (c >= '0' && c <= '9') ns = S_INT;
                else if (c == '.') ns = S_DOT;
                else if (c == 'e' || c == 'E') ns = S_E;
                else ns = S_BAD;
                break;
            case S_DOT: case S_FRAC:
                if (c >= '0' && c <= '9') ns = S_FRAC;
                else if (c == 'e' || c == 'E') ns = S_E;
                else ns = S_BAD;
                break;
            case S_E:
                if (c == '+' || c == '-') ns = S_ESIGN;
                else if (c >= '0' && c <= '9') ns = S_EXP;
                else ns = S_BAD;
                break;
            case S_ESIGN: case S_EXP:
                ns = (c >= '0' && c <= '9') ? S_EXP : S_BAD;
                break;
            case S_HEX0: case S_HEX:
                ns = ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ? S_HEX : S_BAD;
                break;
            default:
                ns = S_BAD;
            }
            if (ns != st) transitions++;
            st = ns;
        }
        finals[st]++;
        if (*p) p++;
    }
    for (int i = 0; i < S_COUNT; i++) crc = crc16(crc, finals[i], 2);
    return crc16(crc, transitions, 4);
}

int main(void)
{
    uint16_t crc = 0, lc = 0, mc_ = 0, sc = 0;
    for (int it = 0; it < ITER; it++) {
        uint16_t seed = (uint16_t)(it * 13 + 7);
        lc = bench_list(lc, seed);
        mc_ = bench_matrix(mc_, seed);
        if (it % 8 == 0) make_text(seed);
        sc = bench_state(sc);
        crc = crc16(crc, (uint32_t)lc << 16 | mc_, 4);
        crc = crc16(crc, sc, 2);
    }
    printf("minimark %d iterations: list=%04x matrix=%04x state=%04x crc=%04x\n", ITER, lc, mc_, sc,
           crc);
    return 0;
}
