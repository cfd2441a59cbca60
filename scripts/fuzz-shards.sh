#!/usr/bin/env bash
# fuzz-shards.sh N COMMAND...: run COMMAND as N processes at once, process i taking shard i/N of the
# operations (SITEINSPECT_FUZZ_SHARD) on a database of its own (SITEINSPECT_TEST_DATABASE_SUFFIX;
# on SQLite every test process has its own file anyway). Each shard's output goes to
# var/fuzz/shard-i.log and its end is printed; fails if any shard fails.
set -u
n=$1
shift
mkdir -p var/fuzz
pids=()
for i in $(seq 0 $((n - 1))); do
  SITEINSPECT_FUZZ_SHARD="$i/$n" SITEINSPECT_TEST_DATABASE_SUFFIX="shard$i" "$@" >"var/fuzz/shard-$i.log" 2>&1 &
  pids+=($!)
done
rc=0
for i in $(seq 0 $((n - 1))); do
  wait "${pids[$i]}" || rc=1
done
for i in $(seq 0 $((n - 1))); do
  echo "--- fuzz shard $i of $n (var/fuzz/shard-$i.log)"
  grep -E "^fuzz|^stateful|passed|failed|^FAILED|^ERROR" "var/fuzz/shard-$i.log" | tail -20
done
exit $rc
