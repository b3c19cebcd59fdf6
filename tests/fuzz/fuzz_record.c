/* fuzz_record.c - libFuzzer target: any bytes in a record make one clean line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uc_buf b = UC_BUF_INIT;
  if (uc_json_append_string(&b, (const char *)data, size) != 0)
    return 0;
  /* Escaped output is printable: no raw control byte survives. */
  for (size_t i = 0; i < b.len; i++)
    if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
      abort();
  uc_buf_reset(&b);

  char *text = malloc(size + 1);
  if (text == NULL) {
    uc_buf_free(&b);
    return 0;
  }
  memcpy(text, data, size);
  text[size] = '\0';
  uc_record r = {.url = text,
                 .final_url = text,
                 .parent = text,
                 .content_type = text,
                 .error = text,
                 .engine = "loop",
                 .status = 200,
                 .links = -1,
                 .new_links = -1,
                 .attempts = 1,
                 .fetch_ms = (double)size / 7.0};
  if (uc_record_format(&b, &r) == 0) {
    if (b.len == 0 || b.data[b.len - 1] != '\n' || memchr(b.data, '\n', b.len - 1) != NULL)
      abort();
  }
  free(text);
  uc_buf_free(&b);
  return 0;
}
