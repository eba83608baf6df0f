#!/usr/bin/env bash
# Local QMTL stack without Docker, everything on 127.0.0.1:
#   Redis master + one replica + three Sentinels (quorum 2)
#   Neo4j Community 5.26 embedded (Maven Central jars) with Bolt
#
# usage: deploy/local/stack.sh up|heal|down|wipe|status|env [--redis-only|--neo4j-only]
#
# All data, logs and pid files live under $QMTL_STACK_DIR (default
# /tmp/qmtl-stack; `deno task test` uses its own, /tmp/qmtl-stack-test, on
# other ports: see test.sh). Data persists across `down` + `up` (Redis AOF,
# Neo4j store files); `wipe` is `down` plus deleting the folder, so the next
# `up` starts empty. `up` is idempotent: a service whose pid file names a live
# process is reused. It also heals the Redis group after failovers: the
# master is whoever the Sentinels say it is; dead members come back as its
# replicas, dead Sentinels come back monitoring it (see redis_up). `heal` does
# only that part (Redis), for a running stack. `down` stops only processes
# named by pid files that `up` wrote, never by process name.
#
# Ports (override with env):
#   QMTL_STACK_REDIS_PORT     master (default 16379); replica = +1
#   QMTL_STACK_SENTINEL_PORT  first sentinel (default 16389); others +1, +2
#   QMTL_STACK_BOLT_PORT      Neo4j Bolt (default 17687)
#   QMTL_STACK_MASTER_NAME    Sentinel master name (default qmtl)
#   QMTL_STACK_DOWN_AFTER_MS  Sentinel down-after-milliseconds (default 1000)
#   QMTL_STACK_NEO4J_HEAP     Neo4j JVM heap, initial and maximum (default 1g)
#   QMTL_STACK_NEO4J_HEAP_INITIAL  initial heap when it should differ
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${QMTL_STACK_DIR:-/tmp/qmtl-stack}"
REDIS_PORT="${QMTL_STACK_REDIS_PORT:-16379}"
REPLICA_PORT=$((REDIS_PORT + 1))
SENTINEL_PORT="${QMTL_STACK_SENTINEL_PORT:-16389}"
BOLT_PORT="${QMTL_STACK_BOLT_PORT:-17687}"
MASTER_NAME="${QMTL_STACK_MASTER_NAME:-qmtl}"
DOWN_AFTER_MS="${QMTL_STACK_DOWN_AFTER_MS:-1000}"
NEO4J_HEAP="${QMTL_STACK_NEO4J_HEAP:-1g}"
# Initial heap: the maximum by default (see neo4j_up); override to compare.
NEO4J_HEAP_INITIAL="${QMTL_STACK_NEO4J_HEAP_INITIAL:-$NEO4J_HEAP}"

log() { echo "[stack] $*" >&2; }
die() { echo "[stack] ERROR: $*" >&2; exit 1; }

alive() { # pidfile
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

port_open() { # port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() { # port seconds what
  local deadline=$((SECONDS + $2))
  until port_open "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"; }

# ---- Redis: members, Sentinels, healing ------------------------------------
# Two member slots, named by their pid files: "master" (port REDIS_PORT) and
# "replica" (REPLICA_PORT). The names are the roles of a FRESH stack only:
# after a failover the replica slot may be the master. `up` therefore never
# assumes roles: it asks the Sentinels (then the live members) who the master
# is, restarts dead members as replicas of that master, repairs any live
# member that is not replicating it, waits for the sync, and leaves three
# Sentinels monitoring that master.

SLOTS=(master replica)
slot_port() { if [[ $1 == master ]]; then echo "$REDIS_PORT"; else echo "$REPLICA_PORT"; fi; }
slot_alive() { alive "$DIR/redis/$1.pid" && port_open "$(slot_port "$1")"; }
port_slot() { if [[ $1 == "$REDIS_PORT" ]]; then echo master; elif [[ $1 == "$REPLICA_PORT" ]]; then echo replica; fi; }
role_of() { redis-cli -p "$1" role 2>/dev/null | head -1; } # master | slave | ""
sentinel_alive() { alive "$DIR/redis/sentinel$1.pid"; }

# Port of the master named by the first live Sentinel that knows one.
sentinel_master_port() {
  local i addr
  for i in 0 1 2; do
    sentinel_alive "$i" || continue
    addr="$(redis-cli -p $((SENTINEL_PORT + i)) sentinel get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | tr '\n' ' ')"
    local port=""
    read -r _ port _ <<<"$addr"
    [[ -n "$port" ]] && { echo "$port"; return 0; }
  done
  return 0
}

# A live member serving as master on $1?
live_master() { local s; s="$(port_slot "$1")"; [[ -n $s ]] && slot_alive "$s" && [[ "$(role_of "$1")" == master ]]; }

start_member() { # slot [master_port]
  local name="$1" port pid extra=()
  port="$(slot_port "$name")"
  pid="$DIR/redis/$name.pid"
  port_open "$port" && die "port $port is taken by a process this script did not start (redis $name)"
  [[ -n "${2:-}" ]] && extra=(--replicaof 127.0.0.1 "$2")
  mkdir -p "$DIR/redis/$name"
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
    --pidfile "$pid" --dir "$DIR/redis/$name" --logfile "$DIR/redis/$name.log" \
    --appendonly yes --appendfsync everysec --save "" \
    --repl-diskless-sync-delay 0 \
    --replica-announce-ip 127.0.0.1 "${extra[@]}" ||
    die "redis $name failed to start; see $DIR/redis/$name.log"
  wait_port "$port" 10 || die "redis $name not answering on $port; see $DIR/redis/$name.log"
  if [[ -n "${2:-}" ]]; then log "redis $name started on 127.0.0.1:$port as a replica of :$2"
  else log "redis $name started on 127.0.0.1:$port as the master"; fi
}

# Decide which port is the master, promoting a live replica if need be.
choose_master() {
  local sm deadline s p
  sm="$(sentinel_master_port)"
  if [[ -n $sm ]] && live_master "$sm"; then echo "$sm"; return; fi
  local any_alive=0
  for s in "${SLOTS[@]}"; do slot_alive "$s" && any_alive=1; done
  if [[ -n $sm ]] && ((any_alive)); then
    # The Sentinels name a master that is down: a failover is probably under
    # way; give it the time Sentinel needs (down-after + election).
    log "sentinels name :$sm as master but it is down; waiting for a promotion"
    deadline=$((SECONDS + DOWN_AFTER_MS / 1000 + 20))
    while ((SECONDS < deadline)); do
      sm="$(sentinel_master_port)"
      if [[ -n $sm ]] && live_master "$sm"; then echo "$sm"; return; fi
      sleep 0.5
    done
    log "no promotion by the sentinels"
  fi
  for s in "${SLOTS[@]}"; do
    p="$(slot_port "$s")"
    if slot_alive "$s" && [[ "$(role_of "$p")" == master ]]; then echo "$p"; return; fi
  done
  for s in "${SLOTS[@]}"; do
    p="$(slot_port "$s")"
    if slot_alive "$s"; then
      log "promoting the live replica :$p (REPLICAOF NO ONE)"
      redis-cli -p "$p" replicaof no one >/dev/null || die "could not promote :$p"
      echo "$p"
      return
    fi
  done
  # Nothing alive: the Sentinels' master keeps its role (its data folder has
  # the latest AOF), else the master slot.
  if [[ -n $sm && -n "$(port_slot "$sm")" ]]; then echo "$sm"; else echo "$REDIS_PORT"; fi
}

sentinel_conf() { # index master_port
  local i="$1" sport=$((SENTINEL_PORT + $1)) conf="$DIR/redis/sentinel$1.conf" myid=""
  # Keep the Sentinel's identity across restarts, so the others do not count it twice.
  [[ -f "$conf" ]] && myid="$(grep -E '^sentinel myid [0-9a-f]{40}$' "$conf" || true)"
  cat >"$conf" <<CONF
bind 127.0.0.1
port $sport
daemonize yes
pidfile $DIR/redis/sentinel$i.pid
logfile $DIR/redis/sentinel$i.log
dir $DIR/redis
sentinel announce-ip 127.0.0.1
${myid}
sentinel monitor $MASTER_NAME 127.0.0.1 $2 2
sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS
sentinel failover-timeout $MASTER_NAME 10000
sentinel parallel-syncs $MASTER_NAME 1
CONF
}

redis_up() {
  need redis-server "apt-get install -y redis-server redis-sentinel"
  need redis-cli "apt-get install -y redis-server"
  mkdir -p "$DIR/redis"
  local master s p
  master="$(choose_master)"
  for s in "${SLOTS[@]}"; do
    p="$(slot_port "$s")"
    if ! slot_alive "$s"; then
      rm -f "$DIR/redis/$s.pid"
      if [[ $p == "$master" ]]; then start_member "$s"; else start_member "$s" "$master"; fi
      continue
    fi
    if [[ $p == "$master" ]]; then
      log "redis $s reused as the master (pid $(cat "$DIR/redis/$s.pid"), port $p)"
      continue
    fi
    local info
    info="$(redis-cli -p "$p" info replication 2>/dev/null)"
    if ! grep -q "^master_port:$master" <<<"$info"; then
      log "redis $s (:$p) does not replicate :$master; REPLICAOF 127.0.0.1 $master"
      redis-cli -p "$p" replicaof 127.0.0.1 "$master" >/dev/null || die "REPLICAOF failed on :$p"
    else
      log "redis $s reused as a replica of :$master (pid $(cat "$DIR/redis/$s.pid"), port $p)"
    fi
  done
  # Wait for the replica to be in sync so that a failover has a candidate
  # (a full sync after several failovers can take a while on a busy machine).
  local deadline=$((SECONDS + 60))
  for s in "${SLOTS[@]}"; do
    p="$(slot_port "$s")"
    [[ $p == "$master" ]] && continue
    until redis-cli -p "$p" info replication | grep -q 'master_link_status:up'; do
      ((SECONDS < deadline)) || { tail -n 5 "$DIR/redis/$s.log" >&2; die "redis replica :$p did not sync with the master :$master; see $DIR/redis/$s.log"; }
      sleep 0.2
    done
  done
  local i sport
  for i in 0 1 2; do
    sport=$((SENTINEL_PORT + i))
    if sentinel_alive "$i"; then log "sentinel $i reused (pid $(cat "$DIR/redis/sentinel$i.pid"), port $sport)"; continue; fi
    rm -f "$DIR/redis/sentinel$i.pid"
    port_open "$sport" && die "port $sport is taken by a process this script did not start (sentinel $i)"
    sentinel_conf "$i" "$master"
    redis-sentinel "$DIR/redis/sentinel$i.conf" || die "sentinel $i failed to start; see $DIR/redis/sentinel$i.log"
    wait_port "$sport" 10 || die "sentinel $i not answering on $sport"
    log "sentinel $i started on 127.0.0.1:$sport monitoring :$master"
  done
  # Every Sentinel must monitor this master; re-point any that names another
  # (e.g. after a manual promotion above).
  local named
  for i in 0 1 2; do
    sport=$((SENTINEL_PORT + i))
    named="$(redis-cli -p "$sport" sentinel get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | sed -n 2p)"
    [[ $named == "$master" ]] && continue
    log "sentinel $i names :${named:-nothing}; re-pointing it at :$master"
    redis-cli -p "$sport" sentinel remove "$MASTER_NAME" >/dev/null 2>&1 || true
    redis-cli -p "$sport" sentinel monitor "$MASTER_NAME" 127.0.0.1 "$master" 2 >/dev/null &&
      redis-cli -p "$sport" sentinel set "$MASTER_NAME" down-after-milliseconds "$DOWN_AFTER_MS" \
        failover-timeout 10000 parallel-syncs 1 >/dev/null ||
      die "could not re-point sentinel $i at :$master"
  done
  deadline=$((SECONDS + 20))
  for i in 0 1 2; do
    until [[ "$(redis-cli -p $((SENTINEL_PORT + i)) sentinel get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | sed -n 2p)" == "$master" ]]; do
      ((SECONDS < deadline)) || die "sentinel $i does not name :$master as master $MASTER_NAME"
      sleep 0.2
    done
  done
  log "redis master $MASTER_NAME is 127.0.0.1:$master"
}

neo4j_build() {
  local target="$HERE/neo4j/target" class="$HERE/neo4j/target/classes/qmtl/local/Neo4jLauncher.class"
  # rebuilt when the launcher source or the pom changed since the last build
  if [[ -f "$class" && -f "$target/classpath.txt" && ! "$HERE/neo4j/src/main/java/qmtl/local/Neo4jLauncher.java" -nt "$class" && ! "$HERE/neo4j/pom.xml" -nt "$target/classpath.txt" ]]; then return; fi
  need mvn "apt-get install -y maven"
  need java "install a Java 17 JDK"
  log "building the Neo4j launcher (Maven Central: org.neo4j:neo4j + neo4j-bolt)"
  mvn -q -B -f "$HERE/neo4j/pom.xml" compile dependency:build-classpath \
    -Dmdep.outputFile="$target/classpath.txt" >&2 || die "maven build of the Neo4j launcher failed"
}

neo4j_up() {
  local pid="$DIR/neo4j/neo4j.pid"
  mkdir -p "$DIR/neo4j"
  if alive "$pid"; then log "neo4j reused (pid $(cat "$pid"), bolt port $BOLT_PORT)"; return; fi
  port_open "$BOLT_PORT" && die "port $BOLT_PORT is taken by a process this script did not start"
  neo4j_build
  local target="$HERE/neo4j/target"
  # JVM options: the ones Neo4j's own launcher (and the neo4j Docker image)
  # passes by default (`server.jvm.additional` in neo4j.conf). Without
  # `--add-opens java.base/java.nio` the page cache logs "Reflection access to
  # java.nio.DirectByteBuffer is not available, using fallback mode" and runs
  # slower; `io.netty.tryReflectionSetAccessible` does the same for Bolt's
  # direct buffers.
  # The initial heap is the maximum, as Neo4j's operations manual advises
  # (server.memory.heap.initial_size = max_size). With -Xms256m, G1 kept the
  # heap near 320 MiB, Neo4j's ~120 MiB of live objects sat above its 45 %
  # marking threshold, and a 1,000-node diff series ran a concurrent mark
  # cycle (≈ 0.3–0.5 s of CPU, a 30–50 ms remark pause) about every second
  # (GC log, 2026-12-01).
  local jvm=("-Xms$NEO4J_HEAP_INITIAL" "-Xmx$NEO4J_HEAP" -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow
    -XX:+UnlockExperimentalVMOptions -XX:+TrustFinalNonStaticFields -XX:+DisableExplicitGC
    -Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
    --enable-native-access=ALL-UNNAMED -Dlog4j2.disable.jmx=true
    "-Xlog:gc:file=$DIR/neo4j/gc.log:uptime:filecount=2,filesize=10m")
  nohup java "${jvm[@]}" \
    -cp "$target/classes:$(cat "$target/classpath.txt")" qmtl.local.Neo4jLauncher \
    "$DIR/neo4j/home" "$BOLT_PORT" 256 256 >"$DIR/neo4j/neo4j.log" 2>&1 &
  echo $! >"$pid"
  wait_port "$BOLT_PORT" 120 || { tail -30 "$DIR/neo4j/neo4j.log" >&2; die "neo4j Bolt not answering on $BOLT_PORT"; }
  log "neo4j started, bolt://127.0.0.1:$BOLT_PORT (pid $(cat "$pid"))"
}

stop_pid() { # pidfile what
  local pidfile="$1"
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS >= deadline)); then kill -9 "$pid" 2>/dev/null || true; break; fi
      sleep 0.1
    done
    log "$2 stopped (pid $pid)"
  fi
  rm -f "$pidfile"
}

redis_url() {
  echo "redis+sentinel://127.0.0.1:$SENTINEL_PORT,127.0.0.1:$((SENTINEL_PORT + 1)),127.0.0.1:$((SENTINEL_PORT + 2))/$MASTER_NAME/0"
}

print_env() {
  local what="$1"
  [[ $what != neo4j ]] && echo "export QMTL_REDIS_URL='$(redis_url)'"
  [[ $what != redis ]] && echo "export QMTL_NEO4J_URL='bolt://127.0.0.1:$BOLT_PORT'"
  echo "export QMTL_STACK_DIR='$DIR'"
}

stop_all() {
  for i in 2 1 0; do stop_pid "$DIR/redis/sentinel$i.pid" "sentinel $i"; done
  stop_pid "$DIR/redis/replica.pid" "redis replica"
  stop_pid "$DIR/redis/master.pid" "redis master"
  stop_pid "$DIR/neo4j/neo4j.pid" "neo4j"
}

what=all
case "${2:-}" in
--redis-only) what=redis ;;
--neo4j-only) what=neo4j ;;
"") ;;
*) die "unknown option ${2}" ;;
esac

case "${1:-}" in
up)
  mkdir -p "$DIR"
  [[ $what != neo4j ]] && redis_up
  [[ $what != redis ]] && neo4j_up
  print_env "$what" | tee "$DIR/env.sh"
  ;;
heal)
  mkdir -p "$DIR"
  redis_up
  print_env redis | tee "$DIR/env.sh"
  ;;
down)
  stop_all
  ;;
wipe)
  stop_all
  if [[ -d "$DIR" ]]; then
    # Only a folder this script made: never `rm -rf` whatever DIR names.
    [[ -d "$DIR/redis" || -d "$DIR/neo4j" || -f "$DIR/env.sh" ]] ||
      die "$DIR does not look like a stack folder (no redis/, neo4j/ or env.sh): not deleting it"
    rm -rf "$DIR"
    log "wiped $DIR"
  fi
  ;;
status)
  ok=0
  for f in redis/master redis/replica redis/sentinel0 redis/sentinel1 redis/sentinel2 neo4j/neo4j; do
    if alive "$DIR/$f.pid"; then
      role=""
      case $f in redis/master | redis/replica) role=" role $(role_of "$(slot_port "${f#redis/}")")" ;; esac
      echo "$f running (pid $(cat "$DIR/$f.pid"))$role"
    else echo "$f stopped"; ok=1; fi
  done
  exit $ok
  ;;
env) print_env "$what" ;;
*)
  echo "usage: $0 up|heal|down|wipe|status|env [--redis-only|--neo4j-only]" >&2
  exit 2
  ;;
esac
