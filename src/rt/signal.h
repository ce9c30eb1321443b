/*
 * signal.h - signals and messages: what processes send each other.
 *
 * Every interaction between processes is a signal appended to the target's
 * inbox (env.h, lt_send) and handled by the target itself before it runs
 * code (process.c): a message, a kill, a link or monitor change, the death
 * of a linked or monitored process. One allocation per signal; a message
 * is a signal of kind LT_SIG_MESSAGE with a data buffer and the resources
 * it carries.
 */
#ifndef LUNATIC_RT_SIGNAL_H
#define LUNATIC_RT_SIGNAL_H

#include "rt/base.h"

typedef enum lt_sigkind {
    LT_SIG_MESSAGE,            /* a message (below) */
    LT_SIG_KILL,
    LT_SIG_DIE_WHEN_LINK_DIES, /* flag in `flag` */
    LT_SIG_LINK,               /* pid, tag */
    LT_SIG_UNLINK,             /* pid */
    LT_SIG_LINK_DIED,          /* pid, tag, reason */
    LT_SIG_MONITOR,            /* pid */
    LT_SIG_STOP_MONITORING,    /* pid */
    LT_SIG_PROCESS_DIED,       /* pid */
    LT_SIG_WAKE                /* no payload: re-run (timers, I/O); tag = wait number */
} lt_sigkind;

/* Why a process ended, as its links learn it. */
typedef enum lt_reason { LT_REASON_NORMAL, LT_REASON_FAILURE, LT_REASON_NOPROCESS } lt_reason;

/* Message kinds as the guest sees them (receive's return value). */
enum { LT_MSG_DATA = 0, LT_MSG_LINK_DIED = 1, LT_MSG_PROCESS_DIED = 2 };

/* A resource carried in a message: its kind (numbered by the layer that
 * pushes and takes it; 0 once taken), the object, and how to drop the
 * object if the message is freed with the resource still in it. */
typedef struct lt_msgres {
    uint32_t kind;
    void *ptr;
    void (*drop)(void *ptr);
} lt_msgres;

struct lt_signal {
    lt_signal *next;
    uint8_t kind;           /* lt_sigkind */
    uint8_t msgkind;        /* LT_SIG_MESSAGE: LT_MSG_* */
    uint8_t reason;         /* LT_SIG_LINK_DIED: lt_reason */
    uint8_t has_tag;
    uint8_t flag;           /* LT_SIG_DIE_WHEN_LINK_DIES */
    int64_t tag;
    uint64_t pid;           /* the other process */
    /* data messages */
    uint8_t *buf;
    uint64_t len, cap, read_ptr;
    uint32_t nres, rescap;
    lt_msgres *res;
};

/* The bytes a signal holds, as its holder's memory account counts them
 * (account.h). Only a message being built grows, and its writer charges
 * the growth first (lt_message_growth). */
static inline uint64_t lt_signal_bytes(const lt_signal *s)
{
    return sizeof *s + s->cap + (uint64_t)s->rescap * sizeof *s->res;
}
/* What lt_signal_bytes(m) grows by when len bytes are written (0 when
 * they fit, UINT64_MAX when no size could hold them). */
uint64_t lt_message_growth(const lt_signal *m, uint64_t len);
/* What it grows by when one more resource is added. */
uint64_t lt_message_res_growth(const lt_signal *m);

/* A zeroed signal of that kind; NULL when out of memory. */
lt_signal *lt_signal_new(lt_sigkind kind);
/* An empty data message with tag (0 = none) and room for capacity bytes
 * (a hint, bounded). NULL when out of memory. */
lt_signal *lt_message_new(int64_t tag, uint64_t capacity);
/* Appends len bytes. 0, or -1 when out of memory (nothing appended). */
int lt_message_write(lt_signal *m, const void *data, uint64_t len);
/* Adds a resource; its index in the message goes to *index. The message
 * owns the object from then on. 0, or -1 when out of memory (the caller
 * keeps the object). */
int lt_message_add_resource(lt_signal *m, uint32_t kind, void *ptr, void (*drop)(void *),
                            uint64_t *index);
/* Takes the resource at index if it is of that kind (the caller owns it
 * then); NULL if there is none such. */
void *lt_message_take_resource(lt_signal *m, uint64_t index, uint32_t kind);
/* Frees a signal with its buffer and the resources still in it. NULL is
 * ignored. */
void lt_signal_free(lt_signal *s);

#endif
