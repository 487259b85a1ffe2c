#!/bin/bash
# One short GPU session: continue the pack's SAGAN run (and SASR-Net's) on a CUDA machine, then hand the
# resumable checkpoints back. The recipe, width and batch stay those of the CPU run, so the checkpoint moves
# back and forth between machines and stays small enough (14 MB for the 64 px, width-16 SAGAN) to return.
#
#   bash models/train/gpu_session.sh OUT MINUTES [RUNS]
#
# RUNS (default runs/) holds sagan64/ and sasr_x4/ with their last.ckpt from earlier sessions (a missing
# one starts fresh); data/paintings64.npz and data/sasr.npz are the bundles (`python -m models.data`, and
# models.train sasr --build-from). Both trainings share the GPU for MINUTES; OUT receives
# sagan64_last.ckpt, sasr_x4_last.ckpt and both logs. Back home, copy them into the run folders and
# resume there (CPU or GPU): `python -m models.train sagan --out RUNS/sagan64 ...` picks up at the
# saved step. Without CUDA it refuses, unless GPU_SESSION_DEVICE=cpu (a smoke test of the script).
#
# The width-16 run has plateaued on the CPU (24k-36k steps within noise, MODEL_CARD.md), so a GPU's minutes
# buy most as a wider network: SAGAN_WIDTH=32 SAGAN_BATCH=64 starts (or continues) RUNS/sagan64_w32 instead,
# whose full checkpoint is about 4x larger. SASR_DETAIL_WEIGHT=0.5 continues SASR with the detail loss (the wall
# upscaler's base); the default, L1 alone, is the recipe of the pack's fidelity model sasr_x4.onnx.
set -euo pipefail
OUT=${1:?usage: gpu_session.sh OUT MINUTES [RUNS]}
MINUTES=${2:?usage: gpu_session.sh OUT MINUTES [RUNS]}
RUNS=${3:-runs}
PY=${PYTHON:-python3}
DEVICE=${GPU_SESSION_DEVICE:-cuda}
mkdir -p "$OUT" "$RUNS"
if [ "$DEVICE" = cuda ] && ! "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  echo "error: no CUDA device (set GPU_SESSION_DEVICE=cpu for a smoke test)" >&2
  exit 2
fi
for bundle in data/paintings64.npz data/sasr.npz; do
  [ -f "$bundle" ] || { echo "error: $bundle is missing; build it first (docs/models.md)" >&2; exit 2; }
done
export PYTHONUNBUFFERED=1

# The SAGAN: the pack's recipe (models/train/sagan.py defaults: two D steps per G step, 10x rate on the
# conditional parameters, DiffAugment), width 16, self-attention at 16x16, validation in the encoder space,
# and the mode-seeking term at 0.1 that the pack's last 2,500 steps used (SAGAN_MODE_SEEKING=0 leaves it out).
# SAGAN_MIN_CHANNELS=C instead widens the pack's generator (a floor of C channels on every block, models.widen;
# the pack's has 32, so 64 on a GPU) and continues it in RUNS/sagan64_min$C: more capacity without giving up
# the CPU hours already trained.
WIDTH=${SAGAN_WIDTH:-16}
SAGAN_RUN=sagan64
[ "$WIDTH" = 16 ] || SAGAN_RUN=sagan64_w$WIDTH
WIDEN=()
if [ -n "${SAGAN_MIN_CHANNELS:-}" ]; then
  SAGAN_RUN=sagan64_min$SAGAN_MIN_CHANNELS
  WIDEN=(--widen-from assets/models/checkpoints/sagan.ckpt --g-min-channels "$SAGAN_MIN_CHANNELS")
fi
"$PY" -m models.train sagan --data data/paintings64.npz --out "$RUNS/$SAGAN_RUN" --device "$DEVICE" "${WIDEN[@]}" \
  --g-channels "$WIDTH" --d-channels "$WIDTH" --batch-size "${SAGAN_BATCH:-16}" --attention-at 16 --steps 100000 --every 2000 \
  --snapshot-every 0 --encoder assets/models/encoder.onnx --mode-seeking "${SAGAN_MODE_SEEKING:-0.1}" \
  --quiet --minutes "$MINUTES" \
  > "$OUT/$SAGAN_RUN.log" 2>&1 &
sagan=$!
# SASR-Net x4, the shipped architecture (48 channels, 3 groups x 4 blocks); its cosine schedule spans
# SASR_STEPS (default 60000) over as many sessions as that takes.
"$PY" -m models.train sasr --data data/sasr.npz --out "$RUNS/sasr_x4" --device "$DEVICE" \
  --channels 48 --groups 3 --blocks 4 --steps "${SASR_STEPS:-60000}" --every 5000 --val-limit 60 --quiet --minutes "$MINUTES" \
  --detail-weight "${SASR_DETAIL_WEIGHT:-0}" \
  > "$OUT/sasr_x4.log" 2>&1 &
sasr=$!
status=0
wait $sagan || status=$?
wait $sasr || status=$?
for run in "$SAGAN_RUN" sasr_x4; do
  [ -f "$RUNS/$run/last.ckpt" ] && cp "$RUNS/$run/last.ckpt" "$OUT/${run}_last.ckpt"
done
tail -n 3 "$OUT/$SAGAN_RUN.log" "$OUT/sasr_x4.log"
exit $status
