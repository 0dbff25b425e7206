#!/usr/bin/env bash
# Class-conditional generation on Fashion-MNIST (padded to 32x32): a Λ24 and a BSQ-18
# multi-scale tokenizer, generators with the same budget, guidance and top-k sweeps, and the
# head comparison on Leech (full 196,560-way softmax vs the factorized d-it head).
#
# Every number in docs/results.md ("## Generator") comes from this script. The defaults are
# the full protocol; the environment variables below shrink it (the reduced run recorded in
# docs/results.md sets them, and says so).
#
#   OUT=runs/generator TOK_STEPS=5000 VAR_STEPS=5000 HEAD_STEPS=2000 PER_CLASS=100 \
#       bash experiments/var_fmnist.sh
set -euo pipefail

OUT=${OUT:-runs/generator}
LATTIQ=${LATTIQ:-"python -m lattiq.cli"}
TOK_STEPS=${TOK_STEPS:-5000}         # tokenizer steps (batch TOK_BATCH)
TOK_BATCH=${TOK_BATCH:-64}
VAR_STEPS=${VAR_STEPS:-5000}         # generator steps (batch VAR_BATCH), same for both codes
VAR_BATCH=${VAR_BATCH:-64}
HEAD_STEPS=${HEAD_STEPS:-2000}       # head comparison: steps of each Leech head
CLS_EPOCHS=${CLS_EPOCHS:-4}
PER_CLASS=${PER_CLASS:-100}          # generated images per class per setting
REAL_LIMIT=${REAL_LIMIT:-10000}      # reference (test) images
GUIDANCE=${GUIDANCE:-1,1.5,2,3}
TOPK_LEECH=${TOPK_LEECH:-0,100,1000,10000}
TOPK_BSQ=${TOPK_BSQ:-0}              # the per-bit head has no top-k (documented)
VAR_MODEL=${VAR_MODEL:-"--set model.depth=4 --set model.width=128 --set model.heads=4"}
VAR_OPT=${VAR_OPT:-"--set optim.lr=1e-3"}
SCALES=${SCALES:-"[1,2,4]"}          # 32 px, patch 8: a 4x4 token grid, 21 tokens per image

mkdir -p "$OUT"

# 1. the feature network of the metrics (made here, never downloaded)
[ -f "$OUT/fmnist_classifier.safetensors" ] || \
  $LATTIQ fmnist-classifier --out "$OUT/fmnist_classifier.safetensors" --epochs "$CLS_EPOCHS"

# 2. two multi-scale tokenizers, identical but for the code
for code in leech bsq-18; do
  [ -f "$OUT/tok_$code/checkpoints/latest" ] || \
  $LATTIQ train-tokenizer --preset tiny --out "$OUT/tok_$code" --no-progress \
    --set data.name=fashion-mnist --set model.channels=1 --set model.patch_size=8 \
    --set model.quantizer.code=$code --set "model.quantizer.scales=$SCALES" \
    --set steps="$TOK_STEPS" --set batch_size="$TOK_BATCH" --set schedule=fast \
    --set ckpt_every="$TOK_STEPS" --set image_every="$TOK_STEPS"
done

# 3. generators, same budget: Λ24 with the d-it head, BSQ-18 with the per-bit head
train_var() {  # name tokenizer head steps
  [ -f "$OUT/$1/checkpoints/latest" ] || \
  $LATTIQ train-var --tokenizer "$OUT/$2" --match-tokenizer --out "$OUT/$1" --no-progress \
    $VAR_MODEL $VAR_OPT --set model.head="$3" --set steps="$4" --set batch_size="$VAR_BATCH" \
    --set schedule=fast --set data.cache_dir="$OUT/token_cache" \
    --set ckpt_every="$4" --set sample_every="$4"
}
train_var var_leech_dit tok_leech dit "$VAR_STEPS"
train_var var_bsq_bits tok_bsq-18 bits "$VAR_STEPS"

# 4. head comparison on Leech: full softmax (chunked CE + Z-loss) vs d-it, same budget
train_var head_leech_full tok_leech full "$HEAD_STEPS"
train_var head_leech_dit tok_leech dit "$HEAD_STEPS"

# 5. evaluation sweeps (guidance x top-k) and sample grids
evaluate() {  # run top-k-list
  $LATTIQ eval-var "$OUT/$1" --classifier "$OUT/fmnist_classifier.safetensors" \
    --per-class "$PER_CLASS" --real-limit "$REAL_LIMIT" --sweep-guidance "$GUIDANCE" \
    --sweep-top-k "$2" --out "$OUT/eval_$1" --json > "$OUT/eval_$1.json"
}
evaluate var_leech_dit "$TOPK_LEECH"
evaluate var_bsq_bits "$TOPK_BSQ"
evaluate head_leech_full 0
evaluate head_leech_dit 0
# reference rows: real images and tokenizer reconstructions, same count and features
${PYTHON:-python} experiments/var_fmnist_reference.py --out "$OUT" --per-class "$PER_CLASS" \
  --real-limit "$REAL_LIMIT" --tokenizers "$OUT/tok_leech" "$OUT/tok_bsq-18"
for run in var_leech_dit var_bsq_bits; do
  $LATTIQ sample "$OUT/$run" --per-class 8 --guidance 2 --out "$OUT/samples_$run"
done
echo "done: $OUT"
