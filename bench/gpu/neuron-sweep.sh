#!/usr/bin/env bash
# Notebook 003's neuron sweep (every neuron of the last MLP patched from the clean run, many to a
# batched forward) on a random gpt2-large-shaped model, on the CPU and then on the GPU.
# JLENS names the jlens command (default ./jlens); the model directory is made on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
jlens=(${JLENS:-./jlens})
model="${1:-${TMPDIR:-/tmp}/jlens-gpt2-large-random}"
[ -f "$model/model.safetensors" ] || "${jlens[@]}" init --arch gpt2 --preset large --out "$model"  # GPT-2's tokenizer ships with jlens
for device in cpu cuda; do
  start=$(date +%s.%N)
  "${jlens[@]}" bench neurons --model "$model" --device "$device"
  python3 -c "print(f'$device: whole command {$(date +%s.%N) - $start:.1f} s')"
done
