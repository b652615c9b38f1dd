#!/usr/bin/env bash
# The `paper` preset on MNIST on a lent GPU, as one prepared call that fits a session's device time (the `device`
# entry: 15 minutes a session, start included; at most 10 minutes a command). Each cell is
# `coredistill reproduce --preset paper` (the papers' budgets and evaluation, ours vs published at the end); cells
# run in the order given until the budget is spent, so put the one that matters most first.
#
# Before the call, here (the device machine has no network and a bare file system):
#   mkdir -p .device-data/mnist && cp ~/.cache/coredistill/mnist/mnist.pkl.gz .device-data/mnist/
#   echo /.device-data/ >> .git/info/exclude
# Then run it through the device entry with carry [".device-data"], e.g.
#   command: bash benchmarks/device_paper_check.sh 480 dm:1 dc:1      timeout_s: 560
# and give the machine back afterwards. The outputs come back from $OUT: gpu.txt (the card), one log per cell with
# its ours-vs-published table and its manifest, and summary.txt. Locally (CPU) the script is checked with PRESET=tiny DATASET=digits
# (tests/bench/test_device_script.py).
set -uo pipefail
budget="${1:-480}"  # seconds for all cells together
shift || true
cells=("${@:-dm:1}")
out="${OUT:-$(mktemp -d)}"
preset="${PRESET:-paper}"
dataset="${DATASET:-mnist}"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export COREDISTILL_DATA="${COREDISTILL_DATA:-$PWD/.device-data}"
python="${PYTHON:-python3}"
runs="${RUNS:-/tmp/device-runs}"  # a finished cell here is read back, not run again
start=$(date +%s)
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else "-")'
} > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
: > "$out/summary.txt"
for cell in "${cells[@]}"; do
  method="${cell%%:*}"
  ipc="${cell##*:}"
  left=$((budget - ($(date +%s) - start)))
  if ((left < 30)); then
    echo "$cell: not run (budget spent)" | tee -a "$out/summary.txt"
    continue
  fi
  log="$out/$method-$dataset-ipc$ipc.log"
  t0=$(date +%s)
  timeout "$left" "$python" -m coredistill reproduce --method "$method" --dataset "$dataset" --ipc "$ipc" \
    --preset "$preset" --quiet --out "$runs/$method-$ipc" > "$log" 2>&1
  rc=$?
  echo "$cell: exit $rc after $(($(date +%s) - t0)) s$( ((rc == 124)) && echo ' (budget spent: no result)')" \
    | tee -a "$out/summary.txt"
  tail -n 12 "$log"
  # the run's provenance (settings, seeds, timings, curve) beside its log; the images stay there
  cp "$runs/$method-$ipc/manifest.json" "$out/$method-$dataset-ipc$ipc.manifest.json" 2>/dev/null || true
done
