#!/usr/bin/env bash
# check_headers.sh - module boundaries that the compiler alone does not enforce.
#
# Checks, by globbing at test time (so headers that are added, moved or removed
# are followed without editing this file): (a) every public header
# include/uvcrawl/*.h compiles on its own and when included twice, so a user
# never has to include something else first and every header has a working
# include guard; (b) src/core and the public headers include no libuv,
# pthread or c-ares header, and no curl header except src/core/url.c (which
# uses curl's URL API), as STYLE.md and DESIGN.md require of the core library.
# Prints one line per failure and exits 1, or prints how many headers it
# checked and exits 0.
#
# Usage: check_headers.sh CC... ROOT
#   CC... is the compiler command (one or more words, e.g. "ccache cc");
#   ROOT is the tree to check (the source root, or a scratch copy).
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 CC... ROOT" >&2
  exit 2
fi
root=${!#}
cc=("${@:1:$#-1}")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shopt -s nullglob

failures=0
fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}

# First error line of the compiler's output, to name what is wrong.
first_error() {
  grep -m1 -E 'error|fatal' "$1" || head -n1 "$1"
}

# (a) Each public header on its own, then twice in one file.
headers=("$root"/include/uvcrawl/*.h)
if ((${#headers[@]} == 0)); then
  fail "$root/include/uvcrawl: no headers found"
fi
for h in "${headers[@]}"; do
  name=$(basename "$h" .h)
  rel=include/uvcrawl/$name.h
  printf '#include "uvcrawl/%s.h"\n' "$name" >"$tmp/once.c"
  printf '#include "uvcrawl/%s.h"\n#include "uvcrawl/%s.h"\n' "$name" "$name" >"$tmp/twice.c"
  for variant in once twice; do
    if ! "${cc[@]}" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fsyntax-only \
        -I "$root/include" "$tmp/$variant.c" >"$tmp/out" 2>&1; then
      case $variant in
        once) what="does not compile on its own" ;;
        twice) what="does not compile when included twice (include guard?)" ;;
      esac
      fail "$rel: $what: $(first_error "$tmp/out")"
      break # a header that fails alone fails twice too; say it once
    fi
  done
done

# (b) Forbidden includes, in any spelling: #include <uv.h>, # include "uv.h", ...
inc='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][[:space:]]*'
engine_re="$inc(uv|pthread|ares)\\.h[[:space:]]*[>\"]"
curl_re="${inc}curl/[^>\"]*\\.h[[:space:]]*[>\"]"
for f in "$root"/src/core/*.[ch] "${headers[@]}"; do
  rel=${f#"$root"/}
  while IFS= read -r line; do
    fail "$rel:${line%%:*}: includes an engine library header (core must not): ${line#*:}"
  done < <(grep -nE "$engine_re" "$f" || true)
  if [[ $rel != src/core/url.c ]]; then
    while IFS= read -r line; do
      fail "$rel:${line%%:*}: includes a curl header (only src/core/url.c may): ${line#*:}"
    done < <(grep -nE "$curl_re" "$f" || true)
  fi
done

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "ok: ${#headers[@]} public headers compile alone and twice; no forbidden includes in src/core or include/uvcrawl"
