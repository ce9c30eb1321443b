/*
 * signal.c - signals and messages (signal.h).
 */
#include <stdlib.h>
#include <string.h>

#include "rt/signal.h"

lt_signal *lt_signal_new(lt_sigkind kind)
{
    lt_signal *s = calloc(1, sizeof *s);
    if (s)
        s->kind = (uint8_t)kind;
    return s;
}

lt_signal *lt_message_new(int64_t tag, uint64_t capacity)
{
    lt_signal *m = lt_signal_new(LT_SIG_MESSAGE);
    if (!m)
        return NULL;
    m->msgkind = LT_MSG_DATA;
    m->has_tag = tag != 0;
    m->tag = tag;
    /* capacity is a hint from the guest: bound what we allocate up front */
    if (capacity > (1u << 20))
        capacity = 1u << 20;
    if (capacity) {
        m->buf = malloc(capacity);
        if (m->buf)
            m->cap = capacity;
    }
    return m;
}

/* The capacity a buffer of m grows to for len more bytes (0: no such). */
static uint64_t grown_cap(const lt_signal *m, uint64_t len)
{
    if (len > UINT64_MAX / 4 - m->len)
        return 0;
    uint64_t cap = m->cap ? m->cap : 64;
    while (cap < m->len + len)
        cap *= 2;
    return cap;
}

uint64_t lt_message_growth(const lt_signal *m, uint64_t len)
{
    if (m->len + len <= m->cap && len <= UINT64_MAX / 4)
        return 0;
    uint64_t cap = grown_cap(m, len);
    return cap ? cap - m->cap : UINT64_MAX;
}

uint64_t lt_message_res_growth(const lt_signal *m)
{
    if (m->nres < m->rescap)
        return 0;
    return (uint64_t)(m->rescap ? m->rescap : 4) * sizeof *m->res;
}

int lt_message_write(lt_signal *m, const void *data, uint64_t len)
{
    if (m->len + len > m->cap || len > UINT64_MAX / 4) {
        uint64_t cap = grown_cap(m, len);
        if (!cap)
            return -1;
        uint8_t *b = realloc(m->buf, cap);
        if (!b)
            return -1;
        m->buf = b;
        m->cap = cap;
    }
    if (len)
        memcpy(m->buf + m->len, data, len);
    m->len += len;
    return 0;
}

int lt_message_add_resource(lt_signal *m, uint32_t kind, void *ptr, void (*drop)(void *),
                            uint64_t *index)
{
    if (m->nres == m->rescap) {
        uint32_t cap = m->rescap ? m->rescap * 2 : 4;
        lt_msgres *r = realloc(m->res, cap * sizeof *r);
        if (!r)
            return -1;
        m->res = r;
        m->rescap = cap;
    }
    *index = m->nres;
    m->res[m->nres++] = (lt_msgres){kind, ptr, drop};
    return 0;
}

void *lt_message_take_resource(lt_signal *m, uint64_t index, uint32_t kind)
{
    if (index >= m->nres || !m->res[index].kind || m->res[index].kind != kind)
        return NULL;
    void *ptr = m->res[index].ptr;
    m->res[index] = (lt_msgres){0, NULL, NULL};
    return ptr;
}

void lt_signal_free(lt_signal *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nres; i++)
        if (s->res[i].kind && s->res[i].drop)
            s->res[i].drop(s->res[i].ptr);
    free(s->res);
    free(s->buf);
    free(s);
}
