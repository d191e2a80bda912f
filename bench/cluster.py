"""The cluster shape's part of bench/run's report (bench/run --cluster), used by report.py.

bench/run writes cluster-stats.tsv in the run directory: one line per measured window of the cluster-shape
broker (each tool run, and its whole turn as the window "turn"), with the CPU time S3Proxy and PostgreSQL
used meanwhile and their counters before and after it as `key=value` lists (bench/BenchClusterStats.java):
per S3 operation and HTTP status, S3Proxy's requests and the seconds it spent on them; PostgreSQL's
committed and rolled-back transactions of the broker's database. During the split of a record's time
(BenchLatency), PostgreSQL also logged every statement with its duration, which gives the commits.
Uses only the standard library.
"""

import csv
import datetime
import os
import re
import statistics

SERVER = "weir-cluster"
LATENCY_WORKLOAD = "e2e-split-1k-acks-all"
# Windows measured per record rather than per GB: a few hundred records of 1 KiB are no GB.
PER_RECORD_TOOLS = ("EndToEndLatency", "BenchLatency")
# S3 operations by the kind a bill counts them as.
KIND = {
    "PutObject": "PUT", "CopyObject": "PUT", "CreateMultipartUpload": "PUT", "UploadPart": "PUT",
    "UploadPartCopy": "PUT", "CompleteMultipartUpload": "PUT",
    "GetObject": "GET",
    "HeadObject": "HEAD", "HeadBucket": "HEAD",
    "ListObjectsV2": "LIST", "ListBuckets": "LIST", "ListObjectVersions": "LIST", "ListMultipartUploads": "LIST",
    "DeleteObject": "DELETE", "DeleteObjects": "DELETE",
}
KINDS = ("PUT", "GET", "HEAD", "LIST", "DELETE", "other")
GIB = 2 ** 30

LATENCY_RE = re.compile(r"^(send to acknowledged|acknowledged to received|send to received) ms: avg ([\d.]+), "
                        r"p50 ([\d.]+), p99 ([\d.]+), p99\.9 ([\d.]+), max ([\d.]+)")
LATENCY_KEYS = {"send to acknowledged": "ack", "acknowledged to received": "fetch", "send to received": ""}
# PostgreSQL's log with log_line_prefix '%m [%p] ' and log_min_duration_statement 0.
PROBE_RE = re.compile(r"^(PUT|GET) ms: avg ([\d.]+), p50 ([\d.]+), p99 ([\d.]+), requests (\d+)")
STATEMENT_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ \[(\d+)\] LOG:  duration: ([\d.]+) ms  "
                          r"(statement|parse|bind|execute)[^:]*: (.*)$")


def parse_latency(lines):
    """BenchLatency's summary: avg, p50, p99, p99.9 of the whole way (as EndToEndLatency's), and of each half
    as ack_* and fetch_*; None without them."""
    out = {}
    for line in lines:
        m = LATENCY_RE.match(line)
        if m:
            prefix = LATENCY_KEYS[m.group(1)]
            prefix = prefix + "_" if prefix else ""
            for key, value in zip(("avg", "p50", "p99", "p999", "max"), m.groups()[1:]):
                out[prefix + key] = float(value)
    return out if "avg" in out and "ack_avg" in out and "fetch_avg" in out else None


def _counters(text):
    values = {}
    for pair in text.split():
        key, _, value = pair.partition("=")
        try:
            values[key] = float(value)
        except ValueError:
            pass
    return values


def _window(row, clk_tck):
    before, after = _counters(row["before"]), _counters(row["after"])
    delta = {key: after[key] - before.get(key, 0.0) for key in after}
    requests = {kind: 0.0 for kind in KINDS}
    seconds = {kind: 0.0 for kind in KINDS}
    failed = 0.0
    for key, value in delta.items():
        parts = key.split(".")
        if parts[0] != "s3" or len(parts) != 4:
            continue
        kind = KIND.get(parts[1], "other")
        if parts[3] == "count":
            requests[kind] += value
            if not parts[2].startswith("2"):
                failed += value
        else:
            seconds[kind] += value
    return {
        "server": row["server"], "round": int(row["round"]), "workload": row["workload"], "tool": row["tool"],
        "records": int(row["records"]) if row["records"].isdigit() else None,
        "bytes": int(row["bytes"]) if row["bytes"].isdigit() else 0,
        "wall_s": float(row["wall_s"]),
        "s3proxy_cpu_s": int(row["s3proxy_cpu_ticks"]) / clk_tck,
        "postgres_cpu_s": int(row["postgres_cpu_ticks"]) / clk_tck,
        "requests": requests, "seconds": seconds, "failed": failed,
        "commits": delta.get("pg.xact_commit", 0.0), "rollbacks": delta.get("pg.xact_rollback", 0.0),
    }


def load(work):
    """The windows of cluster-stats.tsv, or [] for a run without the cluster shape."""
    path = os.path.join(work, "cluster-stats.tsv")
    if not os.path.exists(path):
        return []
    clk_tck = os.sysconf("SC_CLK_TCK")
    with open(path, encoding="utf-8") as f:
        return [_window(row, clk_tck) for row in csv.DictReader(f, delimiter="\t")]


def find(windows, round_, workload):
    for w in windows:
        if w["round"] == round_ and w["workload"] == workload:
            return w
    return None


def adjust_other_pct(runs, windows, ncpu):
    """S3Proxy and PostgreSQL belong to the cluster shape: their CPU is not "other processes"."""
    for r in runs:
        w = find(windows, r["round"], r["workload"]) if r["server"] == SERVER else None
        if w and r.get("other_pct") is not None and r.get("wall_s"):
            other_s = r["other_pct"] / 100 * r["wall_s"] * ncpu - w["s3proxy_cpu_s"] - w["postgres_cpu_s"]
            r["other_pct"] = max(0.0, other_s) / (r["wall_s"] * ncpu) * 100


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _per(window, unit):
    """Requests of each kind, failed ones, commits, rollbacks and the side servers' CPU per unit (GB or
    record), and S3Proxy's mean milliseconds per PUT and per GET."""
    out = {kind: window["requests"][kind] / unit for kind in KINDS}
    out.update(failed=window["failed"] / unit, commits=window["commits"] / unit, rollbacks=window["rollbacks"] / unit,
               s3proxy_cpu_s=window["s3proxy_cpu_s"] / unit, postgres_cpu_s=window["postgres_cpu_s"] / unit)
    for kind in ("PUT", "GET"):
        n = window["requests"][kind]
        out[kind + "_ms"] = window["seconds"][kind] / n * 1000 if n else None
    return out


COLUMNS = [(kind, kind) for kind in KINDS] + [
    ("failed", "of them not 2xx"), ("commits", "PG commits"), ("rollbacks", "PG rollbacks"),
    ("PUT_ms", "ms per PUT"), ("GET_ms", "ms per GET"), ("s3proxy_cpu_s", "S3Proxy CPU s"),
    ("postgres_cpu_s", "PostgreSQL CPU s")]


def request_tables(windows, workloads, fmt):
    """Two tables of medians over the rounds: per GB moved (throughput workloads and the whole turn), and
    per record (the latency workloads). Each: (header, rows)."""
    names = dict(workloads)
    names[LATENCY_WORKLOAD] = "split of a record's time, 1 KiB, acks=all (BenchLatency)"
    names["turn"] = "whole turn: warm-up, every workload and background work, per GB produced"
    order = [w for w, _ in workloads] + [LATENCY_WORKLOAD, "turn"]
    per_gb, per_record = [], []
    for workload in order:
        mine = [w for w in windows if w["workload"] == workload]
        if not mine:
            continue
        by_record = mine[0]["tool"] in PER_RECORD_TOOLS
        units = [(w["records"] if by_record else w["bytes"] / GIB) for w in mine]
        if not all(units):
            continue
        per = [_per(w, u) for w, u in zip(mine, units)]
        amount = _median(units)
        row = [names.get(workload, workload), fmt(amount)] + [fmt(_median([p[key] for p in per])) for key, _ in COLUMNS]
        (per_record if by_record else per_gb).append(row)
    return ((["workload", "GB"] + [label + " /GB" if key not in ("PUT_ms", "GET_ms") else label for key, label in COLUMNS],
             per_gb),
            (["workload", "records"] + [label + " /record" if key not in ("PUT_ms", "GET_ms") else label
                                        for key, label in COLUMNS], per_record))


def _verb(text):
    words = text.split(None, 1)
    return words[0].upper() if words else ""


def wal_commits(path):
    """The WAL objects' commits in PostgreSQL's statement log: per transaction (a backend's statements from
    its BEGIN to its COMMIT) that recorded an object and read producer state, its span from the start of its
    BEGIN to the end of its COMMIT (log times, to the millisecond), the sum of its statements' durations (to
    the microsecond), COMMIT's own duration (with the WAL flush) and how many statements it executed besides
    BEGIN and COMMIT. Statements outside a transaction (the connection pool's empty query that checks an idle
    connection) are left out."""
    open_transactions = {}
    commits = []
    # A statement whose text spans lines goes on in lines that begin with a tab, right after its own.
    last = None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("\t") and last is not None:
                    entries, index = last
                    at, duration, kind, text = entries[index]
                    entries[index] = (at, duration, kind, (text + " " + line.strip()).strip())
                    continue
                last = None
                m = STATEMENT_RE.match(line.rstrip("\n"))
                if not m:
                    continue
                at = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp() * 1000
                duration, kind, text = float(m.group(3)), m.group(4), m.group(5).strip()
                verb = _verb(text)
                if kind in ("execute", "statement") and verb == "BEGIN":
                    open_transactions[m.group(2)] = []
                entries = open_transactions.get(m.group(2))
                if entries is None:
                    continue
                entries.append((at, duration, kind, text))
                last = (entries, len(entries) - 1)
                if kind in ("execute", "statement") and verb in ("COMMIT", "ROLLBACK"):
                    del open_transactions[m.group(2)]
                    texts = " ".join(e[3] for e in entries)
                    if verb == "COMMIT" and "INSERT INTO objects" in texts and "producer_state" in texts:
                        first_at, first_duration = entries[0][0], entries[0][1]
                        commits.append({
                            "span_ms": at - (first_at - first_duration),
                            "server_ms": sum(e[1] for e in entries),
                            "commit_ms": duration,
                            "statements": sum(1 for e in entries if e[2] in ("execute", "statement")
                                              and _verb(e[3]) not in ("BEGIN", "COMMIT")),
                        })
    except OSError:
        return []
    return commits


def client_overhead(work, windows, round_):
    """BenchS3Probe's time per PUT and per GET as the client saw it, less S3Proxy's own for the same
    requests: {"PUT": ms, "GET": ms, "PUT_client": ms, ...}, or {} without a probe."""
    window = find(windows, round_, "s3-probe")
    out = {}
    try:
        with open(os.path.join(work, "out", f"{SERVER}-r{round_}-s3-probe.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        m = PROBE_RE.match(line)
        if m and window and window["requests"][m.group(1)]:
            server_ms = window["seconds"][m.group(1)] / window["requests"][m.group(1)] * 1000
            out[m.group(1) + "_client"] = float(m.group(2))
            out[m.group(1) + "_server"] = server_ms
            out[m.group(1)] = max(0.0, float(m.group(2)) - server_ms)
    return out


def _split_of_round(run, window, commits, seal_ms, overhead):
    records = window["records"]
    puts, gets = window["requests"]["PUT"], window["requests"]["GET"]
    put_ms = window["seconds"]["PUT"] / records * 1000
    get_ms = window["seconds"]["GET"] / records * 1000
    put_client = puts / records * overhead["PUT"] if "PUT" in overhead else None
    get_client = gets / records * overhead["GET"] if "GET" in overhead else None
    commit_ms = (len(commits) / records) * statistics.mean(c["span_ms"] for c in commits) if commits else None
    rest_ack = run["ack_avg"] - seal_ms - put_ms - (put_client or 0) - (commit_ms or 0)
    return {
        "seal": seal_ms, "put": put_ms, "put_client": put_client, "commit": commit_ms, "rest_ack": rest_ack,
        "ack": run["ack_avg"], "get": get_ms, "get_client": get_client,
        "rest_fetch": run["fetch_avg"] - get_ms - (get_client or 0), "fetch": run["fetch_avg"], "total": run["avg"],
        "probe_put": overhead.get("PUT_client"), "probe_put_server": overhead.get("PUT_server"),
        "probe_get": overhead.get("GET_client"), "probe_get_server": overhead.get("GET_server"),
        "puts": puts / records, "gets": gets / records, "commits": len(commits) / records,
        "put_each": window["seconds"]["PUT"] / puts * 1000 if puts else None,
        "get_each": window["seconds"]["GET"] / gets * 1000 if gets else None,
        "span_each": statistics.mean(c["span_ms"] for c in commits) if commits else None,
        "server_each": statistics.mean(c["server_ms"] for c in commits) if commits else None,
        "flush_each": statistics.mean(c["commit_ms"] for c in commits) if commits else None,
        "statements": statistics.mean(c["statements"] for c in commits) if commits else None,
        "ack_p50": run["ack_p50"], "ack_p99": run["ack_p99"], "fetch_p50": run["fetch_p50"],
        "fetch_p99": run["fetch_p99"], "p50": run["p50"], "p99": run["p99"],
    }


def split(work, runs, windows, seal_ms):
    """Where a record's time goes, per round, and the median of each figure over the rounds (None if the run
    has no split)."""
    per_round = []
    for run in runs:
        if run["server"] != SERVER or run["workload"] != LATENCY_WORKLOAD or not run["ok"]:
            continue
        window = find(windows, run["round"], LATENCY_WORKLOAD)
        if window is None:
            continue
        commits = wal_commits(os.path.join(work, "logs", f"{SERVER}-r{run['round']}-postgres.log"))
        per_round.append(_split_of_round(run, window, commits, seal_ms, client_overhead(work, windows, run["round"])))
    if not per_round:
        return None
    return {key: _median([r[key] for r in per_round]) for key in per_round[0]}, len(per_round)


def split_lines(result, fmt, seal_ms):
    """The split as a markdown table and the sentences around it."""
    s, rounds = result
    def f(key):
        return fmt(s.get(key))
    rows = [
        ("sealing: the object waits for s3.wal.object.max.age.ms", f("seal"),
         f"the broker's setting ({seal_ms} ms after the object's first batch; with one record at a time, every "
         "record is a first batch)"),
        ("PUT of the object", f("put"),
         f"S3Proxy's own time per PutObject ({f('put_each')} ms, its request metrics) times PUTs per record ({f('puts')})"),
        ("the S3 client's own time around the PUT", f("put_client"),
         f"after the turn, BenchS3Probe put objects of a one-record WAL object's size with the SDK and settings of "
         f"Weir's S3 store: {f('probe_put')} ms per PUT as the client saw it, of which S3Proxy's own time "
         f"{f('probe_put_server')} ms; the difference (signing, the HTTP client) times PUTs per record"),
        ("commit in PostgreSQL", f("commit"),
         f"per WAL object's transaction in PostgreSQL's statement log, from the start of its first statement to the "
         f"end of its COMMIT ({f('span_each')} ms, to the millisecond), times commits per record ({f('commits')}); "
         f"PostgreSQL's own time in it {f('server_each')} ms, of which COMMIT with its WAL flush {f('flush_each')} ms, "
         f"over {f('statements')} statements besides BEGIN and COMMIT (sent in three round trips: the locks and reads,"
         " the writes, COMMIT)"),
        ("rest of send to acknowledged", f("rest_ack"),
         f"the measured time to the acknowledgement ({f('ack')} ms, BenchLatency) less the rows above: hand-offs "
         "inside the broker, waiting for a core, the network, the producer"),
        ("GET of the record", f("get"),
         f"S3Proxy's own time per GetObject ({f('get_each')} ms) times GETs per record ({f('gets')}): a tail fetch "
         "reads the object from the broker's cache, which the object went into as it was put"),
        ("the S3 client's own time around the GET", f("get_client"),
         f"BenchS3Probe's ranged GETs: {f('probe_get')} ms each as the client saw them, of which S3Proxy's "
         f"{f('probe_get_server')} ms; the difference times GETs per record"),
        ("rest of acknowledged to received", f("rest_fetch"),
         f"the measured time from acknowledgement to the consumer's receipt ({f('fetch')} ms) less the two GET rows: "
         "the consumer's next fetch, the broker's read path, hand-offs, waiting for a core"),
        ("send to received", f("total"), "BenchLatency's mean"),
    ]
    lines = [f"Mean milliseconds per record, median of {rounds} round(s); one record at a time as EndToEndLatency "
             f"sends them (BenchLatency, acks=all, linger.ms 0, consumer at the tail with fetch.max.wait.ms 0), after "
             "S3Proxy had served no request for 15 s, so that merging the workloads before is not counted in. "
             "S3Proxy keeps objects on the local disk, so its PUT and GET take far less than a real S3's "
             "(tens of milliseconds); the sealing wait is by design, and is there for every record.", "",
             "| part | ms | how it is measured |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += ["", f"Percentiles (ms): send to acknowledged p50 {f('ack_p50')}, p99 {f('ack_p99')}; acknowledged to "
              f"received p50 {f('fetch_p50')}, p99 {f('fetch_p99')}; send to received p50 {f('p50')}, p99 {f('p99')}.", ""]
    return lines


def seal_age_ms(machine):
    m = re.match(r"(\d+) ms", dict(machine).get("cluster seal age", ""))
    return int(m.group(1)) if m else 200


def markdown(work, runs, windows, machine, workloads, fmt, md_table):
    """The report's cluster-shape sections."""
    seal_ms = seal_age_ms(machine)
    (gb_header, gb_rows), (rec_header, rec_rows) = request_tables(windows, workloads, fmt)
    md = ["## Cluster shape: S3 requests and PostgreSQL transactions", "",
          "Counted outside the broker, per measured run (from just before the tool starts to a second after it "
          "ends): S3 requests from S3Proxy's request metrics, by operation (PUT also counts copies and multipart "
          "parts, HEAD also HeadBucket, LIST every listing, DELETE both kinds), PostgreSQL's transactions of the "
          "broker's database from `pg_stat_database` (xact_commit, xact_rollback). Background work of the broker "
          "(merging WAL objects into segments a minute after they were committed, deleting objects nothing refers "
          "to) falls into whichever run it happens in, so the whole turn's line is the one to read for what a GB "
          "costs. \"ms per PUT/GET\" is S3Proxy's own time per request. S3Proxy and PostgreSQL run on the same "
          "two cores as the broker and the tools; their CPU is shown here and not counted as other processes'.",
          ""]
    if gb_rows:
        md += ["Per GB moved (GB = 2^30 bytes produced, or consumed for the consume run), median of the rounds:", "",
               md_table(gb_header, gb_rows, right_from=1), ""]
    if rec_rows:
        md += ["Per record, for the one-record-at-a-time runs:", "", md_table(rec_header, rec_rows, right_from=1), ""]
    md += ["## Cluster shape: where an end-to-end record's time goes", ""]
    result = split(work, runs, windows, seal_ms)
    md += split_lines(result, fmt, seal_ms) if result else ["No split: the BenchLatency run has no result.", ""]
    return md


def console(work, runs, windows, machine, workloads, fmt, text_table):
    seal_ms = seal_age_ms(machine)
    (gb_header, gb_rows), (rec_header, rec_rows) = request_tables(windows, workloads, fmt)
    out = []
    if gb_rows:
        out += ["Cluster shape, per GB:", text_table(gb_header, gb_rows), ""]
    if rec_rows:
        out += ["Cluster shape, per record:", text_table(rec_header, rec_rows), ""]
    result = split(work, runs, windows, seal_ms)
    if result:
        s, _ = result
        out += ["Cluster shape, a record's time (mean ms): " + ", ".join(
            f"{label} {fmt(s.get(key))}" for key, label in (
                ("seal", "sealing"), ("put", "PUT"), ("put_client", "S3 client on PUT"), ("commit", "commit"),
                ("rest_ack", "rest to ack"), ("get", "GET"), ("get_client", "S3 client on GET"),
                ("rest_fetch", "rest to received"), ("total", "total"))), ""]
    return out
