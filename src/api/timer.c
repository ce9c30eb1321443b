/*
 * timer.c - lunatic::timer (ABI.md 2.5): timer_send_after and timer_cancel_timer.
 * The message leaves the scratch area at once; the poller thread delivers
 * it at the deadline (dropped if the target is gone by then).
 *
 * A process keeps a handle on each of its timers so that it can cancel it;
 * handles of timers that fired are dropped in a sweep whenever the table
 * has doubled since the last one, so that each send_after costs O(1)
 * amortized however many timers are live (the original swept the whole
 * table at every send_after).
 */
#include "api/api.h"

/* Drops a handle: its timer's message is no longer charged to p. */
static void drop_handle(lt_process *p, lt_timer *t)
{
    lt_account_release(&p->acct, lt_timer_charged(t));
    lt_timer_release(t);
}

static bool drop_if_done(uint64_t id, void *val, void *ud)
{
    lt_timer *t = val;
    if (!lt_timer_done(t))
        return false;
    drop_handle(ud, t);
    return true;
}

static int timer_send_after(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    lt_signal *m = p->scratch;
    if (!m)
        return lapi_trap(x, "send_after: no message in the scratch area");
    /* The message stays charged to the sender while it holds the handle
     * (the poller cannot reach the sender's account when it fires): a
     * sweep drops the handles of fired timers, and runs early when the
     * account is short, so those charges never refuse anything. */
    uint64_t bytes = lt_signal_bytes(m);
    uint32_t live = lt_idtab_len(&p->timers);
    if ((live >= 64 && live >= 2 * p->timers_swept) ||
        (live && !lt_account_fits(&p->acct, 2 * (uint64_t)p->timers.cost))) {
        lt_idtab_filter(&p->timers, drop_if_done, p);
        p->timers_swept = lt_idtab_len(&p->timers);
    }
    p->scratch = NULL;
    m->read_ptr = 0;
    uint64_t ms = A64(1);
    int64_t delay = ms > (uint64_t)INT64_MAX / 2000000 ? INT64_MAX / 2 : (int64_t)ms * 1000000;
    lt_timer *t = lt_timer_send_after(p->rt, p->env, A64(0), m, lt_now_ns() + delay);
    if (!t) {
        lt_account_release(&p->acct, bytes);
        return lapi_oom(x, "send_after");
    }
    lt_timer_set_charged(t, bytes);
    uint64_t id;
    if (lt_idtab_add(&p->timers, t, &id) < 0) {
        lt_timer_cancel(p->rt, t);
        drop_handle(p, t);
        return lapi_oom(x, "send_after");
    }
    SET_RESULT64(id);
    return LW_OK;
}

static int timer_cancel_timer(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    /* 1 only if the timer was still pending: its message will not come.
     * (The original answered 1 for a timer that had fired but was not
     * swept yet; docs/ABI.md §2.5.) */
    lt_timer *t = lt_idtab_take(&p->timers, A64(0));
    int cancelled = 0;
    if (t) {
        cancelled = lt_timer_cancel(p->rt, t);
        drop_handle(p, t);
    }
    SET_RESULT32(cancelled);
    return LW_OK;
}

#define M "lunatic::timer"
const lw_host_func_def lapi_timer_defs[] = {
    {M, "send_after", "II:I", timer_send_after},
    {M, "cancel_timer", "I:i", timer_cancel_timer},
};
const size_t lapi_timer_count = sizeof lapi_timer_defs / sizeof *lapi_timer_defs;
