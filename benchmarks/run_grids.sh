#!/usr/bin/env bash
# Run grids one after another in the background, from a snapshot of the library, so that editing src/ while they
# run cannot change (or break) the cells in progress. Each grid resumes by cell hash (and, with checkpoint_every,
# inside its cells), and copies the cells other grids under benchmarks/results already finished (same hash: the
# same run); results land in this checkout's benchmarks/results/GRID, the log in GRID.log beside it.
#   benchmarks/run_grids.sh tune-rfad-mnist-ipc1-b tune-gm-mnist-ipc1        # one core: jobs 1, 1 thread
#   JOBS=2 benchmarks/run_grids.sh reproduce                                  # both cores
#   ONLY="variant=baseline ipc=1" benchmarks/run_grids.sh cpu                 # only those cells (bench --only)
#   benchmarks/run_grids.sh aligned-final:method=dm,method=rfad aligned-final  # a slice first, then the rest
# GRID:KEY=VALUE,... gives that grid's run its own --only filters (instead of ONLY), so one queue can run slices of
# a grid in the order wanted; each run appends to GRID.log under a dated header.
# Each call runs in its own session (process group), so `kill -- -PGID` with the group it prints stops that queue
# and nothing else started beside it.
set -euo pipefail
if [[ -z "${RUN_GRIDS_SESSION:-}" ]] && command -v setsid > /dev/null; then
  RUN_GRIDS_SESSION=1 exec setsid "$0" "$@"
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
snapshot="$(mktemp -d /tmp/coredistill-snapshot.XXXXXX)"
git -C "$root" worktree add --detach "$snapshot" HEAD >/dev/null 2>&1
cp "$root"/benchmarks/grids/*.yaml "$snapshot/benchmarks/grids/"  # grids written since the last commit too
# teachers (small; one per data set, split and setting; minutes to train) are kept under benchmarks/results/teachers/
# so that a fresh checkout does not train them again: seed the library's cache from there, keep what grids trained
teachers="$(PYTHONPATH="$snapshot/src" "$root/.venv/bin/python" -c \
  'from coredistill.data.paths import data_dir; print(data_dir() / "teachers")')"
mkdir -p "$teachers" "$root/benchmarks/results/teachers"
cp -n "$root"/benchmarks/results/teachers/teacher-*.pt "$teachers/" 2>/dev/null || true
(
  cd "$snapshot"
  keep_teachers() { cp -n "$teachers"/teacher-*.pt "$root/benchmarks/results/teachers/" 2>/dev/null || true; }
  # a teacher trained by a cell is kept as soon as it exists, not only when the grid ends (a session stopped
  # mid-grid would otherwise lose it)
  while true; do sleep 300; keep_teachers; done &
  keeper=$!
  for run in "$@"; do
    grid="${run%%:*}"
    filters="${ONLY:-}"
    if [[ "$run" == *:* ]]; then filters="${run#*:}"; filters="${filters//,/ }"; fi
    only=()
    for pair in $filters; do only+=(--only "$pair"); done
    log="$root/benchmarks/results/$grid.log"
    echo "=== $(date '+%Y-%m-%d %H:%M:%S') $grid${filters:+ (only: $filters)} from $snapshot" >> "$log"
    PYTHONPATH="$snapshot/src" "$root/.venv/bin/coredistill" bench --grid "benchmarks/grids/$grid.yaml" \
      --reuse "$root/benchmarks/results" ${only[@]+"${only[@]}"} \
      --out "$root/benchmarks/results/$grid" --jobs "${JOBS:-1}" --threads 1 >> "$log" 2>&1 \
      || echo "grid $grid: exit $?" >> "$log"
    # the report once more by this checkout's code (reports are read from the stored lines): report files added
    # since the snapshot was taken appear without a --report-only by hand; if today's code fails, the snapshot's stand
    PYTHONPATH="$root/src" "$root/.venv/bin/coredistill" bench --grid "$root/benchmarks/grids/$grid.yaml" \
      --out "$root/benchmarks/results/$grid" --report-only >> "$log" 2>&1 \
      || echo "grid $grid: the checkout's report failed (exit $?); the snapshot's report stands" >> "$log"
    keep_teachers
  done
  kill "$keeper" 2>/dev/null || true
  git -C "$root" worktree remove --force "$snapshot"
) < /dev/null > /dev/null 2>&1 &
echo "running ${*} from $snapshot (pid $!; stop the queue: kill -- -$(ps -o pgid= $$ | tr -d ' ')); logs: benchmarks/results/<grid>.log"
