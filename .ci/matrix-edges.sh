#!/usr/bin/env bash
# The edges of the TensorFlow matrix: the oldest (tf212, Keras 2 as tf.keras)
# and the newest (tf221, Keras 3) tox environments, each running the README's
# test command and the per-spec battery, then `initcheck findings --verify`
# (every finding's reproduction against its declared versions), with wall
# times, then the summary table of the two.
#
# usage: bash .ci/matrix-edges.sh [PYTHON] [ENVS]
#   PYTHON  the interpreter to build tox with and to base the environments
#           on (default: python3.11, else python3)
#   ENVS    comma-separated tox environments (default: tf212,tf221);
#           e.g. `bash .ci/matrix-edges.sh python3.11 tf212,tf215,tf216,tf216-legacy,tf221,tf221-legacy`
#
# Works on a fresh machine with only Python: tox and tox-uv go into their own
# venv (INITCHECK_TOX_VENV, default ${TMPDIR:-/tmp}/initcheck-toxvenv), never
# into the project's environment.  Results land in .tox/results/ (ENV.xml,
# ENV.json, ENV.wall) and the table in .tox/results/matrix-edges.md.
# Extra pytest arguments go through INITCHECK_MATRIX_PYTEST_ARGS (tox posargs),
# e.g. INITCHECK_MATRIX_PYTEST_ARGS="-n 2" to use pytest-xdist.
# INITCHECK_TOX_RECREATE=1 rebuilds each environment from scratch (tox -r), so a
# stale environment (an entry point added since it was built) cannot pass by luck.
# Exit status: 0 when every environment passed (expected failures included),
# 1 otherwise; every environment runs even after one fails.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${1:-}
if [ -z "$PY" ]; then
    PY=$(command -v python3.11 || command -v python3)
fi
PY=$(command -v "$PY") || { echo "matrix-edges: no python '$1' on PATH" >&2; exit 2; }
ENVS=${2:-tf212,tf221}
TOXVENV=${INITCHECK_TOX_VENV:-${TMPDIR:-/tmp}/initcheck-toxvenv}

t0=$(date +%s)
if [ ! -x "$TOXVENV/bin/tox" ]; then
    echo "== installing tox + tox-uv into $TOXVENV"
    "$PY" -m venv "$TOXVENV" && "$TOXVENV/bin/pip" install -q 'tox>=4.11' 'tox-uv>=1' \
        || { echo "matrix-edges: could not install tox/tox-uv" >&2; exit 2; }
fi
"$TOXVENV/bin/tox" --version | head -1

cd "$ROOT"
RESULTS="$ROOT/.tox/results"
mkdir -p "$RESULTS"
status=0
summary=""
for env in ${ENVS//,/ }; do
    echo "== tox -e $env"
    rm -f "$RESULTS/$env.xml" "$RESULTS/$env.json" "$RESULTS/$env.wall"
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$TOXVENV/bin/tox" run ${INITCHECK_TOX_RECREATE:+-r} -e "$env" -x "testenv.base_python=$PY" -- ${INITCHECK_MATRIX_PYTEST_ARGS:-}
    rc=$?
    secs=$(( $(date +%s) - start ))
    echo "$secs" > "$RESULTS/$env.wall"
    summary+="$(printf '%-16s %5ss  exit %s' "$env" "$secs" "$rc")"$'\n'
    [ "$rc" -eq 0 ] || status=1
done

"$TOXVENV/bin/tox" run -e matrix -- "$RESULTS/matrix-edges.md" >/dev/null 2>&1 \
    && cat "$RESULTS/matrix-edges.md" | sed -n '/^## Environments/,/^## Battery/p' | sed '$d'
echo "== matrix edge timings (wall, including environment creation)"
printf '%s' "$summary"
echo "total ${ENVS}: $(( $(date +%s) - t0 ))s"
exit "$status"
