/*
 * message.c - lunatic::message (ABI.md 2.2): the scratch message, sending,
 * and receiving from the mailbox.
 *
 * Receive scans the mailbox in arrival order for the first message whose
 * tag is in the requested set (any message for an empty set). A message_receive
 * that blocks remembers the last message it examined (p->scan_after) and,
 * when woken, continues after it: messages already skipped are never
 * scanned again during that message_receive, and nothing is ever reordered — a
 * message stays where it is until a message_receive takes it.
 */
#include <stdlib.h>

#include "api/api.h"

#define SELF lt_process *p = lt_self(x)

/* Copying message data is work like any other: a write or read is charged
 * one reduction per 16 bytes (a 64 KiB write, ~10 us with its page faults
 * here, costs 4,096 of a 20,000-reduction slice), so a process sending
 * large messages in a loop yields as often as one computing (measured: a
 * loop of 64 KiB sends to itself held its worker for 357 ms, one slice,
 * when each write cost one reduction). */
#define BYTES_PER_REDUCTION 16

static lt_signal *scratch_data(lw_exec *x)
{
    lt_signal *m = lt_self(x)->scratch;
    if (!m) {
        lapi_trap(x, "no message in the scratch area");
        return NULL;
    }
    if (m->msgkind != LT_MSG_DATA) {
        lapi_trap(x, "the scratch message is not a data message");
        return NULL;
    }
    return m;
}

static int message_create_data(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_signal *m = lt_message_new((int64_t)A64(0), A64(1));
    if (!m)
        return lapi_oom(x, NULL);
    lapi_scratch_set(p, NULL);
    if (lt_account_charge(&p->acct, lt_signal_bytes(m)) < 0) {
        lt_signal_free(m);
        return lapi_oom(x, "create_data");
    }
    p->scratch = m;
    return LW_OK;
}

static int message_write_data(lw_exec *x, void *env, lw_val *args)
{
    lt_signal *m = scratch_data(x);
    if (!m)
        return LW_TRAP;
    const void *src = lapi_mem(x, A32(0), A32(1));
    if (!src)
        return lapi_trap(x, "write_data: buffer out of bounds");
    /* the growth is charged first: a message written 64 KiB at a time
     * could otherwise take any amount of memory (FINDINGS 2) */
    lt_process *p = lt_self(x);
    uint32_t len = A32(1);
    uint64_t growth = m->len + len <= m->cap ? 0 : lt_message_growth(m, len);
    if (growth && lt_account_charge(&p->acct, growth) < 0)
        return lapi_oom(x, "write_data");
    if (lt_message_write(m, src, len) < 0) {
        lt_account_release(&p->acct, growth);
        return lapi_oom(x, "write_data");
    }
    SET_RESULT32(len);
    return len < BYTES_PER_REDUCTION ? LW_OK : lt_charge(p, len / BYTES_PER_REDUCTION);
}

static int message_read_data(lw_exec *x, void *env, lw_val *args)
{
    lt_signal *m = scratch_data(x);
    if (!m)
        return LW_TRAP;
    if (m->read_ptr > m->len)
        return lapi_trap(x, "read_data: read position beyond the message");
    uint64_t n = m->len - m->read_ptr;
    if (n > A32(1))
        n = A32(1);
    void *dst = lapi_mem(x, A32(0), n);
    if (!dst)
        return lapi_trap(x, "read_data: buffer out of bounds");
    if (n)
        memcpy(dst, m->buf + m->read_ptr, n);
    m->read_ptr += n;
    SET_RESULT32(n);
    return n < BYTES_PER_REDUCTION ? LW_OK : lt_charge(lt_self(x), (uint32_t)n / BYTES_PER_REDUCTION);
}

static int message_seek_data(lw_exec *x, void *env, lw_val *args)
{
    lt_signal *m = scratch_data(x);
    if (!m)
        return LW_TRAP;
    m->read_ptr = A64(0);
    return LW_OK;
}

static int message_get_tag(lw_exec *x, void *env, lw_val *args)
{
    lt_signal *m = lt_self(x)->scratch;
    if (!m)
        return lapi_trap(x, "no message in the scratch area");
    SET_RESULT64(m->has_tag && m->msgkind != LT_MSG_PROCESS_DIED ? m->tag : 0);
    return LW_OK;
}

static int message_get_process_id(lw_exec *x, void *env, lw_val *args)
{
    lt_signal *m = lt_self(x)->scratch;
    if (!m)
        return lapi_trap(x, "no message in the scratch area");
    SET_RESULT64(m->msgkind == LT_MSG_PROCESS_DIED ? m->pid : 0);
    return LW_OK;
}

static int message_data_size(lw_exec *x, void *env, lw_val *args)
{
    lt_signal *m = scratch_data(x);
    if (!m)
        return LW_TRAP;
    SET_RESULT64(m->len);
    return LW_OK;
}

static int message_push_module(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_signal *m = scratch_data(x);
    if (!m)
        return LW_TRAP;
    lt_module *mod = lt_idtab_get(&p->modules, A64(0));
    if (!mod)
        return lapi_trap(x, "push_module: unknown module id");
    uint64_t index, growth = lt_message_res_growth(m);
    if (lt_account_charge(&p->acct, growth) < 0)
        return lapi_oom(x, "push_module");
    if (lt_message_add_resource(m, LAPI_RES_MODULE, mod, (void (*)(void *))lt_module_release,
                                &index) < 0) {
        lt_account_release(&p->acct, growth);
        return lapi_oom(x, "push_module");
    }
    lt_module_retain(mod); /* the module stays in the sender's table too */
    SET_RESULT64(index);
    return LW_OK;
}

static int message_take_module(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_signal *m = scratch_data(x);
    if (!m)
        return LW_TRAP;
    lt_module *mod = lt_message_take_resource(m, A64(0), LAPI_RES_MODULE);
    if (!mod)
        return lapi_trap(x, "take_module: no module at this index");
    uint64_t id;
    if (lapi_module_add(p, mod, &id) < 0) {
        lt_module_release(mod);
        return lapi_oom(x, "take_module");
    }
    SET_RESULT64(id);
    return LW_OK;
}

static int message_send(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_signal *m = p->scratch;
    if (!m)
        return lapi_trap(x, "send: no message in the scratch area");
    p->scratch = NULL;
    lt_account_release(&p->acct, lt_signal_bytes(m)); /* the receiver's now */
    m->read_ptr = 0;
    lt_send(p->env, A64(0), m); /* a missing process drops the message */
    SET_RESULT32(0);
    return LW_OK;
}

/* m leaves the mailbox for the scratch area (account.h: delivered, then own) */
static void to_scratch(lt_process *p, lt_signal *m)
{
    m->read_ptr = 0;
    lt_account_adopt(&p->acct, lt_signal_bytes(m));
    lapi_scratch_set(p, m);
}

/* Messages a receive examines in one go. Scanning is work like any other:
 * each message examined is charged a reduction, and a receive that has
 * not looked at everything after this many gives the others their turn
 * and goes on where it stopped (a process with 100,000 unmatched messages
 * would otherwise hold its worker for the whole scan). */
#define SCAN_BUDGET 2000

/* The waiting part of message_receive and message_send_receive_skip_search (the wait has
 * begun): moves the next message matching tags to the scratch area and
 * returns its kind (or 0 with ret_kind false) in args[0]; else LAPI_TIMEOUT
 * once timeout_ms (0: at once) has passed, or LW_SUSPEND to wait on. */
static int take_match(lt_process *p, const uint8_t *tags, uint32_t n, uint64_t timeout_ms,
                      lw_val *args, bool ret_kind)
{
    uint32_t budget = SCAN_BUDGET;
    lt_signal *m = lt_mailbox_take_match(&p->mailbox, tags, n, &budget);
    int slice = lt_charge(p, SCAN_BUDGET - budget);
    if (m) {
        lapi_wait_end(p);
        to_scratch(p, m);
        SET_RESULT32(ret_kind ? m->msgkind : 0);
        return slice;
    }
    if (budget == 0)
        return lt_again(p);
    if (timeout_ms == 0 || lapi_wait_expired(p)) {
        lapi_wait_end(p);
        SET_RESULT32(LAPI_TIMEOUT);
        return LW_OK;
    }
    return LW_SUSPEND;
}

static int message_receive(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    uint32_t n = A32(1);
    if (n > UINT32_MAX / 8)
        return lapi_trap(x, "receive: too many tags");
    const uint8_t *tags = lapi_mem(x, A32(0), (uint64_t)n * 8);
    if (!tags)
        return lapi_trap(x, "receive: tags out of bounds");
    if (lapi_wait_begin(p, A64(2))) {
        lt_mailbox_scan_from_head(&p->mailbox);
        /* for observers: the tags stay where they are while it waits */
        p->wait_kind = LT_WAIT_RECEIVE;
        p->wait_tags_ptr = A32(0);
        p->wait_ntags = n;
    }
    return take_match(p, tags, n, A64(2), args, true);
}

static int message_send_receive_skip_search(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    if (lapi_wait_begin(p, A64(2))) {
        /* first entry: send, and skip everything already in the mailbox */
        lt_signal *m = p->scratch;
        if (!m) {
            lapi_wait_end(p);
            return lapi_trap(x, "send_receive_skip_search: no message in the scratch area");
        }
        p->scratch = NULL;
        lt_account_release(&p->acct, lt_signal_bytes(m)); /* the receiver's now */
        m->read_ptr = 0;
        lt_mailbox_scan_from_tail(&p->mailbox);
        lt_send(p->env, A64(0), m);
        p->wait_kind = LT_WAIT_RECEIVE;
        p->wait_tags_ptr = LT_TAGS_INLINE;
        p->wait_ntags = 1;
        p->wait_tag = (int64_t)A64(1);
    }
    uint8_t tag[8];
    memcpy(tag, &args[1], 8);
    return take_match(p, tag, 1, A64(2), args, false);
}

#define M "lunatic::message"
const lw_host_func_def lapi_message_defs[] = {
    {M, "create_data", "II:", message_create_data},
    {M, "write_data", "ii:i", message_write_data},
    {M, "read_data", "ii:i", message_read_data},
    {M, "seek_data", "I:", message_seek_data},
    {M, "get_tag", ":I", message_get_tag},
    {M, "get_process_id", ":I", message_get_process_id},
    {M, "data_size", ":I", message_data_size},
    {M, "push_module", "I:I", message_push_module},
    {M, "take_module", "I:I", message_take_module},
    {M, "push_tcp_stream", "I:I", message_push_tcp_stream},
    {M, "take_tcp_stream", "I:I", message_take_tcp_stream},
    {M, "push_tls_stream", "I:I", message_push_tls_stream},
    {M, "take_tls_stream", "I:I", message_take_tls_stream},
    {M, "push_udp_socket", "I:I", message_push_udp_socket},
    {M, "take_udp_socket", "I:I", message_take_udp_socket},
    {M, "send", "I:i", message_send},
    {M, "send_receive_skip_search", "III:i", message_send_receive_skip_search},
    {M, "receive", "iiI:i", message_receive},
};
const size_t lapi_message_count = sizeof lapi_message_defs / sizeof *lapi_message_defs;
