#!/usr/bin/env bash
# jlens against Jlama 0.8.4 (Maven Central) on one random-weight Llama model, greedy decoding at
# batch 1, side by side in one run: prefill and decode tokens/s as each engine times itself. The
# model is jlens init's (bf16, as a real checkpoint ships) with Llama 3's tokenizer beside it, which
# Jlama needs; both engines read the same files, weights as stored, unprocessed.
#
#   bench/vs-jlama.sh [PRESET (llama-3.2-1b)] [PROMPT_WORDS (100)] [NEW_TOKENS (32)] [DIR (a new temporary directory)]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
. "$root/scripts/jdk.sh"
find_jdk25
require_maven
preset="${1:-llama-3.2-1b}" words="${2:-100}" new_tokens="${3:-32}" work="${4:-$(mktemp -d)}"
tokenizer="$root/../shared/tokenizers/llama-3"
[ -f "$tokenizer/tokenizer.json" ] || { echo "vs-jlama: Llama 3's tokenizer is not at $tokenizer." >&2; exit 1; }
model="$work/llama-$preset"
if [ ! -f "$model/model.safetensors" ]; then
    "$root/jlens" init --arch llama --preset "$preset" --dtype bfloat16 --out "$model" >/dev/null
fi
cp "$tokenizer/tokenizer.json" "$tokenizer/tokenizer_config.json" "$model/"
# Jlama reads eos_token_id, which a real Llama 3 config.json has and jlens init's does not write.
python3 - "$model/config.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config.setdefault("eos_token_id", 128001)
json.dump(config, open(path, "w"), indent=2)
PY

jlama="$root/bench/jlama"
mvn -q -B -f "$jlama/pom.xml" package dependency:copy-dependencies -DincludeScope=runtime >/dev/null
echo "== Jlama 0.8.4 ($preset, bf16 weights, float32 activations) =="
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -cp "$jlama/target/classes:$jlama/target/dependency/*" JlamaGenerate "$model" "$words" "$new_tokens" 3 2>&1 \
    | grep -v '^WARNING' | tee "$work/jlama.txt"
prompt_tokens=$(sed -n 's/^jlama run 0: prompt \([0-9]*\) tokens.*/\1/p' "$work/jlama.txt")
[ -n "$prompt_tokens" ] || { echo "vs-jlama: Jlama printed no timing." >&2; exit 1; }

echo "== jlens ($preset, bf16 weights, float32 activations, the same $prompt_tokens prompt tokens) =="
"$root/jlens" bench generate --model "$model" --process none --prompt-tokens "$prompt_tokens" --new-tokens "$new_tokens" --repeats 3 \
    | tee "$work/jlens.txt"

jlama_decode=$(sed -n 's/.*new tokens in [0-9]* ms (\([0-9.]*\) tokens\/s).*/\1/p' "$work/jlama.txt" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
jlama_prefill=$(sed -n 's/.*tokens in [0-9]* ms (\([0-9.]*\) tokens\/s);.*/\1/p' "$work/jlama.txt" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
jlens_decode=$(sed -n 's/^RESULT generate \([0-9.]*\) tokens\/s/\1/p' "$work/jlens.txt")
jlens_prefill=$(sed -n 's/^prefill of [0-9]* tokens: \([0-9.]*\) tokens\/s.*/\1/p' "$work/jlens.txt")
awk -v jd="$jlama_decode" -v jp="$jlama_prefill" -v ld="$jlens_decode" -v lp="$jlens_prefill" 'BEGIN {
    printf "decode (median of 3):  jlens %.2f tokens/s, Jlama %.2f tokens/s: jlens %.2fx\n", ld, jd, ld / jd
    printf "prefill (median of 3): jlens %.1f tokens/s, Jlama %.1f tokens/s: jlens %.2fx\n", lp, jp, lp / jp
}'
