#!/usr/bin/env bash
# A three-node Tandem cluster on this one machine, to try the cluster mode: three clustered
# JetStream nats-servers and three hub replicas on 127.0.0.1, a device and a module that fail
# over between the replicas. Ctrl-C stops everything. See docs/cluster.md.
#
#   bash scripts/try-cluster.sh            # runs until Ctrl-C; prints what to try
#   bash scripts/try-cluster.sh --check    # kills the replica the module uses, checks nothing
#                                          # acknowledged was lost, stops (used by the tests)
# Environment: TANDEM_TRY_PORT (default 14200: ports PORT..PORT+59 are used),
#              TANDEM_TRY_DIR (default: a new temporary directory, removed at the end),
#              TANDEM_SKIP_BUILD=1 (use dist/ as it is).
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[ "${1:-}" = "--check" ] && check=true
base=${TANDEM_TRY_PORT:-14200}
dir=${TANDEM_TRY_DIR:-$(mktemp -d -t tandem-try-cluster-XXXXXX)}
keep_dir=${TANDEM_TRY_DIR:+yes}
nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$nats_bin" ] || { echo "nats-server is needed: apt-get install nats-server" >&2; exit 1; }
# Tests run it from a built tree while other tests run: rebuilding dist/ under them would break them.
[ -n "${TANDEM_SKIP_BUILD:-}" ] || bash scripts/ensure-built.sh >&2

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$keep_dir" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

client_port() { echo $((base + $1)); }      # nats clients
route_port() { echo $((base + 10 + $1)); }  # nats cluster routes
monitor_port() { echo $((base + 20 + $1)); }
mqtt_port() { echo $((base + 30 + $1)); }   # hub replica, plain MQTT (loopback only)
api_port() { echo $((base + 40 + $1)); }

routes="" urls=""
for i in 0 1 2; do
  routes+="nats-route://127.0.0.1:$(route_port $i), "
  urls+="${urls:+,}nats://127.0.0.1:$(client_port $i)"
done

for i in 0 1 2; do
  mkdir -p "$dir/n$i"
  cat >"$dir/n$i.conf" <<EOF
server_name: n$i
listen: 127.0.0.1:$(client_port $i)
http: 127.0.0.1:$(monitor_port $i)
jetstream { store_dir: "$dir/n$i", max_file_store: 1G }
cluster { name: tandem-try, listen: 127.0.0.1:$(route_port $i), routes: [ ${routes%, } ] }
EOF
  "$nats_bin" -c "$dir/n$i.conf" >"$dir/n$i.log" 2>&1 &
  pids+=($!)
done

wait_http() { # url, what
  for _ in $(seq 1 120); do
    if node -e "fetch('$1').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then return 0; fi
    sleep 0.5
  done
  echo "timed out waiting for $2" >&2
  exit 1
}
for i in 0 1 2; do wait_http "http://127.0.0.1:$(monitor_port $i)/healthz" "nats-server n$i"; done
echo "nats-servers n0 n1 n2 are up (JetStream, one cluster)"

own_first() { # replica i's server list: its own node's server first
  local list="nats://127.0.0.1:$(client_port $1)"
  for k in 0 1 2; do [ "$k" = "$1" ] || list+=",nats://127.0.0.1:$(client_port $k)"; done
  echo "$list"
}
for i in 0 1 2; do
  # --no-agent: the example's module is a client script (examples/cluster/module.mjs), not a deployed one.
  node bin/tandem.js up examples/cluster/routes.json --no-agent --cluster "$(own_first $i)" --replica "r$i" \
    --nats-monitor "http://127.0.0.1:$(monitor_port $i)" --data-dir "$dir/r$i" \
    --hub-name tandem.local --device-id edge --port 0 --host 127.0.0.1 \
    --plain-port "$(mqtt_port $i)" --api-port "$(api_port $i)" --status-interval 0 >"$dir/r$i.log" 2>&1 &
  pids+=($!)
  echo "$!" >"$dir/r$i.pid"
done
for i in 0 1 2; do wait_http "http://127.0.0.1:$(api_port $i)/api/v1/status" "hub replica r$i"; done
echo "hub replicas r0 r1 r2 are up; what each said about its nats-server:"
grep 'nats-server:' "$dir/r0.log" | sed 's/^[^ ]* [a-z]* /  /'

device_cs=$(node bin/tandem.js identity create sensor --cluster "$urls" --data-dir "$dir/r0")
module_cs=$(node bin/tandem.js identity create edge/filter --cluster "$urls" --data-dir "$dir/r0" 2>/dev/null)
servers="127.0.0.1:$(mqtt_port 0),127.0.0.1:$(mqtt_port 1),127.0.0.1:$(mqtt_port 2)"

if $check; then
  count=300
  node examples/cluster/module.mjs "$module_cs" "$servers" "$count" &
  module_pid=$!
  node examples/cluster/device.mjs "$device_cs" "$servers" "$count" 50 &
  device_pid=$!
  sleep 2
  echo "killing hub replica r0 (the module and the device are connected to it)"
  kill -9 "$(cat "$dir/r0.pid")"
  wait "$device_pid"
  wait "$module_pid" && echo "check passed: every acknowledged message reached the module" && exit 0
  echo "check failed" >&2
  exit 1
fi

cat <<EOF

Try it (in another terminal):
  node examples/cluster/module.mjs '$module_cs' $servers
  node examples/cluster/device.mjs '$device_cs' $servers 100000 10
  kill -9 \$(cat $dir/r0.pid)          # a replica dies: the clients move on within seconds
  node bin/tandem.js status --data-dir $dir/r1 --json    # 'cluster': live replicas, leases held
Logs: $dir/{n0,n1,n2,r0,r1,r2}.log      Ctrl-C here stops the cluster.
EOF
wait
