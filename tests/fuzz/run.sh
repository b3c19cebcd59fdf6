#!/bin/sh
# run.sh TARGET SEED_CORPUS WORK_DIR SECONDS
# Fuzz TARGET for SECONDS, starting from the committed seed corpus. New
# inputs go to WORK_DIR (in the build tree), so the source tree is never
# written; a crash input lands there too and fails the test.
set -eu
target=$1 seeds=$2 work=$3 secs=$4
mkdir -p "$work/corpus" "$work/artifacts"
# libFuzzer exits 77 on a finding by default, which meson reads as "skipped".
codes="-error_exitcode=1 -timeout_exitcode=1"
# UBSan in the (default) recover mode prints undefined behaviour and goes
# on, so a fuzz run that finds UB would pass: halt on the first report, so
# libFuzzer keeps the input as a crash and the test fails. Set last, so it
# wins over a halt_on_error=0 in the caller's UBSAN_OPTIONS.
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
export UBSAN_OPTIONS
# First replay every committed input (the regression cases), then fuzz.
"$target" $codes -runs=0 "$seeds"
exec "$target" $codes -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" "$seeds"
