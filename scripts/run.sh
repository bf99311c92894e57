#!/usr/bin/env bash
# Start the action server, the Rasa server and the chat page together, in the
# foreground. Ctrl-C or SIGTERM stops all three. `run.sh shell` talks in the
# terminal instead of starting the web servers.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}
# The action server has no authentication: loopback only unless ACTION_SERVER_HOST says otherwise.
ACTION_SERVER_HOST=${ACTION_SERVER_HOST:-127.0.0.1}
MODEL=${MODEL:-models/jdm.tar.gz}
export ACTION_SERVER_URL=http://127.0.0.1:${ACTIONS_PORT}/webhook
# Pages (origins) whose browsers may call the Rasa server, separated by spaces.
CORS_ORIGINS=${CORS_ORIGINS:-http://localhost:${WEB_PORT} http://127.0.0.1:${WEB_PORT}}
# Rasa's HTTP API (/conversations/<id>/tracker, /model, ...) reads and changes every
# conversation: off unless RASA_ENABLE_API=true, and then only with RASA_AUTH_TOKEN.
RASA_ENABLE_API=${RASA_ENABLE_API:-false}
RASA_AUTH_TOKEN=${RASA_AUTH_TOKEN:-}
# No usage data leaves the machine; quiet TensorFlow and SQLAlchemy's 2.0 notice (as the Makefile does).
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
# One BLAS thread per server: idle OpenBLAS workers spin after each small
# product and doubled the CPU a message costs (README, Performance).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export SQLALCHEMY_SILENCE_UBER_WARNING=1
mode=${1:-run}

case " $CORS_ORIGINS " in
  *" * "*)
    echo "error: CORS_ORIGINS must list the pages allowed to use the assistant; '*' would let any web site use it." >&2
    exit 1 ;;
esac
api_args=()
case "$RASA_ENABLE_API" in
  true | 1 | yes)
    if [ "${#RASA_AUTH_TOKEN}" -lt 16 ]; then
      echo "error: RASA_ENABLE_API=true needs RASA_AUTH_TOKEN, a secret of at least 16 characters (for example: openssl rand -hex 24). The API would let anyone read every conversation." >&2
      exit 1
    fi
    api_args=(--enable-api --auth-token "$RASA_AUTH_TOKEN") ;;
  false | 0 | no | "") ;;
  *)
    echo "error: RASA_ENABLE_API must be true or false, not '$RASA_ENABLE_API'." >&2
    exit 1 ;;
esac

# Log rotation and retention (JDM_LOG_MAX_MB, JDM_LOG_RETENTION_DAYS): a wrong value stops here.
"$BIN/python" scripts/log_files.py --check

# JDM_PROFILE=production: PostgreSQL, Redis, RASA_SERVERS Rasa servers behind nginx
# (scripts/production.py; settings in the README). The checks above apply to it too.
JDM_PROFILE=${JDM_PROFILE:-default}
case "$JDM_PROFILE" in
  default) ;;
  production)
    [ "$mode" = run ] || { echo "error: 'run.sh $mode' has no production profile; use JDM_PROFILE=default." >&2; exit 1; }
    # shellcheck disable=SC2086
    exec "$BIN/python" scripts/production.py --model "$MODEL" --cors $CORS_ORIGINS --api "${api_args[@]}" ;;
  *)
    echo "error: JDM_PROFILE must be default or production, not '$JDM_PROFILE'." >&2
    exit 1 ;;
esac

# Rasa processes answering on RASA_PORT (Sanic workers, each with the model
# loaded: about 750 MB each). One conversation's messages still go one at a
# time, whichever process gets them (the lock store in endpoints.yml).
RASA_WORKERS=${RASA_WORKERS:-2}
case "$RASA_WORKERS" in
  "" | *[!0-9]* | 0*)
    echo "error: RASA_WORKERS must be a whole number of 1 or more (Rasa processes), not '$RASA_WORKERS'." >&2
    exit 1 ;;
esac

port_free() {
  "$BIN/python" -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('$HOST', int(sys.argv[1])))" "$1" 2>/dev/null
}
ports="$ACTIONS_PORT"
[ "$mode" = run ] && ports="$ports $RASA_PORT $WEB_PORT"
for port in $ports; do
  if ! port_free "$port"; then
    echo "error: port $port is already in use (another 'make run'?). Stop that program, or choose other ports: RASA_PORT=, ACTIONS_PORT=, WEB_PORT=." >&2
    exit 1
  fi
done

mkdir -p var
pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "Stopping..."
    # The Rasa server's worker processes, for the last resort below: a worker
    # still loading the model runs the SIGTERM handler it inherited from
    # Sanic's main process, which does not stop it.
    workers=()
    [ -n "${rasa_pid:-}" ] && mapfile -t workers < <(pgrep -P "$rasa_pid" 2>/dev/null || true)
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 40); do
      kill -0 "${pids[@]}" "${workers[@]}" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL "${pids[@]}" "${workers[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

# rasa_sdk 3.6 has no host option: it binds SANIC_HOST (its own default: every interface).
SANIC_HOST=$ACTION_SERVER_HOST "$BIN/rasa" run actions --actions actions --port "$ACTIONS_PORT" &
pids+=($!)

if [ "$mode" = shell ]; then
  "$BIN/rasa" shell --model "$MODEL" --endpoints endpoints.yml
  exit 0
fi

# shellcheck disable=SC2086
SANIC_WORKERS=$RASA_WORKERS "$BIN/rasa" run --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml \
  --interface "$HOST" --port "$RASA_PORT" --cors $CORS_ORIGINS "${api_args[@]}" &
rasa_pid=$!
pids+=("$rasa_pid")
# The chat page, with security headers and a Content-Security-Policy letting the widget talk to this Rasa server only.
# Its log (each request's address and time) goes to var/web.log, rotated and purged (scripts/log_files.py).
"$BIN/python" scripts/web_server.py "$WEB_PORT" --bind "$HOST" \
  --rasa "http://localhost:$RASA_PORT" "http://127.0.0.1:$RASA_PORT" > >(exec "$BIN/python" scripts/log_files.py var/web.log) 2>&1 &
pids+=($!)

(
  # Ready means both servers answer: the first message of a conversation
  # already needs the action server (the disclaimer at session start).
  for url in "http://$ACTION_SERVER_HOST:$ACTIONS_PORT/health" "http://$HOST:$RASA_PORT/"; do
    until "$BIN/python" -c "import urllib.request; urllib.request.urlopen('$url', timeout=2)" 2>/dev/null; do
      sleep 1
    done
  done
  echo
  page="http://localhost:$WEB_PORT"
  # The demo page talks to port 5005 unless told otherwise.
  [ "$RASA_PORT" = 5005 ] || page="$page/?server=http://localhost:$RASA_PORT"
  echo "  The JDM assistant is ready. Open the chat page: $page"
  echo "  (Rasa server http://$HOST:$RASA_PORT, action server http://$ACTION_SERVER_HOST:$ACTIONS_PORT; Ctrl-C stops all)"
  echo
) &
announcer=$!

# Stop everything if any server dies.
servers=("${pids[@]}")
pids+=("$announcer")
wait -n "${servers[@]}"
echo "error: a server stopped unexpectedly; see the messages above." >&2
exit 1
