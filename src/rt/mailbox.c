/*
 * mailbox.c - the mailbox and selective receive (mailbox.h).
 */
#include <string.h>

#include "rt/mailbox.h"
#include "rt/stats.h"

void lt_mailbox_push(lt_mailbox *mb, lt_signal *m)
{
    m->next = NULL;
    if (mb->tail)
        mb->tail->next = m;
    else
        mb->head = m;
    mb->tail = m;
    mb->len++;
    mb->bytes += m->len;
}

/* Unlinks m; prev is the message before it or NULL. */
static void unlink_after(lt_mailbox *mb, lt_signal *prev, lt_signal *m)
{
    if (prev)
        prev->next = m->next;
    else
        mb->head = m->next;
    if (mb->tail == m)
        mb->tail = prev;
    if (mb->scan_after == m)
        mb->scan_after = prev;
    m->next = NULL;
    mb->len--;
    mb->bytes -= m->len;
    lt_stat_add(LT_STAT_MAILBOX_OUT, 1);
}

lt_signal *lt_mailbox_pop(lt_mailbox *mb)
{
    lt_signal *m = mb->head;
    if (m)
        unlink_after(mb, NULL, m);
    return m;
}

void lt_mailbox_scan_from_head(lt_mailbox *mb) { mb->scan_after = NULL; }
void lt_mailbox_scan_from_tail(lt_mailbox *mb) { mb->scan_after = mb->tail; }

static bool matches(const lt_signal *m, const uint8_t *tags, uint32_t n)
{
    if (n == 0)
        return true;
    if (!m->has_tag || m->msgkind == LT_MSG_PROCESS_DIED)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        int64_t t;
        memcpy(&t, tags + 8 * (size_t)i, 8);
        if (t == m->tag)
            return true;
    }
    return false;
}

lt_signal *lt_mailbox_take_match(lt_mailbox *mb, const void *tags, uint32_t ntags,
                                 uint32_t *budget)
{
    lt_signal *prev = mb->scan_after;
    lt_signal *m = prev ? prev->next : mb->head;
    while (m && *budget) {
        --*budget;
        if (matches(m, tags, ntags)) {
            unlink_after(mb, prev, m);
            return m;
        }
        prev = m;
        m = m->next;
    }
    mb->scan_after = prev;
    if (!m)
        *budget = *budget ? *budget : 1; /* looked at everything */
    return NULL;
}

void lt_mailbox_free(lt_mailbox *mb)
{
    if (mb->len)
        lt_stat_add(LT_STAT_MAILBOX_OUT, mb->len);
    for (lt_signal *s = mb->head; s;) {
        lt_signal *n = s->next;
        lt_signal_free(s);
        s = n;
    }
    memset(mb, 0, sizeof *mb);
}
