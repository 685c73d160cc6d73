#!/usr/bin/env bash
# A throw-away single-node Garage S3 server on loopback, for the S3 backend's tests.
#
#   scripts/garage.sh start     start it (idempotent): config, server, layout, keys, bucket, env file
#   scripts/garage.sh stop      stop the server and remove its run directory (idempotent)
#   scripts/garage.sh env       print the path of the env file to source
#   scripts/garage.sh kill      stop the server only, keeping its data (fault tests); `start`
#                               then brings the same server back with the same data and keys
#   scripts/garage.sh status    "running", "stopped" (data kept) or "absent"; exit 0 only if running
#
# The run directory is $RUSTVOL_GARAGE_DIR (default /tmp/rustvol-garage): config, metadata, data,
# logs, pid and the env file. Several servers can run at once with different run directories.
# The env file exports AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (a key that owns the bucket),
# RUSTVOL_S3_ENDPOINT, RUSTVOL_S3_BUCKET, RUSTVOL_S3_INFO (a complete rustvol info string),
# RUSTVOL_S3_DENIED_KEY_ID and RUSTVOL_S3_DENIED_SECRET (a key with no permission on the bucket).
# Secrets go only into files of the run directory (mode 600), never to standard output.
#
# Environment: RUSTVOL_GARAGE_DIR, RUSTVOL_GARAGE_BIN (default: the build of scripts/setup-garage.sh,
# installed by it when missing), RUSTVOL_S3_BUCKET (default rustvol-test),
# RUSTVOL_GARAGE_START_TIMEOUT (seconds to wait for the server, default 60).
set -euo pipefail
umask 077   # the run directory holds secrets (config, CLI log, env file)
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

DIR=${RUSTVOL_GARAGE_DIR:-/tmp/rustvol-garage}
GARAGE=${RUSTVOL_GARAGE_BIN:-$RUSTVOL_CACHE/garage-2.5.0/bin/garage}
BUCKET=${RUSTVOL_S3_BUCKET:-rustvol-test}
START_TIMEOUT=${RUSTVOL_GARAGE_START_TIMEOUT:-60}
CONF=$DIR/garage.toml
PIDFILE=$DIR/garage.pid
ENVFILE=$DIR/env
LOG=$DIR/garage.log
CLILOG=$DIR/cli.log          # output of admin commands: may hold secrets, mode 600

say() { echo "garage.sh: $*"; }
die() { echo "garage.sh: $*" >&2; exit 1; }

# The server's pid if it is running (and is our garage with our config), else nothing.
server_pid() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF"; then
    echo "$pid"
  fi
}

# Admin command; its output goes to the private CLI log, never to stdout.
g() {
  { echo "+ garage $*" | sed -E 's/(import +[^ ]+ +)[^ ]+/\1<secret>/'; } >>"$CLILOG"
  timeout 30 "$GARAGE" -c "$CONF" "$@" </dev/null >>"$CLILOG" 2>&1
}
# Admin command whose output the caller reads (standard output only).
g_out() { timeout 30 "$GARAGE" -c "$CONF" "$@" </dev/null 2>>"$CLILOG"; }

# Something listens on loopback port $1.
port_listened() {
  [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ] && return 0
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  return 1
}
# Any socket (listening, connected, TIME_WAIT) has local port $1.
port_in_use() {
  [ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ] && return 0
  port_listened "$1"
}

# A loopback TCP port nothing uses, not in the arguments.
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$(( 20000 + RANDOM % 40000 ))
    case " $* " in *" $p "*) continue ;; esac
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free loopback port found"
}

hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

write_config() {
  local api rpc
  api=$(free_port)
  rpc=$(free_port "$api")
  mkdir -p "$DIR/meta" "$DIR/data"
  chmod 700 "$DIR"
  (
    umask 077
    cat >"$CONF" <<EOF
# Written by scripts/garage.sh: a single-node test server on loopback.
metadata_dir = "$DIR/meta"
data_dir = "$DIR/data"
db_engine = "lmdb"
replication_factor = 1
metadata_fsync = false
data_fsync = false

rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$api"
EOF
  )
  echo "$api" >"$DIR/s3.port"
}

start_server() {
  local port pid deadline code
  port=$(cat "$DIR/s3.port")
  # A run directory left over from a server that was stopped: its ports must be free again.
  local p
  for p in $(grep -E '^(rpc_bind_addr|api_bind_addr)' "$CONF" | sed -E 's/.*:([0-9]+)".*/\1/'); do
    if port_listened "$p"; then
      die "port $p of $CONF is in use by something else (scripts/garage.sh stop, then start)"
    fi
  done
  setsid "$GARAGE" -c "$CONF" server </dev/null >>"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"
  deadline=$(( $(date +%s) + START_TIMEOUT ))
  # Up when the admin RPC answers and the S3 port gives an HTTP answer.
  until g status && code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/") && [ "$code" != 000 ]; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$LOG" >&2; die "the server exited (log: $LOG)"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$LOG" >&2; die "the server did not answer within ${START_TIMEOUT}s (log: $LOG)"; }
    sleep 0.3
  done
}

# Layout, keys, bucket: each step only if not done yet, so an interrupted start can be redone.
provision() {
  local node deadline out version
  # The layout: this node with a role in the current layout, or assign it and apply the next
  # version. `layout show` can fail for a moment after a start: retry, never guess.
  deadline=$(( $(date +%s) + 30 ))
  until out=$(g_out layout show) && version=$(sed -n 's/^Current cluster layout version: *\([0-9]*\).*/\1/p' <<<"$out") \
        && [ -n "$version" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || die "garage layout show does not answer (log: $CLILOG)"
    sleep 0.5
  done
  if ! sed -n '/CURRENT CLUSTER LAYOUT/,/^$/p' <<<"$out" | grep -qw dc1; then
    node=$(g_out node id -q | cut -d@ -f1)
    [[ $node =~ ^[0-9a-f]{16,}$ ]] || die "cannot read the node id (log: $CLILOG)"
    g layout assign -z dc1 -c 1G "$node" || die "layout assign failed (log: $CLILOG)"
    g layout apply --version $((version + 1)) || die "layout apply failed (log: $CLILOG)"
  fi
  # The first commands after a layout change can fail while the tables settle: retry briefly.
  deadline=$(( $(date +%s) + 30 ))
  until g key info rustvol-test-key || g key create rustvol-test-key; do
    [ "$(date +%s)" -lt "$deadline" ] || die "cannot create the key (log: $CLILOG)"
    sleep 0.5
  done
  g key info rustvol-denied-key || g key create rustvol-denied-key || die "cannot create the second key (log: $CLILOG)"
  g bucket info "$BUCKET" || g bucket create "$BUCKET" || die "cannot create bucket $BUCKET (log: $CLILOG)"
  g bucket allow --read --write --owner "$BUCKET" --key rustvol-test-key || die "bucket allow failed (log: $CLILOG)"
}

# After a restart of a provisioned server: wait until it serves the bucket again.
wait_bucket() {
  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until g bucket info "$BUCKET"; do
    [ "$(date +%s)" -lt "$deadline" ] || die "the restarted server does not serve bucket $BUCKET (log: $CLILOG)"
    sleep 0.3
  done
}

# The key ID (--key-id) or the secret (--secret-key) of key NAME, alone on stdout.
key_field() { g_out key info "$2" "$1" | tr -d '[:space:]'; }

write_env() {
  local port id secret did dsecret endpoint
  port=$(cat "$DIR/s3.port")
  endpoint="http://127.0.0.1:$port"
  id=$(key_field rustvol-test-key --key-id)
  secret=$(key_field rustvol-test-key --secret-key)
  did=$(key_field rustvol-denied-key --key-id)
  dsecret=$(key_field rustvol-denied-key --secret-key)
  [[ $id == GK* && -n $secret && $did == GK* && -n $dsecret ]] || die "cannot read the keys back (log: $CLILOG)"
  (
    umask 077
    cat >"$ENVFILE.tmp" <<EOF
# Written by scripts/garage.sh start: source it (. $ENVFILE). Test credentials, loopback only.
export AWS_ACCESS_KEY_ID='$id'
export AWS_SECRET_ACCESS_KEY='$secret'
export RUSTVOL_S3_ENDPOINT='$endpoint'
export RUSTVOL_S3_BUCKET='$BUCKET'
export RUSTVOL_S3_INFO='backend=s3;bucket=$BUCKET;endpoint=$endpoint;region=garage'
export RUSTVOL_S3_DENIED_KEY_ID='$did'
export RUSTVOL_S3_DENIED_SECRET='$dsecret'
export RUSTVOL_GARAGE_DIR='$DIR'
EOF
  )
  mv "$ENVFILE.tmp" "$ENVFILE"
}

cmd_start() {
  if [ ! -x "$GARAGE" ]; then
    [ -n "${RUSTVOL_GARAGE_BIN:-}" ] && die "$GARAGE is not an executable"
    "$RUSTVOL_ROOT/scripts/setup-garage.sh" </dev/null
  fi
  if [ -n "$(server_pid)" ] && [ -f "$ENVFILE" ]; then
    say "already running ($(sed -n 's/^export RUSTVOL_S3_ENDPOINT=//p' "$ENVFILE" | tr -d "'")); env file: $ENVFILE"
    return 0
  fi
  if [ -n "$(server_pid)" ]; then
    :   # running but not provisioned (an interrupted start): provision below
  elif [ -f "$CONF" ] && [ -f "$DIR/s3.port" ]; then
    say "restarting the server of $DIR (data kept)"
    start_server
    if [ -f "$ENVFILE" ]; then
      # Layout, keys and bucket are in its metadata already.
      wait_bucket
      say "running at $(sed -n 's/^export RUSTVOL_S3_ENDPOINT=//p' "$ENVFILE" | tr -d "'"), bucket $BUCKET; env file: $ENVFILE"
      return 0
    fi
  else
    rm -rf "$DIR"
    mkdir -p "$DIR"
    write_config
    start_server
  fi
  provision
  write_env
  say "running at $(sed -n 's/^export RUSTVOL_S3_ENDPOINT=//p' "$ENVFILE" | tr -d "'"), bucket $BUCKET; env file: $ENVFILE"
}

# Stops the server: SIGTERM, then SIGKILL after 10 s. $1=KILL sends SIGKILL at once.
stop_server() {
  local pid i
  pid=$(server_pid)
  [ -n "$pid" ] || return 0
  kill "-${1:-TERM}" "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) cmd_start ;;
  stop)
    [ -d "$DIR" ] || { say "nothing to stop ($DIR does not exist)"; exit 0; }
    stop_server
    # Only a directory that this script made (it holds our config, or nothing of anyone else's).
    if [ -f "$CONF" ] || [ -z "$(ls -A "$DIR")" ]; then
      rm -rf "$DIR"
    else
      die "$DIR has no garage.toml: not removing a directory this script did not make"
    fi
    say "stopped; $DIR removed"
    ;;
  kill)
    stop_server "${2:-KILL}"
    say "server of $DIR stopped, data kept (scripts/garage.sh start brings it back)"
    ;;
  env)
    [ -f "$ENVFILE" ] || die "no env file: run scripts/garage.sh start"
    echo "$ENVFILE"
    ;;
  status)
    if [ -n "$(server_pid)" ]; then echo running; exit 0
    elif [ -f "$CONF" ]; then echo stopped; exit 1
    else echo absent; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|env|kill [SIGNAL]|status   (run dir: \$RUSTVOL_GARAGE_DIR, default /tmp/rustvol-garage)" >&2
    exit 64
    ;;
esac
