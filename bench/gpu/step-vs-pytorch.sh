#!/usr/bin/env bash
# `jlens bench step --device cuda` beside PyTorch eager (bench/pytorch/step.py) on the same GPU, in
# one run: GPT-2 small's shape (random weights), batch 8 x 1024, float32, forward+backward.
# Prints each side's median step and the ratio jlens / PyTorch, for eager and SDPA attention.
# JLENS names the jlens command (default ./jlens); the model directory is made on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
jlens=(${JLENS:-./jlens})
model="${1:-${TMPDIR:-/tmp}/jlens-gpt2-small-random}"
[ -f "$model/model.safetensors" ] || "${jlens[@]}" init --arch gpt2 --preset small --out "$model"
median() { sed -n 's/.*median \([0-9.]*\) s per step.*/\1/p'; }
ours=$("${jlens[@]}" bench step --model "$model" --process none --device cuda --batch 8 --seq 1024 --steps 10 --warmup 3 | tee /dev/stderr | median)
for attention in eager sdpa; do
  theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 bench/pytorch/step.py --attention "$attention" --steps 10 --warmup 3 | tee /dev/stderr | median)
  python3 -c "print(f'jlens / pytorch ($attention attention): {$ours / $theirs:.2f}')"
done
