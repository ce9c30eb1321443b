/*
 * signal.c - signals and messages. A message is a signal of kind
 * LT_SIG_MESSAGE: one allocation for the header, one for the data buffer,
 * and an array of the resources it carries.
 */
#include <stdlib.h>
#include <string.h>

#include "rt/rt.h"

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

int lt_message_write(lt_signal *m, const void *data, uint64_t len)
{
    if (m->len + len > m->cap) {
        uint64_t cap = m->cap ? m->cap : 64;
        while (cap < m->len + len)
            cap *= 2;
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

void lt_signal_free(lt_signal *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nres; i++) {
        if (s->res[i].type == LT_RES_MODULE)
            lt_module_release(s->res[i].ptr);
        /* networking resources arrive with the networking issue */
    }
    free(s->res);
    free(s->buf);
    free(s);
}
