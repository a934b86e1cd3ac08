#!/usr/bin/env bash
# Fuzzes every target (or the ones named) for $RUNS executions each (default 1,000,000), one
# after another, with cargo-fuzz/libFuzzer on the stable toolchain (RUSTC_BOOTSTRAP=1).
#
#   fuzz/run.sh                      # all targets, 1M executions each
#   RUNS=5000000 fuzz/run.sh config  # one target, longer
#   RUNS=-1 MAX_TIME=600 fuzz/run.sh www_authenticate   # ten minutes instead of a count
#
# The growing corpus is kept in fuzz/corpus/<target> (git-ignored); seeds/<target> and
# regressions/<target> are read, never written. A crash is saved under fuzz/artifacts/<target>/
# and stops that target with a non-zero exit. Logs go to fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"

ALL=(request config docker_config www_authenticate token_response registry_url netrc pattern
  kubernetes_secret rkt_auth mesos_archive aws_ini google_credentials azure_token)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
runs=${RUNS:-1000000}
max_time=${MAX_TIME:-0}
export RUSTC_BOOTSTRAP=1 # libfuzzer-sys needs -Zsanitizer and sancov flags; stable allows them so

cargo fuzz build

mkdir -p logs
summary=()
for t in "${targets[@]}"; do
  case $t in
    www_authenticate) dict=dicts/www_authenticate.dict ;;
    registry_url) dict=dicts/url.dict ;;
    netrc) dict=dicts/netrc.dict ;;
    pattern) dict=dicts/pattern.dict ;;
    kubernetes_secret) dict=dicts/kubernetes.dict ;;
    mesos_archive) dict=dicts/mesos.dict ;;
    aws_ini) dict=dicts/ini.dict ;;
    *) dict=dicts/json.dict ;;
  esac
  max_len=4096
  [ "$t" = config ] && max_len=16384
  # A pattern and a host or path are short; the reference glob compiles a regex per input.
  [ "$t" = pattern ] && max_len=512
  mkdir -p "corpus/$t"
  dirs=("corpus/$t" "seeds/$t")
  [ -d "regressions/$t" ] && dirs+=("regressions/$t")
  echo "== $t: $runs runs" >&2
  start=$(date +%s)
  cargo fuzz run "$t" "${dirs[@]}" -- \
    -runs="$runs" -max_total_time="$max_time" -max_len="$max_len" -dict="$dict" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"logs/$t.log" 2>&1 || {
    echo "!! $t failed; see fuzz/logs/$t.log and fuzz/artifacts/$t/" >&2
    tail -40 "logs/$t.log" >&2
    exit 1
  }
  secs=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "logs/$t.log")
  cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE.*\(cov: [0-9]*\).*/\1/p' "logs/$t.log")
  summary+=("$t: $execs executions in ${secs}s ($rate exec/s), $cov, no crash")
  echo "${summary[-1]}" >&2
done
printf '%s\n' "${summary[@]}"
