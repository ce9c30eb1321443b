/*
 * timer.c - lunatic::timer (ABI.md 2.5): timer_send_after and timer_cancel_timer.
 * The message leaves the scratch area at once; the poller thread delivers
 * it at the deadline (dropped if the target is gone by then).
 */
#include "api/api.h"

static bool drop_if_done(uint64_t id, void *val, void *ud)
{
    lt_timer *t = val;
    if (!lt_timer_done(t))
        return false;
    lt_timer_release(t);
    return true;
}

static int timer_send_after(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    lt_signal *m = p->scratch;
    if (!m)
        return lapi_trap(x, "send_after: no message in the scratch area");
    p->scratch = NULL;
    m->read_ptr = 0;
    /* expired timers are forgotten here, as in the original */
    lt_idtab_filter(&p->timers, drop_if_done, NULL);
    uint64_t ms = A64(1);
    int64_t delay = ms > (uint64_t)INT64_MAX / 2000000 ? INT64_MAX / 2 : (int64_t)ms * 1000000;
    lt_timer *t = lt_timer_send_after(p->rt, p->env, A64(0), m, lt_now_ns() + delay);
    if (!t)
        return lapi_trap(x, "out of memory");
    uint64_t id;
    if (lt_idtab_add(&p->timers, t, &id) < 0) {
        lt_timer_cancel(p->rt, t);
        lt_timer_release(t);
        return lapi_trap(x, "out of memory");
    }
    SET_RESULT64(id);
    return LW_OK;
}

static int timer_cancel_timer(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    /* as the original: 1 whenever the id was still tracked (a timer that
     * already fired stays tracked until the next timer_send_after) */
    lt_timer *t = lt_idtab_take(&p->timers, A64(0));
    if (t) {
        lt_timer_cancel(p->rt, t);
        lt_timer_release(t);
    }
    SET_RESULT32(t ? 1 : 0);
    return LW_OK;
}

#define M "lunatic::timer"
const lw_host_func_def lapi_timer_defs[] = {
    {M, "send_after", "II:I", timer_send_after},
    {M, "cancel_timer", "I:i", timer_cancel_timer},
};
const size_t lapi_timer_count = sizeof lapi_timer_defs / sizeof *lapi_timer_defs;
