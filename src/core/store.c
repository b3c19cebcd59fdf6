/* store.c - the store interface's dispatch to its backend (see store.h). */
#include "uvcrawl/store.h"

#include <assert.h>
#include <stddef.h>

const char *uc_store_name(const uc_store *s) { return s->ops->name; }

bool uc_store_is_durable(const uc_store *s) { return s->ops->durable; }

int uc_store_put_url(uc_store *s, const uc_store_url *u) {
  assert(u->id > 0 && u->url != NULL);
  return s->ops->put_url(s, u);
}

int uc_store_set_state(uc_store *s, uint64_t id, uc_url_state state, int status,
                       const char *error) {
  assert(id > 0 && state < UC_URL_STATE_COUNT_);
  return s->ops->set_state(s, id, state, status, error);
}

int uc_store_put_host(uc_store *s, const uc_store_host *h) {
  assert(h->id > 0 && h->key != NULL);
  return s->ops->put_host(s, h);
}

int uc_store_put_scope(uc_store *s, const char *host, bool adopted) {
  return s->ops->put_scope(s, host, adopted);
}

int uc_store_put_meta(uc_store *s, const char *key, const char *value) {
  return s->ops->put_meta(s, key, value);
}

int uc_store_commit(uc_store *s, uint64_t *seq) {
  uint64_t ignored;
  return s->ops->commit(s, seq != NULL ? seq : &ignored);
}

uint64_t uc_store_durable(uc_store *s) { return s->ops->durable_seq(s); }

int uc_store_sync(uc_store *s) { return s->ops->sync(s); }

int uc_store_failed(uc_store *s, char *msg, size_t msglen) {
  if (msg != NULL && msglen > 0)
    msg[0] = '\0';
  return s->ops->failed(s, msg, msglen);
}

int uc_store_get_meta(uc_store *s, const char *key, char **value) {
  *value = NULL;
  return s->ops->get_meta(s, key, value);
}

int uc_store_load(uc_store *s, const uc_store_loader *l, void *ctx) {
  return s->ops->load(s, l, ctx);
}

int uc_store_count(uc_store *s, uc_store_counts *out) { return s->ops->counts(s, out); }

void uc_store_set_hooks(uc_store *s, void (*wake)(void *), uc_store_pre_commit_fn pre_commit,
                        void *ctx) {
  s->ops->set_hooks(s, wake, pre_commit, ctx);
}

int uc_store_refill(uc_store *s, uint64_t host_id, uint64_t after_id, int max_depth,
                    size_t limit) {
  return s->ops->refill(s, host_id, after_id, max_depth, limit);
}

int uc_store_take_refills(uc_store *s, uc_store_refill_fn fn, void *ctx) {
  return s->ops->take_refills(s, fn, ctx);
}

size_t uc_store_take_commits(uc_store *s, uc_store_commit_info *out, size_t max) {
  return s->ops->take_commits(s, out, max);
}

void uc_store_free(uc_store *s) {
  if (s != NULL)
    s->ops->free(s);
}

const char *uc_url_state_name(uc_url_state st) {
  static const char *const names[UC_URL_STATE_COUNT_] = {"queued", "leased", "done", "failed"};
  return st < UC_URL_STATE_COUNT_ ? names[st] : "unknown";
}
