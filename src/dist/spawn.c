/*
 * spawn.c - the node's own services, and the waits of processes that ask
 * other nodes for something.
 *
 * Names every node answers (REG_SEND), so that an Erlang shell can drive
 * them too:
 *   lunatic_spawn  {spawn, Ref, From, Env, ModuleId, Func, Params, Config}
 *                    spawns Func(Params) of module ModuleId in environment
 *                    Env with Config, and answers the spawner's node
 *                    {spawn_reply, Ref, From, {ok, Pid} | {error, module | spawn, Text}};
 *                  {get_module, ModuleId} answers {module, ModuleId, Bytes | undefined}:
 *                    a node asked to spawn a module it lacks fetches it
 *                    from the spawner, compiles it, and keeps it;
 *   lunatic_net    {hello, NodeId, Tags, Peers} from lunatic nodes: their
 *                    tags (for lookups) and the nodes they know, which we
 *                    connect to in turn (a full mesh);
 *                  {whereis, ReplyTo, Name} answers {lunatic_pid, Name, Pid | undefined};
 *   net_kernel     {'$gen_call', {From, Ref}, {is_auth, Node}} answers
 *                    {Ref, yes}: net_adm:ping/1 gets pong.
 *
 * Spawns run in a native process (the spawn service) on the workers, not
 * on the node thread: compiling a module and running a start function
 * take time that the connections must not wait for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/internal.h"

#define SPAWN_QUEUE_TTL_NS (30ll * 1000000000)

enum { SVC_SPAWN = 1, SVC_MODULE = 2 };

/* A spawn request waiting for its module. */
typedef struct ld_spawnq {
    struct ld_spawnq *next;
    uint64_t module;
    uint16_t peer;
    int64_t since;
    size_t len;
    uint8_t term[];
} ld_spawnq;

/* ---- helpers ------------------------------------------------------------------------- */

/* Sends term x (no version byte) by REG_SEND to name on the node with id
 * `node`, from our (env, pid) (0/0: the node itself). */
static void reg_send(ld_node *n, uint16_t node, uint64_t env, uint64_t pid, const char *name,
                     ei_x_buff *x)
{
    ld_peerinfo pi;
    if (ld_peer_info(n, node, &pi) == 0) {
        ld_frame *f = ld_frame_reg_send(n, env, pid, name, x->buff, x->index);
        /* a stream of its own per name, apart from the processes' */
        uint64_t key = 0xcbf29ce484222325ull;
        for (const char *c = name; *c; c++)
            key = (key ^ (uint8_t)*c) * 0x100000001b3ull;
        if (f)
            ld_enqueue(n, pi.peer, node, key, f);
    }
    ei_x_free(x);
}

/* Sends term x (no version byte) to a raw pid of peer p. */
static void send_raw(ld_node *n, ld_peer *p, const erlang_pid *to, ei_x_buff *x)
{
    ei_x_buff f;
    if (ld_x_begin(&f) == 0) {
        if (ei_x_encode_tuple_header(&f, 3) == 0 && ei_x_encode_long(&f, OP_SEND) == 0 &&
            ei_x_encode_atom(&f, "") == 0 && ei_x_encode_pid(&f, to) == 0 &&
            ei_x_encode_version(&f) == 0 && ei_x_append_buf(&f, x->buff, x->index) == 0)
            ld_send_ctl(n, p, to->num, &f);
        else
            ei_x_free(&f);
    }
    ei_x_free(x);
}

static void wake(ld_node *n, uint64_t env_id, uint64_t pid, uint64_t seq)
{
    lt_env *env = lt_env_find(n->rt, env_id);
    if (env)
        lt_send_wake(env, pid, seq);
}

/* ---- modules and registries ------------------------------------------------------------- */

void ld_module_keep(ld_node *n, lt_module *m)
{
    pthread_mutex_lock(&n->mod_lock);
    if (!ld_map_get(&n->modules, m->hash, 0)) {
        lt_module_retain(m);
        if (ld_map_put(&n->modules, m->hash, 0, m) < 0)
            lt_module_release(m);
    }
    pthread_mutex_unlock(&n->mod_lock);
}

/* A reference to the module with that hash, or NULL. */
static lt_module *module_get(ld_node *n, uint64_t hash)
{
    pthread_mutex_lock(&n->mod_lock);
    lt_module *m = ld_map_get(&n->modules, hash, 0);
    if (m)
        lt_module_retain(m);
    pthread_mutex_unlock(&n->mod_lock);
    return m;
}

lt_registry *ld_env_registry(ld_node *n, uint64_t env)
{
    pthread_mutex_lock(&n->mod_lock);
    lt_registry *r = ld_map_get(&n->registries, env, 0);
    if (!r && (r = lt_registry_new()) && ld_map_put(&n->registries, env, 0, r) < 0) {
        lt_registry_release(r);
        r = NULL;
    }
    if (r)
        lt_registry_retain(r);
    pthread_mutex_unlock(&n->mod_lock);
    return r;
}

/* ---- configs as terms ---------------------------------------------------------------------- */

static int encode_strings(ei_x_buff *x, char *const *s, uint32_t n)
{
    if (n && ei_x_encode_list_header(x, n) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (ei_x_encode_binary(x, s[i], (long)strlen(s[i])) < 0)
            return -1;
    return ei_x_encode_empty_list(x);
}

/* A limit (0 = none) no larger than cap (0 = none). */
static uint64_t capped(uint64_t v, uint64_t cap) { return cap && (!v || v > cap) ? cap : v; }

/* {MaxMemory, MaxFuel, CanCompile, CanCreateConfigs, CanSpawn, Args, Envs,
 * Preopens, NoNetwork}, as the spawner may grant it: memory and fuel no
 * larger than the spawner's own config allows, no networking if the
 * spawner has none (capabilities only narrow, across nodes too; the
 * permissions were checked by the caller). A request from an Erlang shell
 * may leave NoNetwork out (an 8-tuple). */
static int encode_config(ei_x_buff *x, const lt_config *c, const lt_config *spawner)
{
    if (ei_x_encode_tuple_header(x, 9) < 0 ||
        ei_x_encode_ulonglong(x, capped(c->max_memory, spawner->max_memory)) < 0 ||
        ei_x_encode_ulonglong(x, capped(c->max_fuel, spawner->max_fuel)) < 0 ||
        ei_x_encode_long(x, c->can_compile) < 0 ||
        ei_x_encode_long(x, c->can_create_configs) < 0 || ei_x_encode_long(x, c->can_spawn) < 0)
        return -1;
    if (encode_strings(x, c->args, c->nargs) < 0 || encode_strings(x, c->envs, c->nenvs) < 0 ||
        encode_strings(x, c->preopens, c->npreopens) < 0)
        return -1;
    return ei_x_encode_long(x, c->no_network || spawner->no_network);
}

static int decode_strings(const char *b, int *idx, lt_config *c, lt_cfglist which)
{
    int n, type, size;
    if (ei_decode_list_header(b, idx, &n) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (ei_get_type(b, idx, &type, &size) < 0 || type != ERL_BINARY_EXT)
            return -1;
        if (lt_config_add(c, which, b + *idx + 5, (size_t)size) < 0)
            return -1;
        *idx += 5 + size;
    }
    return n ? ei_decode_list_header(b, idx, &n) : 0; /* the tail */
}

static lt_config *decode_config(const char *b, int *idx)
{
    int arity;
    unsigned long long mem, fuel;
    long comp, cfgs, spawn, no_net = 0;
    if (ei_decode_tuple_header(b, idx, &arity) < 0 || (arity != 8 && arity != 9) ||
        ei_decode_ulonglong(b, idx, &mem) < 0 || ei_decode_ulonglong(b, idx, &fuel) < 0 ||
        ei_decode_long(b, idx, &comp) < 0 || ei_decode_long(b, idx, &cfgs) < 0 ||
        ei_decode_long(b, idx, &spawn) < 0)
        return NULL;
    lt_config *c = lt_config_new();
    if (!c)
        return NULL;
    c->max_memory = mem;
    c->max_fuel = fuel;
    c->can_compile = comp != 0;
    c->can_create_configs = cfgs != 0;
    c->can_spawn = spawn != 0;
    if (decode_strings(b, idx, c, LT_CFG_ARG) < 0 || decode_strings(b, idx, c, LT_CFG_ENV) < 0 ||
        decode_strings(b, idx, c, LT_CFG_PREOPEN) < 0 ||
        (arity == 9 && ei_decode_long(b, idx, &no_net) < 0)) {
        lt_config_release(c);
        return NULL;
    }
    c->no_network = no_net != 0;
    return c;
}

/* The config a spawn request carries, as a reference: remote spawns
 * usually ship the same config again and again (lunatic-rs passes the
 * caller's own), and a config decoded once also keeps its WASI part (its
 * preopened directories opened, its environment copied) for the next
 * spawn. At most CONFIG_CACHE distinct configs are kept. NULL if the
 * term is not a config. */
#define CONFIG_CACHE 64
static lt_config *config_of(ld_node *n, const char *b, int *idx)
{
    int start = *idx;
    if (ei_skip_term(b, idx) < 0)
        return NULL;
    uint64_t h = 0xcbf29ce484222325ull, len = (uint64_t)(*idx - start);
    for (int i = start; i < *idx; i++)
        h = (h ^ (uint8_t)b[i]) * 0x100000001b3ull;
    pthread_mutex_lock(&n->mod_lock);
    lt_config *c = ld_map_get(&n->configs, h, len);
    if (c)
        lt_config_retain(c);
    pthread_mutex_unlock(&n->mod_lock);
    if (c)
        return c;
    int at = start;
    if (!(c = decode_config(b, &at)))
        return NULL;
    pthread_mutex_lock(&n->mod_lock);
    if (n->configs.n < CONFIG_CACHE && !ld_map_get(&n->configs, h, len) &&
        ld_map_put(&n->configs, h, len, c) == 0)
        lt_config_retain(c); /* the cache's reference */
    pthread_mutex_unlock(&n->mod_lock);
    return c;
}

/* ---- the spawner's side ------------------------------------------------------------------------- */

static ld_wait *wait_new(ld_node *n, lt_process *p, int kind, uint16_t node)
{
    ld_wait *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->kind = kind;
    w->node = node;
    w->seq = p->wait_seq;
    w->result = LD_PENDING;
    w->ref = atomic_fetch_add(&n->next_ref, 1);
    pthread_mutex_lock(&n->wait_lock);
    free(ld_map_take(&n->waits, p->env->id, p->pid));
    if (ld_map_put(&n->waits, p->env->id, p->pid, w) < 0) {
        free(w);
        w = NULL;
    }
    pthread_mutex_unlock(&n->wait_lock);
    /* the dist layer forgets this wait if p ends while it lasts */
    p->remote = true;
    return w;
}

int ld_spawn_begin(ld_node *n, lt_process *p, uint16_t node, const lt_config *c,
                   uint64_t module_id, const char *func, size_t funclen,
                   const uint8_t *params, size_t paramslen)
{
    ld_peerinfo pi;
    if (ld_peer_info(n, node, &pi) < 0 || !pi.lunatic)
        return -1;
    if (p->module && p->module->hash == module_id)
        ld_module_keep(n, p->module);
    ld_wait *w = wait_new(n, p, WAIT_SPAWN, node);
    if (!w)
        return -1;
    uint64_t ref = w->ref;
    erlang_pid from;
    ld_our_pid(n, p->env->id, p->pid, &from);
    ei_x_buff x;
    if (ei_x_new(&x) < 0)
        return -1;
    if (ei_x_encode_tuple_header(&x, 8) < 0 || ei_x_encode_atom(&x, "spawn") < 0 ||
        ei_x_encode_ulonglong(&x, ref) < 0 || ei_x_encode_pid(&x, &from) < 0 ||
        ei_x_encode_ulonglong(&x, p->env->id) < 0 || ei_x_encode_ulonglong(&x, module_id) < 0 ||
        ei_x_encode_binary(&x, func, (long)funclen) < 0 ||
        ei_x_encode_binary(&x, params, (long)paramslen) < 0 ||
        encode_config(&x, c, p->config) < 0) {
        ei_x_free(&x);
        ld_spawn_end(n, p);
        return -1;
    }
    reg_send(n, node, p->env->id, p->pid, "lunatic_spawn", &x);
    return 0;
}

int ld_spawn_poll(ld_node *n, lt_process *p, uint64_t *pid, char *err, size_t errsize)
{
    pthread_mutex_lock(&n->wait_lock);
    ld_wait *w = ld_map_get(&n->waits, p->env->id, p->pid);
    int r = w ? w->result : LD_ERR_CONN;
    if (w && r != LD_PENDING) {
        *pid = w->pid;
        snprintf(err, errsize, "%s", w->err);
    } else if (!w) {
        snprintf(err, errsize, "out of memory");
    }
    pthread_mutex_unlock(&n->wait_lock);
    return r;
}

void ld_spawn_end(ld_node *n, lt_process *p)
{
    pthread_mutex_lock(&n->wait_lock);
    free(ld_map_take(&n->waits, p->env->id, p->pid));
    pthread_mutex_unlock(&n->wait_lock);
}

int ld_watch_begin(ld_node *n, lt_process *p, uint16_t node)
{
    ld_peerinfo pi;
    if (ld_peer_info(n, node, &pi) < 0)
        return -1;
    return wait_new(n, p, WAIT_REPLY, node) ? 0 : -1;
}

bool ld_watch_failed(ld_node *n, lt_process *p)
{
    pthread_mutex_lock(&n->wait_lock);
    ld_wait *w = ld_map_get(&n->waits, p->env->id, p->pid);
    bool failed = !w || w->result != LD_PENDING;
    pthread_mutex_unlock(&n->wait_lock);
    return failed;
}

void ld_watch_end(ld_node *n, lt_process *p) { ld_spawn_end(n, p); }

typedef struct downw {
    uint16_t id;
    struct { uint64_t env, pid, seq; } *w;
    size_t n, cap;
} downw;

static bool fail_waits(uint64_t env, uint64_t pid, void *val, void *ud)
{
    downw *d = ud;
    ld_wait *w = val;
    if (w->node != d->id || w->result != LD_PENDING)
        return false;
    w->result = LD_ERR_CONN;
    snprintf(w->err, sizeof w->err, "the node went down");
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        void *nw = realloc(d->w, cap * sizeof *d->w);
        if (!nw)
            return false; /* that process finds out at its timeout */
        d->w = nw;
        d->cap = cap;
    }
    d->w[d->n].env = env;
    d->w[d->n].pid = pid;
    d->w[d->n++].seq = w->seq;
    return false;
}

void ld_waits_node_down(ld_node *n, uint16_t id)
{
    downw d = {.id = id};
    pthread_mutex_lock(&n->wait_lock);
    ld_map_filter(&n->waits, fail_waits, &d);
    pthread_mutex_unlock(&n->wait_lock);
    for (size_t i = 0; i < d.n; i++)
        wake(n, d.w[i].env, d.w[i].pid, d.w[i].seq);
    free(d.w);
}

/* {spawn_reply, Ref, From, Result} arrived for one of our processes. */
static void spawn_reply(ld_node *n, ld_conn *c, const char *b, int idx)
{
    unsigned long long ref;
    erlang_pid from, pid;
    uint64_t env, ours;
    int arity;
    char atom[MAXATOMLEN_UTF8];
    if (ei_decode_ulonglong(b, &idx, &ref) < 0 || ei_decode_pid(b, &idx, &from) < 0 ||
        ld_pid_ours(n, &from, &env, &ours) < 0 || ei_decode_tuple_header(b, &idx, &arity) < 0 ||
        ei_decode_atom(b, &idx, atom) < 0)
        return;
    ld_peerinfo pi;
    ld_peer_info_local(c->peer, &pi);
    int result = LD_ERR_REMOTE;
    uint64_t u = 0;
    char text[200] = "";
    if (!strcmp(atom, "ok") && arity == 2 && ei_decode_pid(b, &idx, &pid) == 0 &&
        ld_pid_of_peer(&pi, &pid, &u) == 0) {
        result = LD_OK;
    } else if (!strcmp(atom, "error") && arity == 3) {
        char kind[MAXATOMLEN_UTF8];
        int type, size;
        if (ei_decode_atom(b, &idx, kind) == 0 && !strcmp(kind, "module"))
            result = LD_ERR_MODULE;
        if (ei_get_type(b, &idx, &type, &size) == 0 && type == ERL_BINARY_EXT)
            snprintf(text, sizeof text, "%.*s", size > 190 ? 190 : size, b + idx + 5);
    }
    pthread_mutex_lock(&n->wait_lock);
    ld_wait *w = ld_map_get(&n->waits, env, ours);
    bool ok = w && w->kind == WAIT_SPAWN && w->ref == ref && w->result == LD_PENDING;
    uint64_t seq = 0;
    if (ok) {
        w->result = result;
        w->pid = u;
        snprintf(w->err, sizeof w->err, "%s", text);
        seq = w->seq;
    }
    pthread_mutex_unlock(&n->wait_lock);
    if (ok)
        wake(n, env, ours, seq);
}

/* ---- the spawn service (a native process on the workers) ------------------------------------ */

/* Answers a spawn request. */
static void reply(ld_node *n, uint16_t peer, unsigned long long ref, const erlang_pid *from,
                  uint64_t env, uint64_t pid, const char *kind, const char *text)
{
    ei_x_buff x;
    erlang_pid p;
    if (ei_x_new(&x) < 0)
        return;
    int r = ei_x_encode_tuple_header(&x, 4) | ei_x_encode_atom(&x, "spawn_reply") |
            ei_x_encode_ulonglong(&x, ref) | ei_x_encode_pid(&x, from);
    if (!kind) {
        ld_our_pid(n, env, pid, &p);
        r |= ei_x_encode_tuple_header(&x, 2) | ei_x_encode_atom(&x, "ok") | ei_x_encode_pid(&x, &p);
    } else {
        r |= ei_x_encode_tuple_header(&x, 3) | ei_x_encode_atom(&x, "error") |
             ei_x_encode_atom(&x, kind) | ei_x_encode_binary(&x, text, (long)strlen(text));
    }
    if (r < 0) {
        ei_x_free(&x);
        return;
    }
    reg_send(n, peer, 0, 0, "lunatic_spawn", &x);
}

/* Decodes 17-byte parameter records (ABI.md §2.3 (4)); a trailing
 * partial record is ignored, as the original does here. -1 for a type we
 * cannot pass. */
static int decode_params(const uint8_t *b, size_t len, lw_val *out, uint32_t max)
{
    uint32_t n = 0;
    for (size_t off = 0; off + 17 <= len; off += 17) {
        uint64_t lo;
        memcpy(&lo, b + off + 1, 8);
        if (n == max || (b[off] != LW_I32 && b[off] != LW_I64))
            return -1;
        out[n++] = b[off] == LW_I32 ? (uint32_t)lo : lo;
    }
    return (int)n;
}

/* Runs a spawn request whose module is here. */
static void do_spawn(ld_node *n, uint16_t peer, const char *b, int len, lt_module *m)
{
    int idx = 0, ver, arity, type, fsize, psize;
    char atom[MAXATOMLEN_UTF8];
    unsigned long long ref, env, mod;
    erlang_pid from;
    (void)len;
    if (ei_decode_version(b, &idx, &ver) < 0 || ei_decode_tuple_header(b, &idx, &arity) < 0 ||
        arity != 8 || ei_decode_atom(b, &idx, atom) < 0 || ei_decode_ulonglong(b, &idx, &ref) < 0 ||
        ei_decode_pid(b, &idx, &from) < 0 || ei_decode_ulonglong(b, &idx, &env) < 0 ||
        ei_decode_ulonglong(b, &idx, &mod) < 0)
        return;
    if (ei_get_type(b, &idx, &type, &fsize) < 0 || type != ERL_BINARY_EXT)
        return;
    const char *func = b + idx + 5;
    idx += 5 + fsize;
    if (ei_get_type(b, &idx, &type, &psize) < 0 || type != ERL_BINARY_EXT)
        return;
    const uint8_t *params = (const uint8_t *)b + idx + 5;
    idx += 5 + psize;
    lt_config *c = config_of(n, b, &idx);
    lw_val vals[64];
    int np = decode_params(params, (size_t)psize, vals, 64);
    char err[300];
    uint64_t pid = 0;
    const char *kind = "spawn";
    lt_env *e = NULL;
    lt_registry *reg = NULL;
    if (!m) {
        kind = "module";
        snprintf(err, sizeof err, "module %016llx not found", mod);
    } else if (!c) {
        snprintf(err, sizeof err, "bad config");
    } else if (np < 0) {
        snprintf(err, sizeof err, "spawn: unsupported parameter type");
    } else if (env == LD_SERVICE_ENV || !(e = lt_env_get(n->rt, env)) ||
               !(reg = ld_env_registry(n, env))) {
        snprintf(err, sizeof err, "cannot spawn into environment %llu", env);
    } else {
        lt_spawn_opts o = {.registry = reg};
        if (lt_spawn_wasm(n->rt, e, m, c, func, (size_t)fsize, vals, (uint32_t)np, &o, &pid, err,
                          sizeof err) == 0)
            kind = NULL;
    }
    lt_registry_release(reg);
    lt_config_release(c);
    reply(n, peer, ref, &from, env, pid, kind, kind ? err : "");
}

/* Parks a request until its module arrives; asks for it if this is the
 * first request for it. */
static void queue_spawn(ld_node *n, uint16_t peer, const char *b, int len, uint64_t mod)
{
    ld_spawnq *q = malloc(sizeof *q + (size_t)len);
    if (!q)
        return;
    q->module = mod;
    q->peer = peer;
    q->since = lt_now_ns();
    q->len = (size_t)len;
    memcpy(q->term, b, (size_t)len);
    bool first = true;
    pthread_mutex_lock(&n->mod_lock);
    for (ld_spawnq *o = n->spawnq; o; o = o->next)
        if (o->module == mod)
            first = false;
    q->next = n->spawnq;
    n->spawnq = q;
    pthread_mutex_unlock(&n->mod_lock);
    if (!first)
        return;
    ei_x_buff x;
    if (ei_x_new(&x) < 0)
        return;
    if (ei_x_encode_tuple_header(&x, 2) < 0 || ei_x_encode_atom(&x, "get_module") < 0 ||
        ei_x_encode_ulonglong(&x, mod) < 0) {
        ei_x_free(&x);
        return;
    }
    reg_send(n, peer, 0, 0, "lunatic_spawn", &x);
}

/* Takes the queued requests for mod (all of them: mod 0 takes the ones
 * that waited too long). */
static ld_spawnq *unqueue(ld_node *n, uint64_t mod, bool stale)
{
    ld_spawnq *out = NULL;
    int64_t now = lt_now_ns();
    pthread_mutex_lock(&n->mod_lock);
    for (ld_spawnq **q = &n->spawnq; *q;) {
        if (stale ? now - (*q)->since > SPAWN_QUEUE_TTL_NS : (*q)->module == mod) {
            ld_spawnq *t = *q;
            *q = t->next;
            t->next = out;
            out = t;
        } else {
            q = &(*q)->next;
        }
    }
    pthread_mutex_unlock(&n->mod_lock);
    /* oldest first */
    ld_spawnq *rev = NULL;
    while (out) {
        ld_spawnq *t = out;
        out = t->next;
        t->next = rev;
        rev = t;
    }
    return rev;
}

static void run_queue(ld_node *n, ld_spawnq *q, lt_module *m)
{
    while (q) {
        ld_spawnq *next = q->next;
        do_spawn(n, q->peer, (const char *)q->term, (int)q->len, m);
        free(q);
        q = next;
    }
}

static int service(lt_process *self, const lt_native_msg *msg, void *ud)
{
    ld_node *n = ud;
    (void)self;
    if (!msg || msg->kind != LT_MSG_DATA || msg->len < 3)
        return LT_NATIVE_CONTINUE;
    int kind = msg->data[0];
    uint16_t peer = (uint16_t)(msg->data[1] << 8 | msg->data[2]);
    const char *b = (const char *)msg->data + 3;
    int len = (int)(msg->len - 3);
    /* requests whose module never came: answered by the spawner's timeout */
    run_queue(n, unqueue(n, 0, true), NULL);
    int idx = 0, ver, arity;
    char atom[MAXATOMLEN_UTF8];
    unsigned long long ref, mod;
    erlang_pid from;
    if (ei_decode_version(b, &idx, &ver) < 0 || ei_decode_tuple_header(b, &idx, &arity) < 0 ||
        ei_decode_atom(b, &idx, atom) < 0)
        return LT_NATIVE_CONTINUE;
    if (kind == SVC_SPAWN) {
        if (arity != 8 || ei_decode_ulonglong(b, &idx, &ref) < 0 ||
            ei_decode_pid(b, &idx, &from) < 0 || ei_skip_term(b, &idx) < 0 ||
            ei_decode_ulonglong(b, &idx, &mod) < 0)
            return LT_NATIVE_CONTINUE;
        lt_module *m = module_get(n, mod);
        if (m) {
            do_spawn(n, peer, b, len, m);
            lt_module_release(m);
        } else {
            queue_spawn(n, peer, b, len, mod);
        }
    } else if (kind == SVC_MODULE) {
        /* {module, Id, Bytes | undefined} */
        int type, size;
        lt_module *m = NULL;
        if (arity != 3 || ei_decode_ulonglong(b, &idx, &mod) < 0)
            return LT_NATIVE_CONTINUE;
        if (ei_get_type(b, &idx, &type, &size) == 0 && type == ERL_BINARY_EXT) {
            const uint8_t *bytes = (const uint8_t *)b + idx + 5;
            char err[300];
            /* a module is accepted only under its own content hash */
            if (lt_module_hash(bytes, (size_t)size) == mod) {
                m = lt_module_compile((const lw_host_table *const *)n->rt->hosts, n->rt->nhosts,
                                      bytes, (size_t)size, err, sizeof err);
                if (m && lt_module_keep(m, bytes, (size_t)size) < 0) {
                    lt_module_release(m);
                    m = NULL;
                    snprintf(err, sizeof err, "out of memory");
                }
                if (!m)
                    ld_log(n, "module %016llx from a peer does not compile: %s", mod, err);
            }
        }
        if (m) {
            ld_module_keep(n, m);
            lt_module_release(m);
            m = module_get(n, mod);
        }
        run_queue(n, unqueue(n, mod, false), m);
        lt_module_release(m);
    }
    return LT_NATIVE_CONTINUE;
}

int ld_service_start(ld_node *n)
{
    n->service_env = lt_env_get(n->rt, LD_SERVICE_ENV);
    if (!n->service_env)
        return -1;
    return lt_spawn_native(n->rt, n->service_env, service, n, NULL, false, &n->service);
}

/* Hands a term to the spawn service. */
static void to_service(ld_node *n, int kind, uint16_t peer, const char *msg, int len)
{
    lt_signal *m = lt_message_new(0, (uint64_t)len + 3);
    uint8_t hdr[3] = {(uint8_t)kind, (uint8_t)(peer >> 8), (uint8_t)peer};
    if (!m || lt_message_write(m, hdr, 3) < 0 || lt_message_write(m, msg, (uint64_t)len) < 0) {
        lt_signal_free(m);
        return;
    }
    lt_send(n->service_env, n->service, m);
}

/* ---- the node thread's side of the services ------------------------------------------------ */

/* {get_module, Id}: the bytes of a module we spawned remotely. */
static void get_module(ld_node *n, ld_conn *c, const char *b, int idx)
{
    unsigned long long mod;
    if (ei_decode_ulonglong(b, &idx, &mod) < 0)
        return;
    lt_module *m = module_get(n, mod);
    ei_x_buff x;
    if (ei_x_new(&x) < 0) {
        lt_module_release(m);
        return;
    }
    int r = ei_x_encode_tuple_header(&x, 3) | ei_x_encode_atom(&x, "module") |
            ei_x_encode_ulonglong(&x, mod);
    r |= m ? ei_x_encode_binary(&x, m->bytes, (long)m->len) : ei_x_encode_atom(&x, "undefined");
    lt_module_release(m);
    if (r < 0) {
        ei_x_free(&x);
        return;
    }
    reg_send(n, c->peer->id, 0, 0, "lunatic_spawn", &x);
}

void ld_send_hello(ld_node *n, ld_peer *to)
{
    ei_x_buff x;
    if (ei_x_new(&x) < 0)
        return;
    int r = ei_x_encode_tuple_header(&x, 4) | ei_x_encode_atom(&x, "hello") |
            ei_x_encode_ulong(&x, n->id);
    if (n->ntags)
        r |= ei_x_encode_list_header(&x, (long)n->ntags);
    for (size_t i = 0; i < n->ntags; i++)
        r |= ei_x_encode_binary(&x, n->tags[i], (long)strlen(n->tags[i]));
    r |= ei_x_encode_empty_list(&x);
    /* the nodes we know: ourselves (with our port, for clusters without
     * EPMD) and every lunatic node we are connected to */
    pthread_mutex_lock(&n->lock);
    long count = 1;
    for (ld_peer *p = n->peers; p; p = p->next)
        count += p->state == PEER_UP && p->lunatic && p != to;
    r |= ei_x_encode_list_header(&x, count);
    r |= ei_x_encode_tuple_header(&x, 2) | ei_x_encode_binary(&x, n->name, (long)strlen(n->name)) |
         ei_x_encode_ulong(&x, n->no_epmd ? n->port : 0);
    for (ld_peer *p = n->peers; p; p = p->next) {
        if (p->state == PEER_UP && p->lunatic && p != to)
            r |= ei_x_encode_tuple_header(&x, 2) |
                 ei_x_encode_binary(&x, p->name, (long)strlen(p->name)) |
                 ei_x_encode_ulong(&x, p->port);
    }
    pthread_mutex_unlock(&n->lock);
    r |= ei_x_encode_empty_list(&x);
    if (r < 0) {
        ei_x_free(&x);
        return;
    }
    reg_send(n, to->id, 0, 0, "lunatic_net", &x);
}

static void got_hello(ld_node *n, ld_conn *c, const char *b, int idx)
{
    ld_peer *p = c->peer;
    unsigned long id;
    int ntags, npeers, type, size, arity;
    if (ei_decode_ulong(b, &idx, &id) < 0 || ei_decode_list_header(b, &idx, &ntags) < 0)
        return;
    char **tags = calloc((size_t)ntags + 1, sizeof *tags);
    if (!tags)
        return;
    for (int i = 0; i < ntags; i++) {
        if (ei_get_type(b, &idx, &type, &size) < 0 || type != ERL_BINARY_EXT ||
            !(tags[i] = strndup(b + idx + 5, (size_t)size)))
            break;
        idx += 5 + size;
    }
    if (ntags)
        ei_decode_list_header(b, &idx, &size);
    pthread_mutex_lock(&n->lock);
    for (size_t i = 0; i < p->ntags; i++)
        free(p->tags[i]);
    free(p->tags);
    p->tags = tags;
    p->ntags = (size_t)ntags;
    p->wanted = true; /* a lunatic node: reconnect when it comes back */
    pthread_mutex_unlock(&n->lock);
    pthread_mutex_lock(&p->qlock);
    bool first = !p->lunatic;
    p->lunatic = true;
    pthread_mutex_unlock(&p->qlock);
    if (first) {
        pthread_mutex_lock(&n->lock);
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->lock);
    }
    /* connect to the nodes it knows that we do not */
    if (ei_decode_list_header(b, &idx, &npeers) < 0)
        return;
    for (int i = 0; i < npeers; i++) {
        unsigned long port;
        char name[LD_MAXNAME];
        if (ei_decode_tuple_header(b, &idx, &arity) < 0 || arity != 2 ||
            ei_get_type(b, &idx, &type, &size) < 0 || type != ERL_BINARY_EXT || size >= LD_MAXNAME)
            return;
        memcpy(name, b + idx + 5, (size_t)size);
        name[size] = 0;
        idx += 5 + size;
        if (ei_decode_ulong(b, &idx, &port) < 0)
            return;
        if (!strcmp(name, n->name) || !strchr(name, '@'))
            continue;
        pthread_mutex_lock(&n->lock);
        ld_peer *q = ld_peer_get_locked(n, name);
        if (q && q->state == PEER_DOWN) {
            if (port && !q->port)
                q->port = (unsigned)port;
            q->wanted = true;
            ld_connect_peer(n, q);
        }
        pthread_mutex_unlock(&n->lock);
    }
}

/* {whereis, ReplyTo, Name} */
static void whereis(ld_node *n, ld_conn *c, const char *b, int idx)
{
    erlang_pid to, pid;
    char name[MAXATOMLEN_UTF8];
    int type, size;
    if (ei_decode_pid(b, &idx, &to) < 0)
        return;
    if (ei_decode_atom(b, &idx, name) < 0) {
        if (ei_get_type(b, &idx, &type, &size) < 0 || type != ERL_BINARY_EXT ||
            size >= (int)sizeof name)
            return;
        memcpy(name, b + idx + 5, (size_t)size);
        name[size] = 0;
    }
    uint64_t env = 0, p = 0;
    bool found = false;
    pthread_mutex_lock(&n->mod_lock);
    for (size_t k = 0; !found && k < n->registries.nb; k++) {
        for (ld_mapent *e = n->registries.b[k]; e && !found; e = e->next) {
            uint64_t node;
            if (lt_registry_get_short(e->val, name, strlen(name), &node, &p) == 0 &&
                (node == 0 || node == n->id)) {
                env = e->a;
                found = true;
            }
        }
    }
    pthread_mutex_unlock(&n->mod_lock);
    if (found && !(p & LT_PID_NODE_MASK))
        p |= n->rt->node_bits;
    ei_x_buff x;
    if (ei_x_new(&x) < 0)
        return;
    int r = ei_x_encode_tuple_header(&x, 3) | ei_x_encode_atom(&x, "lunatic_pid") |
            ei_x_encode_atom(&x, name);
    if (found) {
        ld_our_pid(n, env, p, &pid);
        r |= ei_x_encode_pid(&x, &pid);
    } else {
        r |= ei_x_encode_atom(&x, "undefined");
    }
    if (r < 0) {
        ei_x_free(&x);
        return;
    }
    send_raw(n, c->peer, &to, &x);
}

/* net_kernel's {'$gen_call', {From, Tag}, {is_auth, Node}}: {Tag, yes}.
 * Tag is a reference, or [alias | Ref] from OTP 24 on: echoed as it came. */
static void is_auth(ld_node *n, ld_conn *c, const char *b, int idx)
{
    int arity;
    erlang_pid from;
    char atom[MAXATOMLEN_UTF8];
    if (ei_decode_tuple_header(b, &idx, &arity) < 0 || arity != 2 ||
        ei_decode_pid(b, &idx, &from) < 0)
        return;
    int tag = idx;
    if (ei_skip_term(b, &idx) < 0)
        return;
    int taglen = idx - tag;
    if (ei_decode_tuple_header(b, &idx, &arity) < 0 || ei_decode_atom(b, &idx, atom) < 0 ||
        strcmp(atom, "is_auth"))
        return;
    ei_x_buff x;
    if (ei_x_new(&x) < 0)
        return;
    if (ei_x_encode_tuple_header(&x, 2) < 0 || ei_x_append_buf(&x, b + tag, taglen) < 0 ||
        ei_x_encode_atom(&x, "yes") < 0) {
        ei_x_free(&x);
        return;
    }
    send_raw(n, c->peer, &from, &x);
}

void ld_service_message(ld_node *n, ld_conn *c, const char *toname, const char *msg, int len)
{
    int idx = 0, ver, arity;
    char atom[MAXATOMLEN_UTF8];
    if (ei_decode_version(msg, &idx, &ver) < 0 || ei_decode_tuple_header(msg, &idx, &arity) < 0 ||
        arity < 1)
        return;
    if (!strcmp(toname, "net_kernel")) {
        if (ei_decode_atom(msg, &idx, atom) == 0 && !strcmp(atom, "$gen_call") && arity == 3)
            is_auth(n, c, msg, idx);
        return;
    }
    if (ei_decode_atom(msg, &idx, atom) < 0)
        return;
    if (!strcmp(toname, "lunatic_net")) {
        if (!strcmp(atom, "hello") && arity == 4)
            got_hello(n, c, msg, idx);
        else if (!strcmp(atom, "whereis") && arity == 3)
            whereis(n, c, msg, idx);
        return;
    }
    /* lunatic_spawn */
    if (!strcmp(atom, "spawn") && arity == 8)
        to_service(n, SVC_SPAWN, c->peer->id, msg, len);
    else if (!strcmp(atom, "module") && arity == 3)
        to_service(n, SVC_MODULE, c->peer->id, msg, len);
    else if (!strcmp(atom, "get_module") && arity == 2)
        get_module(n, c, msg, idx);
    else if (!strcmp(atom, "spawn_reply") && arity == 4)
        spawn_reply(n, c, msg, idx);
}

void ld_spawn_free(ld_node *n)
{
    for (ld_spawnq *q = n->spawnq, *next; q; q = next) {
        next = q->next;
        free(q);
    }
    n->spawnq = NULL;
    ld_map_free(&n->modules, (void (*)(void *))lt_module_release);
    ld_map_free(&n->registries, (void (*)(void *))lt_registry_release);
    ld_map_free(&n->configs, (void (*)(void *))lt_config_release);
    ld_map_free(&n->waits, free);
}
