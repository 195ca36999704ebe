#!/usr/bin/env bash
# Run every benchmark with quick defaults; each prints JSON, saved as bench/results/<name>.json
# (stderr beside it as <name>.log). A missing benchmark is skipped; a failing one is reported
# and the others still run. Exit status: 0 if all that exist succeeded, 1 otherwise.
#
#   bench/run_all.sh                 # quick: a few minutes on 2 CPU cores
#   BENCH_FULL=1 bench/run_all.sh    # longer: 1k/20k/100k shots, longer videos (tens of minutes)
#   (1M shots: python bench/search.py --sizes 1000000 --backends edge --exact-below 2000000)
#   PYTHON=python3 bench/run_all.sh  # another interpreter (default: .venv/bin/python)
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT=bench/results
mkdir -p "$OUT"

if [[ "${BENCH_FULL:-0}" == 1 ]]; then
    INGEST_ARGS=()
    SEGMENT_ARGS=()
    CUTS_ARGS=(--seconds 60)
    STORE_ARGS=(--sizes 1000,20000,100000 --skip-local-above 20000)
    SEARCH_ARGS=(--sizes 1000,20000,100000 --local-max 20000)
    ENCODERS_ARGS=(--rounds 5)
    CATALOG_ARGS=()
    CHANNELS_QUERY_ARGS=(--shots 20000 --queries 200)
    KNOWN_ITEM_ARGS=(--sizes 2000,20000,100000 --scan-videos 250)
    HOSTILE_ARGS=()
    EVAL_MEMORY_ARGS=(--lines 1000,100000)
else
    INGEST_ARGS=(--quick)
    SEGMENT_ARGS=(--quick --repeat 1)
    CUTS_ARGS=(--seconds 20 --rounds 1)
    STORE_ARGS=(--sizes 1000,20000 --skip-local-above 1000 --queries 50)
    SEARCH_ARGS=(--sizes 1000,10000 --local-max 1000 --queries 100 --e2e-queries 5 --encoder-queries 10
                 --text-queries 10)
    ENCODERS_ARGS=(--rounds 2 --models ViT-B-16-SigLIP2,ViT-B-32-SigLIP2-256,ViT-L-14)
    CATALOG_ARGS=(--json-videos 10000 --server-videos 2000 --job-items 2000 --quick)
    CHANNELS_QUERY_ARGS=(--shots 5000 --queries 50)
    KNOWN_ITEM_ARGS=(--sizes 2000,10000 --scan-videos 100)
    HOSTILE_ARGS=(--quick)
    EVAL_MEMORY_ARGS=(--lines 200,2000)
fi

failed=()
run() {  # run NAME ARGS...
    local name=$1 script=bench/$1.py
    shift
    if [[ ! -f $script ]]; then
        echo "skip  $name ($script does not exist)"
        return
    fi
    local started=$SECONDS
    if "$PYTHON" "$script" "$@" >"$OUT/$name.json.tmp" 2>"$OUT/$name.log"; then
        mv "$OUT/$name.json.tmp" "$OUT/$name.json"
        echo "ok    $name ($((SECONDS - started)) s) -> $OUT/$name.json"
    else
        rm -f "$OUT/$name.json.tmp"
        failed+=("$name")
        echo "FAIL  $name ($((SECONDS - started)) s), see $OUT/$name.log"
    fi
}

run encoders "${ENCODERS_ARGS[@]}"
run ingest "${INGEST_ARGS[@]}"
run segment "${SEGMENT_ARGS[@]}"
run cuts "${CUTS_ARGS[@]}"
run store "${STORE_ARGS[@]}"
run search "${SEARCH_ARGS[@]}" "${SEARCH_ARGS[@]}"
run catalog "${CATALOG_ARGS[@]}"
run channels_query "${CHANNELS_QUERY_ARGS[@]}"
# the text channels on the real benchmark archive (tens of minutes on 2 cores: full runs only)
[[ "${BENCH_FULL:-0}" == 1 ]] && run channels_archive --force
run known_item "${KNOWN_ITEM_ARGS[@]}"
run hostile "${HOSTILE_ARGS[@]}"
run eval_memory "${EVAL_MEMORY_ARGS[@]}"
# bench/reliability.py (searchers, kills, diskfull) runs by hand: see its docstring

if ((${#failed[@]})); then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
