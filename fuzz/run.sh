#!/usr/bin/env bash
# Run fuzz targets for a time budget each, side by side:
#   fuzz/run.sh SECONDS [TARGET ...]     (targets: text jsonl wrapped objects; default all)
# Crashes land in fuzz/crashes/<target>/; the libFuzzer log in fuzz/logs/<target>.log.
# Needs: pip install -e '.[fuzz]'
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:?seconds per target}
shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(text jsonl wrapped objects)
mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "crashes/$t"
    nice -n 10 python "fuzz_$t.py" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=3000 \
        -max_len=8192 -artifact_prefix="crashes/$t/" >"logs/$t.log" 2>&1 &
done
wait
for t in "${targets[@]}"; do
    echo "$t: $(grep -aE 'DONE|Test unit written' "logs/$t.log" | tail -1)"
    echo "$t: crashes: $(find "crashes/$t" -type f | wc -l)"
done
