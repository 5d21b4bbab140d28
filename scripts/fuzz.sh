#!/usr/bin/env bash
# Fuzzes the parsers that read outside input with cargo-fuzz (libFuzzer + AddressSanitizer),
# each target for SECONDS (default 60): Kafka record values (thoth_record), solver and adviser
# documents (solver_document), OSV advisories (osv_advisory). Not part of CI.
#
# Runs on stable Rust: cargo-fuzz passes nightly-only flags (-Zsanitizer=address), which
# RUSTC_BOOTSTRAP=1 lets a stable rustc accept. Each target's corpus is kept in
# fuzz/corpus/<target> (gitignored), seeded from the repository's own inputs; a crash leaves
# its input in fuzz/artifacts/<target>. Minimise it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> <input>   (from fuzz/)
# fix the crate at fault and keep the input in tests/fixtures/fuzz/<target>/.
# `scripts/fuzz.sh 300 osv_advisory` runs only the named targets.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ALL_TARGETS=(thoth_record solver_document osv_advisory)

seconds=${1:-60}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "usage: scripts/fuzz.sh [SECONDS per target] [TARGET...]"
shift $(($# > 0 ? 1 : 0))
targets=("${ALL_TARGETS[@]}")
[ $# -eq 0 ] || targets=("$@")
for target in "${targets[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $target "* ]] || die "unknown fuzz target '$target' (known: ${ALL_TARGETS[*]})"
done

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  say "installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

# The instrumented builds are kept apart from the workspace's target directory.
export CARGO_TARGET_DIR=$INVESTIGATOR_HOME/fuzz-target
export RUSTC_BOOTSTRAP=1
logs=$INVESTIGATOR_HOME/fuzz-logs
mkdir -p "$logs"
cd "$REPO_ROOT/fuzz"

# Fills fuzz/corpus/<target> with the repository's inputs for it (again on every run: cheap,
# and a corpus deleted by hand comes back seeded).
seed_corpus() {
  local target=$1 corpus=$REPO_ROOT/fuzz/corpus/$1
  mkdir -p "$corpus"
  case "$target" in
    thoth_record) seed_thoth_records "$corpus" ;;
    solver_document)
      for file in "$REPO_ROOT"/tests/data/documents/{solver,adviser,invalid}/*.json; do
        cp "$file" "$corpus/seed-$(basename "$file")"
      done
      ;;
    osv_advisory)
      for file in "$REPO_ROOT"/fuzz/seeds/osv/*.json; do cp "$file" "$corpus/seed-$(basename "$file")"; done
      ;;
  esac
  # The kept regression inputs are seeds too.
  for file in "$REPO_ROOT/tests/fixtures/fuzz/$target"/*; do
    [ -f "$file" ] && cp "$file" "$corpus/regression-$(basename "$file")"
  done
  return 0
}

# thoth_record reads its first byte as the message type (an index into MessageKind::ALL) and
# the rest as the record value. The golden files give one record per line of each
# `.expected.jsonl`; the type is the entry's topic, whose index in the `full` file (which lists
# the 19 types in MessageKind::ALL order) is the type's index.
seed_thoth_records() {
  local corpus=$1 golden=$REPO_ROOT/events/tests/golden
  local topics_of='s/^ *"topic_name": "\(.*\)",\{0,1\}$/\1/p'
  local -a order topics records
  mapfile -t order < <(sed -n "$topics_of" "$golden/thoth-messages.full.json")
  [ ${#order[@]} -eq 19 ] || die "expected 19 topics in thoth-messages.full.json, found ${#order[@]}"
  for file in "$golden"/thoth-messages.*.expected.jsonl; do
    local name
    name=$(basename "$file" .expected.jsonl)
    mapfile -t topics < <(sed -n "$topics_of" "$golden/$name.json")
    mapfile -t records <"$file"
    [ ${#topics[@]} -eq ${#records[@]} ] || die "$name: ${#topics[@]} topics but ${#records[@]} records"
    for i in "${!records[@]}"; do
      local kind=-1
      for k in "${!order[@]}"; do [ "${order[$k]}" = "${topics[$i]}" ] && kind=$k; done
      [ "$kind" -ge 0 ] || die "$name: unknown topic ${topics[$i]}"
      # shellcheck disable=SC2059 # the format is built on purpose: one byte, the kind
      { printf "\\x$(printf '%02x' "$kind")"; printf '%s' "${records[$i]}"; } >"$corpus/seed-$name-$i"
    done
  done
}

say "building the fuzz targets (AddressSanitizer, debug assertions) in $CARGO_TARGET_DIR"
cargo fuzz build --sanitizer address

failed=()
summary=()
for target in "${targets[@]}"; do
  seed_corpus "$target"
  log=$logs/$target.log
  say "fuzzing $target for ${seconds}s (log: $log)"
  status=0
  cargo fuzz run --sanitizer address "$target" "$REPO_ROOT/fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  if [ "$status" -eq 0 ]; then
    summary+=("$(printf '%-16s %12s executions  %8s exec/s  no crash' "$target" "${executions:-?}" "${rate:-?}")")
  else
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    summary+=("$(printf '%-16s %12s executions  %8s exec/s  CRASHED: %s' "$target" "${executions:-?}" "${rate:-?}" "${artifact:-see $log}")")
    failed+=("$target")
  fi
done

for line in "${summary[@]}"; do say "$line"; done
[ ${#failed[@]} -eq 0 ] || die "crashes in: ${failed[*]} (inputs in fuzz/artifacts/<target>, logs in $logs)"
