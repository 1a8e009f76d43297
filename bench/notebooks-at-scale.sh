#!/usr/bin/env bash
# Each of the five experiments on a random-weight model of its notebook's shape, with the launcher's
# defaults: wall time, and peak resident memory as a multiple of the float32 bytes of the weights
# (model.safetensors, as jlens init writes it). Models and reports go to DIR (default: a new
# temporary directory); models already there are reused.
#
#   bench/notebooks-at-scale.sh [DIR]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
jlens="$root/jlens"

printf '%-22s %-22s %8s %10s %10s %8s %8s\n' experiment shape seconds "weights MB" "peak MB" "x weights" passes
run() {
    local experiment=$1 arch=$2 preset=$3 model="$work/$2-$3" out="$work/report-$1" timing="$work/time-$1"
    [ -f "$model/model.safetensors" ] || "$jlens" init --arch "$arch" --preset "$preset" --out "$model" >/dev/null
    rm -rf "$out"
    /usr/bin/time -f '%e %M' -o "$timing" "$jlens" experiment "$experiment" --model "$model" --out "$out" >"$work/stdout-$1" 2>"$work/stderr-$1" \
        || { echo "$experiment failed:"; tail -n 5 "$work/stderr-$1"; return 1; }
    local seconds kb weights passes
    read -r seconds kb <"$timing"
    weights=$(stat -c %s "$model/model.safetensors")
    passes=$(python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['counts']; print(f\"{c['forward_passes']}f/{c['backward_passes']}b\")" "$out/report.json")
    awk -v e="$experiment" -v s="$arch $preset" -v t="$seconds" -v w="$weights" -v k="$kb" -v p="$passes" \
        'BEGIN { printf "%-22s %-22s %8.1f %10.0f %10.0f %8.2f %8s\n", e, s, t, w / 1e6, k * 1024 / 1e6, k * 1024 / w, p }'
}

run gradient-attribution gpt2 small
run french-neuron gpt-neox pythia-70m
run ioi gpt2 small
run an-neuron gpt2 large
run solu-outliers solu solu-1l
