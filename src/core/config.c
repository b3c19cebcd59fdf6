/* config.c - the polite defaults of DESIGN.md. */
#include "uvcrawl/config.h"

#include <string.h>

void uc_config_defaults(uc_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->engine = UC_ENGINE_LOOP;
  cfg->concurrency = 256;
  cfg->depth = -1;
  cfg->rate = 2.0;
  cfg->burst = 2.0;
  cfg->per_host = 2;
  cfg->scope = UC_SCOPE_HOST;
  cfg->user_agent = "uvcrawl/" UVCRAWL_VERSION " (+https://github.com/uvcrawl/uvcrawl)";
  cfg->robots = true;
  cfg->max_crawl_delay_s = 30.0;
  cfg->timeout_s = 30.0;
  cfg->connect_timeout_s = 10.0;
  cfg->drain_timeout_s = 10.0;
  cfg->max_body = 10u * 1024 * 1024;
  cfg->warc_max_size = 1024u * 1024 * 1024;
  cfg->warc_dedup = true;
  cfg->retries = 2;
  cfg->max_redirects = 10;
  cfg->max_url_length = 2048;
  cfg->sitemaps = true; /* like wget2 */
}
