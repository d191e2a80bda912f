# Sourced by bench/run: the cluster shape's turn (--cluster). PostgreSQL, S3Proxy and a reader of their
# counters (bench/BenchClusterStats.java, a coprocess), fresh for each turn, then the broker; the windows
# of counters around each measured run; the split of a record's time (BenchLatency after the store has
# gone quiet, PostgreSQL's statement log, BenchS3Probe). Uses bench/run's settings and helpers (work,
# round, problem, log, wait_for_port, ...); defines functions and the variables they share. stop_server
# calls stop_cluster_parts after stopping the broker, which does nothing when no cluster part runs.

s3proxy_pid=""
postgres_pid=""
cluster_stats_pid=""
cluster_answer=""

# PostgreSQL refuses to run as root: when bench/run runs as root, initdb and the server run as the
# unprivileged user and group 65534 (nobody/nogroup on Debian), as the tests run them.
as_postgres_user=()
[[ $(id -u) != 0 ]] || as_postgres_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)

start_postgres() { # dir round
  local data="$1/postgres" bin="$cluster_lib/postgres/bin" log="$work/logs/weir-cluster-r$2-postgres.log"
  mkdir -m 700 "$data"
  if [[ $(id -u) == 0 ]]; then
    chown 65534:65534 "$data"
    if ! "${as_postgres_user[@]}" test -x "$bin/postgres" -a -w "$data"; then
      problem "user 65534, which runs PostgreSQL, cannot reach $bin/postgres or $data: every directory above them must be searchable by others"
      return 1
    fi
  fi
  if ! (cd "$1" && "${as_postgres_user[@]}" "$bin/initdb" -D "$data" -U weir -A trust -E UTF8 --locale=C --no-instructions) >> "$log" 2>&1; then
    problem "weir-cluster round $2: initdb failed: $(tail -3 "$log" | tr '\n' ' ')"
    return 1
  fi
  # The statement log (bench/report.py reads it for the split of a record's time) parses "%m [%p] ".
  # The subshell execs setpriv, which execs postgres: postgres_pid is the postmaster's.
  (cd "$1" && exec "${as_postgres_user[@]}" "$bin/postgres" -D "$data" \
    -p "$postgres_port" -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=on -c synchronous_commit=on \
    -c full_page_writes=on -c "log_line_prefix=%m [%p] ") >> "$log" 2>&1 &
  postgres_pid=$!
  wait_for_port "$postgres_port" "$postgres_pid" 60
}

start_s3proxy() { # dir round
  # The filesystem backend keeps a bucket as a directory: this one exists from the start.
  mkdir -p "$1/s3/objects/bench"
  printf '%s\n' "s3proxy.endpoint=http://127.0.0.1:$s3_port" "s3proxy.authorization=aws-v2-or-v4" \
    "s3proxy.identity=bench" "s3proxy.credential=bench-secret" "jclouds.provider=filesystem-nio2" \
    "jclouds.filesystem.basedir=$1/s3/objects" "s3proxy.metrics.enabled=true" "s3proxy.metrics.host=127.0.0.1" \
    "s3proxy.metrics.port=$s3_metrics_port" > "$1/s3/s3proxy.properties"
  java -Xmx512m -jar "$cluster_lib/s3proxy/s3proxy.jar" --properties "$1/s3/s3proxy.properties" \
    > "$work/logs/weir-cluster-r$2-s3proxy.log" 2>&1 &
  s3proxy_pid=$!
  wait_for_port "$s3_port" "$s3proxy_pid" 60
}

start_cluster_stats() { # round
  coproc CLUSTER_STATS { exec java -Xmx128m -cp "$work/classes:$work/weir/lib/*" BenchClusterStats \
    "jdbc:postgresql://127.0.0.1:$postgres_port/postgres" weir weir "http://127.0.0.1:$s3_metrics_port/metrics" \
    2>> "$work/logs/weir-cluster-r$1-stats.log"; }
  cluster_stats_pid=$CLUSTER_STATS_PID
}

# Sends one command to the counters' reader and puts its one-line answer in cluster_answer; fails on an
# error answer or none within 90 s.
cluster_stats() { # command
  cluster_answer=""
  local in="${CLUSTER_STATS[1]:-}" out="${CLUSTER_STATS[0]:-}"
  if [[ -z $in || -z $out ]] || ! printf '%s\n' "$1" >&"$in" || ! IFS= read -r -t 90 cluster_answer <&"$out"; then
    problem "weir-cluster round $round: the reader of S3Proxy's and PostgreSQL's counters did not answer '$1' (log: ${work#"$root/"}/logs/weir-cluster-r$round-stats.log)"
    return 1
  fi
  if [[ $cluster_answer == error* ]]; then
    problem "weir-cluster round $round: counters, '$1': $cluster_answer"
    return 1
  fi
}

start_weir_cluster() { # round
  port_free "$weir_cluster_port" "$s3_port" "$s3_metrics_port" "$postgres_port" || return 1
  local dir="$work/data/weir-cluster-r$1"
  rm -rf "$dir"; mkdir -p "$dir/broker"; chmod 755 "$dir"
  server_name=weir-cluster
  start_postgres "$dir" "$1" || return 1
  start_s3proxy "$dir" "$1" || return 1
  start_cluster_stats "$1"
  cluster_stats "create database" || return 1
  # shellcheck disable=SC2086
  WEIR_LISTENERS="PLAINTEXT://127.0.0.1:$weir_cluster_port" WEIR_LOG_DIRS="$dir/broker" WEIR_GROUP_INITIAL_REBALANCE_DELAY_MS=0 \
    WEIR_OBJECT_STORE_URL="s3://bench/weir" WEIR_S3_ENDPOINT="http://127.0.0.1:$s3_port" WEIR_S3_PATH_STYLE_ACCESS=true \
    WEIR_S3_ACCESS_KEY=bench WEIR_S3_SECRET_KEY=bench-secret WEIR_S3_WAL_OBJECT_MAX_AGE_MS="$cluster_seal_age_ms" \
    WEIR_METADATA_STORE_URL="jdbc:postgresql://127.0.0.1:$postgres_port/weir" WEIR_METADATA_STORE_USER=weir \
    java $heap_opts $weir_jvm_opts -jar "$work/weir/weir.jar" server >> "$work/logs/weir-cluster-r$1.log" 2>&1 &
  server_pid=$!
  wait_for_port "$weir_cluster_port" "$server_pid" 90
}

stop_pid() { # pid signal seconds name: signals the process, waits for it, kills it after that long
  [[ -n $1 ]] || return 0
  kill "-$2" "$1" 2>/dev/null || true
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    problem "$4 did not stop within $3 s of SIG$2; killed"
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true
}

stop_cluster_parts() {
  if [[ -n $cluster_stats_pid ]]; then
    local in="${CLUSTER_STATS[1]:-}"
    [[ -z $in ]] || exec {in}>&-
    stop_pid "$cluster_stats_pid" TERM 10 "the reader of the cluster's counters"
    cluster_stats_pid=""
  fi
  stop_pid "$s3proxy_pid" TERM 30 S3Proxy
  s3proxy_pid=""
  # SIGINT: PostgreSQL's fast shutdown (sessions ended, a checkpoint written).
  stop_pid "$postgres_pid" INT 60 PostgreSQL
  postgres_pid=""
}

# CPU time of S3Proxy, and of PostgreSQL's postmaster with every process it started (those that exited
# too, as its children's time), in clock ticks: "S3PROXY POSTGRES".
side_ticks() {
  local s3=0 pg=0 f line rest pid fields postmaster=${postgres_pid:-none}
  [[ -z $s3proxy_pid ]] || s3=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$s3proxy_pid/stat" 2>/dev/null || echo 0)
  for f in /proc/[0-9]*/stat; do
    { IFS= read -r line < "$f"; } 2>/dev/null || continue  # a process may end while this runs
    pid=${f#/proc/}; pid=${pid%/stat}
    rest=${line##*) }
    read -r -a fields <<< "$rest"
    if [[ $pid == "$postmaster" ]]; then
      pg=$((pg + fields[11] + fields[12] + fields[13] + fields[14]))
    elif [[ ${fields[1]} == "$postmaster" ]]; then
      pg=$((pg + fields[11] + fields[12]))
    fi
  done
  echo "$s3 $pg"
}

# Before the split of a record's time: waits until merging has taken every object of the workloads before
# (it takes those log.merge.min.age.ms old, 60 s by default, every log.merge.interval.ms, 10 s) and S3Proxy
# has then served no request for 15 s, at most 4 minutes; so that merging does not mix its requests, and
# their durations, with the records'.
await_quiet_store() {
  local t0=$SECONDS quiet_since=$SECONDS last="" now
  while (( SECONDS - t0 < 240 )); do
    cluster_stats snap || return 1
    now=$(tr ' ' '\n' <<< "$cluster_answer" | grep '^s3\..*\.count=' || true)
    if [[ $now != "$last" ]]; then
      last=$now
      quiet_since=$SECONDS
    elif (( SECONDS - t0 >= 75 && SECONDS - quiet_since >= 15 )); then
      log "  object store quiet for 15 s, $((SECONDS - t0)) s after the last workload"
      return 0
    fi
    sleep 3
  done
  problem "weir-cluster round $round: the object store was still serving requests 240 s after the last workload; the split of a record's time includes them"
}

# The S3 client's own time per request, for the split of a record's time: BenchS3Probe times PUTs of objects
# the size of a one-record WAL object and ranged GETs of them, with the SDK and settings of Weir's S3 store,
# against S3Proxy, after the turn's own window; its window of S3Proxy's counters gives S3Proxy's share.
s3_probe() {
  local out="$work/out/weir-cluster-r$round-s3-probe.txt" stats0 t0
  cluster_stats snap || return 1
  stats0=$cluster_answer
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  if ! timeout --kill-after=10 "$tool_timeout" java $client_opts -cp "$work/classes:$work/weir/lib/*" BenchS3Probe \
      "http://127.0.0.1:$s3_port" bench probe/ bench bench-secret "$latency_records" 1100 > "$out" 2>&1; then
    problem "weir-cluster round $round: BenchS3Probe failed (output: ${out#"$root/"})"
    return 1
  fi
  log "  S3 client probe: $(tr '\n' ' ' < "$out")"
  cluster_stats snap || return 1
  record_cluster_window s3-probe BenchS3Probe "$latency_records" 0 \
    "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')" "0 0" "0 0" "$stats0" "$cluster_answer"
}

# Counters of one measured window of the cluster shape (a tool run, or the whole turn), to the session's
# cluster-stats file: bench/report.py takes the differences.
record_cluster_window() { # workload tool records bytes wall_s side0 side1 stats0 stats1
  local s3a pga s3b pgb
  read -r s3a pga <<< "$6"
  read -r s3b pgb <<< "$7"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server_name" "$round" "$1" "$2" "$3" "$4" "$5" \
    "$((s3b - s3a))" "$((pgb - pga))" "$8" "$9" >> "$session_cluster_stats"
}

# The cluster shape's split of a record's time: BenchLatency, once the store is quiet, with PostgreSQL
# logging every statement and its duration meanwhile (bench/report.py reads the commits from that log).
latency_split() { # server round bootstrap
  local status=0
  await_quiet_store || return 1
  cluster_stats "statements on" || return 1
  run_tool "$1" "$2" e2e-split-1k-acks-all "$latency_records" 1024 "$((latency_records * 1024))" BenchLatency \
    "$3" bench-latency "$latency_records" 1024 || status=$?
  if (( status == 2 )); then
    return 2
  fi
  cluster_stats "statements off" || return 1
  return "$status"
}
