/*
 * blocking.c - the pool for blocking work (blocking.h).
 */
#include <stdlib.h>

#include "rt/blocking.h"
#include "rt/env.h"
#include "rt/process.h"
#include "rt/runtime.h"

int lt_pool_init(lt_pool *pool)
{
    pool->head = pool->tail = NULL;
    pool->nthreads = pool->idle = pool->queued = 0;
    pool->stopping = false;
    if (pthread_mutex_init(&pool->lock, NULL))
        return -1;
    if (pthread_cond_init(&pool->cond, NULL)) {
        pthread_mutex_destroy(&pool->lock);
        return -1;
    }
    return 0;
}

bool lt_job_done(const lt_job *j) { return atomic_load_explicit(&j->done, memory_order_acquire); }

void lt_job_release(lt_job *j)
{
    if (j && atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) == 1)
        j->free(j);
}

static void *pool_main(void *arg)
{
    lt_pool *pool = arg;
    pthread_setname_np(pthread_self(), "lunatic-pool"); /* for ps, top, gdb and perf */
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->stopping) {
            pool->idle++;
            pthread_cond_wait(&pool->cond, &pool->lock);
            pool->idle--;
        }
        if (pool->stopping)
            break;
        lt_job *j = pool->head;
        pool->head = j->next;
        if (!pool->head)
            pool->tail = NULL;
        pool->queued--;
        pthread_mutex_unlock(&pool->lock);
        j->run(j);
        atomic_store_explicit(&j->done, true, memory_order_release);
        lt_send_wake(j->env, j->pid, j->seq);
        lt_job_release(j);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int lt_job_submit(lt_runtime *rt, lt_process *p, lt_job *j)
{
    lt_pool *pool = &rt->pool;
    j->env = p->env;
    j->pid = p->pid;
    j->seq = p->wait_seq;
    j->next = NULL;
    p->wait_kind = LT_WAIT_IO;   /* for observers: it waits for blocking work */
    atomic_store(&j->done, false);
    pthread_mutex_lock(&pool->lock);
    /* a thread for it unless an idle one is left over for it */
    bool need = pool->queued >= pool->idle && pool->nthreads < LT_POOL_MAX;
    if (need && pthread_create(&pool->threads[pool->nthreads], NULL, pool_main, pool) == 0)
        pool->nthreads++;
    if (pool->nthreads == 0) {
        pthread_mutex_unlock(&pool->lock);
        return -1;
    }
    atomic_fetch_add(&j->refs, 1);
    if (pool->tail)
        pool->tail->next = j;
    else
        pool->head = j;
    pool->tail = j;
    pool->queued++;
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    return 0;
}

void lt_pool_free(lt_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    while (pool->head) {
        lt_job *j = pool->head;
        pool->head = j->next;
        lt_job_release(j);
    }
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->cond);
}
