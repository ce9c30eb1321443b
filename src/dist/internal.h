/*
 * internal.h - what the files of the distribution layer (src/dist) share:
 * the node, its peers and their connections, frames and their queues,
 * and the protocol constants of the Erlang distribution protocol
 * (erl_dist_protocol in the OTP documentation).
 *
 * Threads and locks.
 *  - The node's thread (node.c) owns every socket, every ld_conn, the
 *    handshakes, the read buffers and the writer state, under n->io_lock,
 *    which it holds except while it waits in epoll_wait. An idle worker
 *    that gets io_lock (trylock: never waits for it) handles the ready
 *    events in its place (ld_idle_poll). "Node thread" below means the
 *    holder of io_lock; only the node thread itself frees connections.
 *  - Workers (and the poller, for timers) reach a peer through
 *    n->by_id[node id], an atomic pointer, and append frames to its queue
 *    under peer->qlock. A peer is never freed before the node is, so the
 *    pointer stays valid; its state and id are checked under qlock.
 *  - n->lock guards the peer list and each peer's fields that are not the
 *    queue (name, tags, addresses). n->rel_lock guards the relation index
 *    (links and monitors across nodes, route.c); n->wait_lock the waits
 *    of processes (remote spawns, request/replies); n->mod_lock the module
 *    table. None of them is held while calling lt_send.
 *  Lock order: n->lock, then a peer's qlock; the others are leaves.
 */
#ifndef LUNATIC_DIST_INTERNAL_H
#define LUNATIC_DIST_INTERNAL_H

#include <pthread.h>
#include <sys/uio.h>

#include <ei.h>
#include <openssl/ssl.h>

#include "dist/dist.h"
#include "rt/config.h"
#include "rt/env.h"
#include "rt/module.h"
#include "rt/process.h"
#include "rt/registry.h"
#include "rt/remote.h"
#include "rt/runtime.h"
#include "rt/signal.h"

/* ---- protocol constants -------------------------------------------------- */

/* Distribution flags (the handshake's 64-bit flags field; values from
 * erl_dist_protocol). */
#define DF_PUBLISHED             0x1ull
#define DF_EXTENDED_REFERENCES   0x4ull
#define DF_DIST_MONITOR          0x8ull
#define DF_FUN_TAGS              0x10ull
#define DF_NEW_FUN_TAGS          0x80ull
#define DF_EXTENDED_PIDS_PORTS   0x100ull
#define DF_EXPORT_PTR_TAG        0x200ull
#define DF_BIT_BINARIES          0x400ull
#define DF_NEW_FLOATS            0x800ull
#define DF_SMALL_ATOM_TAGS       0x4000ull
#define DF_DIST_MONITOR_NAME     0x20ull
#define DF_UTF8_ATOMS            0x10000ull
#define DF_MAP_TAG               0x20000ull
#define DF_BIG_CREATION          0x40000ull
#define DF_HANDSHAKE_23          0x1000000ull
#define DF_UNLINK_ID             0x2000000ull
#define DF_MANDATORY_25_DIGEST   (1ull << 36)
#define DF_V4_NC                 (1ull << 34)

/* Control message operations. */
enum {
    OP_LINK = 1, OP_SEND = 2, OP_EXIT = 3, OP_UNLINK = 4, OP_REG_SEND = 6,
    OP_EXIT2 = 8, OP_SEND_TT = 12, OP_EXIT_TT = 13, OP_REG_SEND_TT = 16, OP_EXIT2_TT = 18,
    OP_MONITOR_P = 19, OP_DEMONITOR_P = 20, OP_MONITOR_P_EXIT = 21, OP_SEND_SENDER = 22,
    OP_SEND_SENDER_TT = 23, OP_UNLINK_ID = 35, OP_UNLINK_ID_ACK = 36,
};

/* External term format tags used by the hand-written encoders. */
enum {
    ETF_VERSION = 131, ETF_SMALL_INT = 97, ETF_INT = 98, ETF_SMALL_BIG = 110,
    ETF_SMALL_TUPLE = 104, ETF_SMALL_ATOM_UTF8 = 119, ETF_NEW_PID = 88, ETF_BINARY = 109,
};

/* A data message whose bytes start with this marker is an Erlang term in
 * the external term format (from or to a non-lunatic sender; ABI.md §3.5):
 * "ERL" NUL, then the term starting with its version byte 131. */
#define LD_ETF_MARKER "ERL"
#define LD_ETF_MARKER_LEN 4

/* Packets of the lunatic nodes' own framing beside Erlang's 'p'
 * pass-through: a fragment of a large packet (queue.c). */
#define PKT_PASS 'p'
#define PKT_FRAG 'L'

/* Limits that keep a misbehaving peer from exhausting memory. */
#define LD_MAX_PACKET (1u << 30)        /* one packet, or a reassembled message */
#define LD_MAX_FRAG_BYTES (2ull << 30)  /* pending reassemblies per connection */
#define LD_MAX_FRAGS 4096               /* messages being reassembled per connection */
#define LD_FRAG_SIZE (64u << 10)        /* a fragment of a large message */
#define LD_BUSY_BYTES (16u << 20)       /* queued for a peer: distributed::send waits */
#define LD_HS_TIMEOUT_NS (7ll * 1000000000) /* Erlang's net_setuptime */

#define LD_MAXNAME 256

/* ---- a map from two u64 keys to a pointer (util.c) ------------------------- */

typedef struct ld_mapent {
    uint64_t a, b;
    void *val;
    struct ld_mapent *next;
} ld_mapent;

typedef struct ld_map {
    ld_mapent **b;
    size_t nb, n;
} ld_map;

void *ld_map_get(const ld_map *m, uint64_t a, uint64_t b);
/* Inserts or replaces. 0, or -1 when out of memory. */
int ld_map_put(ld_map *m, uint64_t a, uint64_t b, void *val);
/* Removes and returns the value, or NULL. */
void *ld_map_take(ld_map *m, uint64_t a, uint64_t b);
/* Calls fn for each entry; an entry for which it returns true is removed. */
void ld_map_filter(ld_map *m, bool (*fn)(uint64_t a, uint64_t b, void *val, void *ud), void *ud);
void ld_map_free(ld_map *m, void (*drop)(void *));

/* ---- frames and queues (queue.c) --------------------------------------------- */

/* One packet to write: 4-byte length, then the body. */
typedef struct ld_frame {
    struct ld_frame *next;
    uint8_t *data;          /* the packet; inline after the struct, or adopted */
    size_t len;
    size_t off;             /* bytes of the body already sent as fragments */
    uint64_t fragid;        /* its fragments' id, once it is being fragmented */
} ld_frame;

/* A frame with room for a body of len bytes (the length header is filled
 * in); NULL when out of memory. */
ld_frame *ld_frame_new(size_t bodylen);
/* A frame adopting an ei_x_buff whose first 4 bytes were reserved for the
 * length (the buffer passes to the frame; x is reset). NULL when out of
 * memory (x is freed then). */
ld_frame *ld_frame_from_x(ei_x_buff *x);
void ld_frame_free(ld_frame *f);

/* The frames for one destination (a pid or a name), in order. */
typedef struct ld_stream {
    uint64_t key;
    ld_frame *head, *tail;
    struct ld_stream *hnext;    /* hash chain */
    struct ld_stream *rnext;    /* the ring of streams with frames */
} ld_stream;

/* ---- peers and connections ------------------------------------------------- */

enum { PEER_DOWN, PEER_CONNECTING, PEER_UP };

typedef struct ld_frag {
    uint64_t id;
    uint8_t *buf;
    size_t len, cap;
    struct ld_frag *next;
} ld_frag;

struct ld_conn;

/* Another node, known by name; kept (and reused when it reconnects) until
 * the node is freed. */
typedef struct ld_peer {
    struct ld_peer *next;           /* n->peers, under n->lock */
    char name[LD_MAXNAME];          /* alive@host */
    char host[LD_MAXNAME];          /* to connect to, and TLS's host name check */
    unsigned port;                  /* static port, 0 = ask EPMD */
    atomic_bool wanted;             /* keep reconnecting (a --peer, or a lunatic node we met) */
    int64_t retry_at;               /* when to try again (node thread) */
    int fails;                      /* attempts that failed in a row (under n->lock) */
    bool auth_failed;               /* the last one was refused: cookie or certificate */
    char err[200];                  /* why the last one failed */

    /* while up (set by the node thread under qlock; read by workers under it) */
    int state;
    uint16_t id;
    uint32_t creation;
    uint64_t flags;
    bool lunatic;                   /* sent us a hello: fragments, env-carrying pids */
    char **tags;                    /* KEY=VALUE (under n->lock) */
    size_t ntags;
    struct ld_conn *conn;           /* node thread only */

    /* the send queue (any thread, under qlock) */
    pthread_mutex_t qlock;
    ld_stream **sb;                 /* hash of streams by key */
    size_t nsb, nstreams;
    ld_stream *ring, *ring_tail;
    size_t qbytes;
    atomic_bool kicked;             /* a wake of the node thread is pending */
    atomic_bool has_out;
    struct ld_conn *direct;         /* while up on plain TCP: workers may write (under qlock) */
    int64_t last_direct;            /* when a worker last wrote directly (under qlock) */
} ld_peer;

/* What encoding for a peer needs, copied under its qlock (a worker may
 * encode while the node thread changes the peer). */
typedef struct ld_peerinfo {
    ld_peer *peer;
    const char *name;               /* stable: a peer keeps its name */
    uint16_t id;
    uint32_t creation;
    uint64_t flags;
    bool lunatic;
} ld_peerinfo;

/* The peer that has node id `id` while it is up, described in *info; -1
 * when no such node is connected. Any thread. */
int ld_peer_info(ld_node *n, uint16_t id, ld_peerinfo *info);
/* The same for a peer the node thread holds (it changes only there). */
void ld_peer_info_local(ld_peer *p, ld_peerinfo *info);

enum {
    HS_CONNECT,         /* TCP connect in progress */
    HS_TLS,             /* TLS handshake in progress */
    HS_SEND_NAME,       /* initiator: about to send our name */
    HS_RECV_STATUS,
    HS_RECV_CHALLENGE,
    HS_RECV_ACK,
    HS_RECV_NAME,       /* acceptor */
    HS_RECV_ALIVE,      /* acceptor: waiting for "true"/"false" after "alive" */
    HS_RECV_REPLY,
    HS_UP,
    HS_CLOSED,
};

/* A connection, from accept or connect to close. Node thread only. */
typedef struct ld_conn {
    struct ld_conn *next;           /* n->conns */
    ld_peer *peer;                  /* NULL until an incoming one names itself */
    int fd;
    SSL *ssl;
    bool initiator;
    int hs;                         /* HS_* */
    int64_t deadline;               /* of the handshake */
    uint32_t my_challenge;
    uint32_t peer_creation;
    uint64_t peer_flags;
    char peer_name[LD_MAXNAME];
    bool failed_auth;               /* refused for a bad cookie or certificate */
    char why[200];                  /* why it closed */

    uint8_t *rbuf;
    size_t rlen, rcap;
    uint8_t *hsout;                 /* handshake bytes still to write */
    size_t hsout_len, hsout_off;
    bool want_out;                  /* EPOLLOUT is armed */

    int64_t last_recv;
    atomic_int_fast64_t last_send;  /* workers write too (direct writes) */
    ld_frag *frags;
    size_t frag_bytes;

    /* The batch being written, under wlock: the node thread writes, and so
     * does a worker that queues a frame on an idle plain-TCP connection
     * (it saves a wake of the node thread per message: queue.c). */
    pthread_mutex_t wlock;
    struct iovec iov[256];
    int niov, iov_at;
    ld_frame *inflight[256];
    int ninflight;
    uint8_t fraghdr[256][14];
    uint8_t *stage;                 /* TLS: the batch in one buffer */
    size_t stage_len, stage_off, stage_cap;
} ld_conn;

/* ---- relations across nodes (route.c) ----------------------------------------- */

enum { REL_LINK, REL_MON_OUT, REL_MON_IN };

typedef struct ld_rel {
    uint8_t kind;
    uint8_t reflen;             /* monitors: the reference's words */
    int64_t tag;                /* REL_LINK: the link's tag on our side */
    uint64_t remote;            /* the remote process (its node id in the top bits) */
    uint32_t ref[5];            /* monitors: the reference (of the watcher's node) */
    uint32_t refcreation;
    char *name;                 /* REL_MON_IN by name: the name monitored (owned) */
} ld_rel;

typedef struct ld_rels {
    uint32_t n, cap;
    ld_rel *r;
} ld_rels;

/* ---- waits of processes (spawn.c) ----------------------------------------------- */

enum { WAIT_SPAWN, WAIT_REPLY };

typedef struct ld_wait {
    int kind;
    uint64_t ref;               /* spawn: our request number */
    uint16_t node;
    uint64_t seq;               /* the process's wait number, to wake it */
    int result;                 /* LD_PENDING or an answer */
    uint64_t pid;
    char err[200];
} ld_wait;

/* ---- the node ---------------------------------------------------------------------- */

struct ld_node {
    lt_runtime *rt;
    char name[LD_MAXNAME], alive[LD_MAXNAME], host[LD_MAXNAME];
    uint32_t creation;
    uint16_t id;
    char cookie[256];
    int64_t tick_ns;
    char **tags;
    size_t ntags;
    unsigned port;
    bool no_epmd;

    SSL_CTX *tls_server, *tls_client;

    int lfd;                    /* listening socket */
    int epmd_fd;                /* our EPMD registration lives as long as it is open */
    int epfd, evfd;
    pthread_t thread;
    atomic_bool stopping;
    bool thread_started;
    pthread_mutex_t io_lock;    /* the node thread's state (see the top) */
    atomic_int pollers;         /* idle workers polling the sockets */

    pthread_mutex_t lock;
    pthread_cond_t cond;        /* a peer's state changed (ld_start waits on it) */
    ld_peer *peers;
    _Atomic(ld_peer *) by_id[65536];
    ld_conn *conns;             /* node thread only */

    /* connections the connector thread opened, for the node thread */
    pthread_t connector;
    bool connector_started;
    pthread_mutex_t clock;
    pthread_cond_t ccond;
    struct ld_creq *creq;       /* requests */
    struct ld_creq *cdone;      /* results */

    pthread_mutex_t rel_lock;
    ld_map rels;                /* (env, local pid) -> ld_rels */
    atomic_uint_fast64_t next_ref;

    pthread_mutex_t wait_lock;
    ld_map waits;               /* (env, pid) -> ld_wait */

    pthread_mutex_t mod_lock;
    ld_map modules;             /* (hash, 0) -> lt_module (a reference each) */
    ld_map registries;          /* (env, 0) -> lt_registry (a reference each) */
    ld_map configs;             /* (hash of a config term, its length) -> lt_config */
    struct ld_spawnq *spawnq;   /* remote spawns waiting for a module */

    uint64_t service;           /* the spawn service's pid (env LD_SERVICE_ENV) */
    lt_env *service_env;
};

/* The environment of the node's own native processes. */
#define LD_SERVICE_ENV UINT64_MAX

/* ---- node.c ------------------------------------------------------------------- */

/* Wakes the node thread (it then writes the queues of kicked peers). */
void ld_kick(ld_node *n);
/* The peer named name, made if new; NULL when out of memory. Under
 * n->lock. */
ld_peer *ld_peer_get_locked(ld_node *n, const char *name);
/* The node id of a node named name in its life numbered creation. */
uint16_t ld_node_id_of(const char *name, uint32_t creation);
/* Asks the connector to connect to peer (node thread, or under n->lock). */
void ld_connect_peer(ld_node *n, ld_peer *p);
/* A connection finished its handshake (node thread). */
void ld_conn_up(ld_node *n, ld_conn *c);
/* Closes c; if it was its peer's connection, the peer goes down and every
 * relation with it fires (node thread). */
void ld_conn_close(ld_node *n, ld_conn *c, const char *why);
/* Logs a line on stderr ("lunatic: node NAME: ..."), always. */
void ld_log(const ld_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, only with LUNATIC_LOG=debug. */
void ld_debug(const ld_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- conn.c: handshakes and I/O (node thread) ------------------------------------- */

/* A connection for fd (connected or accepted), starting its handshake.
 * NULL when out of memory (fd closed). */
ld_conn *ld_conn_new(ld_node *n, int fd, ld_peer *peer, bool initiator);
/* Handles readiness of c's socket. */
void ld_conn_event(ld_node *n, ld_conn *c, uint32_t events);
/* Writes what c's peer has queued, as far as the socket takes it. */
void ld_conn_flush(ld_node *n, ld_conn *c);
/* The same with wlock held, any thread, at most `batches` batches: 0
 * when the queue is empty, 1 when the socket is full or batches ran out
 * (the node thread goes on), -1 on a write error (the node thread closes
 * c when it sees it). */
int ld_conn_write_locked(ld_conn *c, int batches);
/* Frees c (already out of every list, socket closed). */
void ld_conn_free(ld_conn *c);

/* ---- queue.c ------------------------------------------------------------------------ */

/* Appends f to peer's queue for destination key if the peer is up with
 * node id `id` (0: any); takes f. 0, or -1 (f freed) when it is not. */
int ld_enqueue(ld_node *n, ld_peer *p, uint16_t id, uint64_t key, ld_frame *f);
/* Fills c's write batch from its peer's queue (round robin over
 * destinations, large frames in fragments to lunatic peers). false when
 * the queue is empty. */
bool ld_queue_take(ld_conn *c);
/* Drops everything queued for p (it went down). */
void ld_queue_drop(ld_peer *p);
/* A fragment arrived: appends it, and returns the whole packet (to free
 * with free()) when it was the last, else NULL. -1 in *bad for a protocol
 * violation. */
uint8_t *ld_frag_add(ld_conn *c, const uint8_t *body, size_t len, size_t *outlen, bool *bad);
void ld_frag_free_all(ld_conn *c);

/* ---- term.c: pids and frames -------------------------------------------------------- */

/* Encodes one of our processes (env, global pid) as an Erlang pid. */
void ld_our_pid(const ld_node *n, uint64_t env, uint64_t pid, erlang_pid *out);
/* Encodes a process of a peer (its u64 pid, node bits included) sent from
 * env. */
void ld_peer_pid(const ld_peerinfo *p, uint64_t env, uint64_t pid, erlang_pid *out);
/* Decodes a pid of ours: 0 with env and global pid, -1 if it is not ours
 * or of another life of this node. */
int ld_pid_ours(const ld_node *n, const erlang_pid *e, uint64_t *env, uint64_t *pid);
/* Decodes a pid of peer as a u64 pid; -1 if it is not the peer's or does
 * not fit (an Erlang pid whose serial needs more than 16 bits). */
int ld_pid_of_peer(const ld_peerinfo *p, const erlang_pid *e, uint64_t *pid);
/* Starts a frame: reserves the length header and writes 'p' and the
 * version byte. 0, or -1. */
int ld_x_begin(ei_x_buff *x);
/* A SEND of message m to pid (of peer) from env: {lunatic, Tag, Data}, or
 * the term itself when the data is a marked Erlang term. NULL when out of
 * memory or the term is invalid. */
ld_frame *ld_frame_message(const ld_node *n, const ld_peerinfo *p, uint64_t env, uint64_t pid,
                           const lt_signal *m);
/* A REG_SEND from one of our pids (env, pid; 0/0 = the node) to name on
 * peer, with the term already encoded in msg (without its version byte). */
ld_frame *ld_frame_reg_send(const ld_node *n, uint64_t env, uint64_t pid, const char *name,
                            const char *msg, int msglen);
/* Walks a term (version byte first) with bounds, so that ei may then
 * decode it: 0 with its end in *end, or -1 if malformed or truncated. */
int ld_term_check(const uint8_t *b, size_t len, size_t *end);
/* A data message for an incoming term: {lunatic, Tag, Bin} becomes a
 * message with that tag and data, any other term its bytes behind the
 * marker. NULL when out of memory. */
lt_signal *ld_message_of_term(const char *buf, int len);

/* Stops the node's threads and closes its connections (rt's stop hook);
 * frees it (rt's free hook). */
void ld_stop_node(ld_node *n);
void ld_free_node(ld_node *n);
/* rt's idle hooks (lt_remote_ops.idle, idle_end): an idle worker handles
 * the ready events if no one else does; while one polls, the node thread
 * leaves the sockets to it (node_thread). */
bool ld_idle_poll(ld_node *n, bool first);
void ld_idle_end(ld_node *n, bool sleeping);

/* ---- route.c ------------------------------------------------------------------------- */

extern const lt_remote_ops ld_remote_ops;
/* Handles one incoming pass-through packet body (after 'p'). */
void ld_dispatch(ld_node *n, ld_conn *c, const uint8_t *body, size_t len);
/* Fires every relation with the peer whose id was `id` (it went down). */
void ld_rel_node_down(ld_node *n, uint16_t id);
/* Sends a control message (the tuple encoded in x after ld_x_begin)
 * to peer for destination key. */
void ld_send_ctl(ld_node *n, ld_peer *p, uint64_t key, ei_x_buff *x);

/* ---- spawn.c ---------------------------------------------------------------------------- */

/* Starts the spawn service (a native process). 0, or -1. */
int ld_service_start(ld_node *n);
/* A message for the node's own names (lunatic_spawn, lunatic_net,
 * net_kernel) from peer. Node thread. */
void ld_service_message(ld_node *n, ld_conn *c, const char *toname, const char *msg, int len);
/* Wakes every process waiting for an answer from node `id` (it went down)
 * with a connection error. */
void ld_waits_node_down(ld_node *n, uint16_t id);
/* Keeps a reference to m in the module table (its bytes are served to
 * nodes that spawn it). */
void ld_module_keep(ld_node *n, lt_module *m);
/* Sends our hello to a lunatic node (or a node that may be one). */
void ld_send_hello(ld_node *n, ld_peer *p);
/* Frees the module table, queued spawns and waits. */
void ld_spawn_free(ld_node *n);

/* ---- epmd.c ------------------------------------------------------------------------------ */

/* Registers name/port with the local EPMD; the descriptor to keep open, or
 * -1 with a reason. */
int ld_epmd_publish(ld_node *n, char *err, size_t errsize);
/* Starts / stops the connector thread, which resolves names, asks EPMD
 * and connects, then hands sockets to the node thread. */
int ld_connector_start(ld_node *n);
void ld_connector_stop(ld_node *n);

typedef struct ld_creq {
    struct ld_creq *next;
    ld_peer *peer;
    char name[LD_MAXNAME], host[LD_MAXNAME];
    unsigned port;
    int fd;                     /* result: a connected socket, or -1 */
    char err[200];
} ld_creq;

#endif
