/*
 * mailbox.h - a process's mailbox: the messages it has received, in
 * arrival order, and selective receive over them.
 *
 * The mailbox belongs to its process (no locking): senders append to the
 * process's inbox (env.h), and the process moves messages from there into
 * its mailbox when it handles its signals (process.c). Only then does a
 * receive see them.
 *
 * Selective receive takes the first message whose tag is in a set (any
 * message for an empty set). A receive that blocks remembers the last
 * message it examined (scan_after) and, when woken, continues after it:
 * messages already skipped are never scanned again during that receive,
 * and nothing is ever reordered — a message stays where it is until a
 * receive takes it, also when a receive times out.
 *
 * Every message that leaves a mailbox (taken or freed) is counted in the
 * runtime's metrics (LT_STAT_MAILBOX_OUT); what enters is counted where it
 * is delivered (process.c), by kind.
 */
#ifndef LUNATIC_RT_MAILBOX_H
#define LUNATIC_RT_MAILBOX_H

#include "rt/signal.h"

typedef struct lt_mailbox {
    lt_signal *head, *tail;
    lt_signal *scan_after;  /* the last message the current receive examined */
    uint32_t len;           /* messages */
    uint64_t bytes;         /* their data bytes */
} lt_mailbox;

/* Appends a message (a signal of kind LT_SIG_MESSAGE); the mailbox owns it. */
void lt_mailbox_push(lt_mailbox *mb, lt_signal *m);
/* Removes and returns the first message, or NULL (native processes). */
lt_signal *lt_mailbox_pop(lt_mailbox *mb);
/* Starts a new receive: the next take_match scans from the head. */
void lt_mailbox_scan_from_head(lt_mailbox *mb);
/* Starts a receive that ignores every message already in the mailbox
 * (send_receive_skip_search). */
void lt_mailbox_scan_from_tail(lt_mailbox *mb);
/* Continues the current receive: removes and returns the first message
 * after the last one examined whose tag is one of tags (ntags
 * little-endian i64 values, possibly unaligned; ntags 0 = any message),
 * or returns NULL and remembers how far it looked. A process-died message
 * has no tag. It examines at most *budget messages and subtracts what it
 * examined: NULL with *budget 0 means "not looked at everything yet". */
lt_signal *lt_mailbox_take_match(lt_mailbox *mb, const void *tags, uint32_t ntags,
                                 uint32_t *budget);
/* Frees every message. */
void lt_mailbox_free(lt_mailbox *mb);

#endif
