#!/usr/bin/env python3
"""Report step of bench/run: reads a run directory, prints the Weir/Kafka table, writes
bench/results/<date>[-quick][-cluster].md (with the machine's description) and a PNG chart beside it.

    report.py --work bench/target/runs/<time>-<mode> --results bench/results --mode quick|full

The run directory holds manifest.tsv (one line per tool run: broker CPU ticks and peak RSS over that
run, the tool's exit code and its output file), machine.txt and problems.txt, written by bench/run,
plus the servers' logs under logs/. A run with --cluster also has a third server, weir-cluster, and
cluster-stats.tsv (S3Proxy's and PostgreSQL's counters before and after each of its windows; see
cluster.py). A run with --baseline has one more, weir-baseline: Weir built from an earlier revision,
whose short hash machine.txt gives ("baseline: <hash>, ..."); it is reported as "Weir@<hash>", with the
ratios of the current Weir to it. Uses only the standard library, and matplotlib for the chart.
"""

import argparse
import csv
import datetime
import os
import re
import statistics
import sys

import cluster

# The servers of the run, in turn order; main() adds the baseline and the cluster shape when the run has them.
SERVERS = ("kafka", "weir")
CLUSTER = cluster.SERVER
BASELINE = "weir-baseline"
NCPU = os.cpu_count() or 1
# Share of the machine's CPU used by other processes during a workload above which the report warns.
BUSY_PCT = 10
# main() sets the baseline's label, "Weir@<short hash>", from machine.txt.
LABEL = {"kafka": "Kafka", "weir": "Weir", BASELINE: "Weir@baseline", CLUSTER: "Weir on S3+PG"}
COLOR = {"kafka": "#4C72B0", "weir": "#DD8452", BASELINE: "#8172B3", CLUSTER: "#55A868"}

# Reported workloads, in order, with a readable name. The warm-up runs are measured but not reported.
WORKLOADS = [
    ("produce-1k-acks-all", "produce 1 KiB, 6 partitions, acks=all"),
    ("produce-1k-acks-1", "produce 1 KiB, 6 partitions, acks=1"),
    ("consume-all", "consume everything (both 1 KiB topics)"),
    ("e2e-1k-acks-all", "end-to-end latency, 1 KiB, acks=all"),
    ("produce-100b-acks-all", "produce 100 B, 6 partitions, acks=all"),
    ("produce-600p-acks-all", "produce 1 KiB, 600 partitions, acks=all"),
]
SHORT = {
    "produce-1k-acks-all": "1 KiB acks=all",
    "produce-1k-acks-1": "1 KiB acks=1",
    "consume-all": "consume all",
    "e2e-1k-acks-all": "end-to-end",
    "produce-100b-acks-all": "100 B acks=all",
    "produce-600p-acks-all": "600 partitions",
}

# (key, label, higher_is_better)
METRICS = [
    ("mb_s", "MB/s", True),
    ("rec_s", "records/s", True),
    ("avg", "avg latency ms", False),
    ("p50", "p50 latency ms", False),
    ("p99", "p99 latency ms", False),
    ("p999", "p99.9 latency ms", False),
    ("rebalance_ms", "group join ms", False),
    ("cpu_s_per_gb", "broker CPU s/GB", False),
    ("rss_mib", "broker peak RSS MiB", False),
]
# Shown per round only: context for judging a run, not a comparison.
CONTEXT_METRICS = [
    ("client_cpu_s", "tool CPU s", None),
    ("other_pct", "other processes, % of machine CPU", None),
    ("wall_s", "tool wall time s", None),
]

PRODUCE_RE = re.compile(
    r"^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
    r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th")
E2E_AVG_RE = re.compile(r"^Avg latency: ([\d.]+) ms")
E2E_PCT_RE = re.compile(r"^Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)")


def parse_output(tool, path):
    """The tool's own figures, or None when its output has no result line."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.rstrip("\n") for line in f]
    except OSError:
        return None
    if tool == "ProducerPerformance":
        found = None
        for line in lines:
            m = PRODUCE_RE.match(line)
            if m:
                found = m  # the last summary line is the whole run's
        if not found:
            return None
        return {"records": int(found.group(1)), "rec_s": float(found.group(2)), "mb_s": float(found.group(3)),
                "avg": float(found.group(4)), "p50": float(found.group(6)), "p99": float(found.group(8)),
                "p999": float(found.group(9))}
    if tool == "ConsumerPerformance":
        for i, line in enumerate(lines):
            if line.startswith("start.time") and i + 1 < len(lines):
                cols = [c.strip() for c in lines[i + 1].split(",")]
                if len(cols) < 10:
                    return None
                # fetch.MB.sec and fetch.nMsg.sec leave out the time spent joining the group.
                return {"records": int(cols[4]), "mb_s": float(cols[8]), "rec_s": float(cols[9]),
                        "rebalance_ms": float(cols[6]), "mb_s_with_join": float(cols[3])}
        return None
    if tool == "EndToEndLatency":
        out = {}
        for line in lines:
            m = E2E_AVG_RE.match(line)
            if m:
                out["avg"] = float(m.group(1))
            m = E2E_PCT_RE.match(line)
            if m:
                out.update(p50=float(m.group(1)), p99=float(m.group(2)), p999=float(m.group(3)))
        return out if "p50" in out else None
    if tool == "BenchLatency":
        return cluster.parse_latency(lines)
    return None


def load(work):
    clk_tck = os.sysconf("SC_CLK_TCK")
    runs = []  # dicts: server, round, workload, metrics..., ok
    with open(os.path.join(work, "manifest.tsv"), encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["workload"].startswith("warmup"):
                continue
            parsed = parse_output(row["tool"], row["output"])
            entry = {"server": row["server"], "round": int(row["round"]), "workload": row["workload"],
                     "rc": row["rc"], "output": row["output"], "ok": parsed is not None and row["rc"] == "0"}
            if parsed:
                entry.update(parsed)
            if row["cpu_ticks"] and row["bytes"]:
                cpu_s = int(row["cpu_ticks"]) / clk_tck
                gib = int(row["bytes"]) / 2 ** 30
                entry["cpu_s"] = cpu_s
                entry["cpu_s_per_gb"] = cpu_s / gib if gib else None
            if row["hwm_kb"]:
                entry["rss_mib"] = int(row["hwm_kb"]) / 1024
            entry["rss_reset"] = row["rss_reset"]
            entry["wall_s"] = float(row["wall_s"]) if row.get("wall_s") else None
            if row.get("client_cpu_ms") and row.get("machine_busy_ticks") and "cpu_s" in entry and entry["wall_s"]:
                client_s = int(row["client_cpu_ms"]) / 1000
                busy_s = int(row["machine_busy_ticks"]) / clk_tck
                entry["client_cpu_s"] = client_s
                # CPU time of everything that is neither the broker nor the tool: other people's work.
                entry["other_pct"] = max(0.0, busy_s - entry["cpu_s"] - client_s) / (entry["wall_s"] * NCPU) * 100
            runs.append(entry)
    return runs


def median_of(runs, server, workload, key):
    values = [r[key] for r in runs if r["server"] == server and r["workload"] == workload
              and r["ok"] and r.get(key) is not None]
    return (statistics.median(values), values) if values else (None, [])


def fmt(v):
    if v is None:
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_short(v):
    """Compact label for the chart: 152,663 -> 153k."""
    if v is not None and abs(v) >= 10000:
        return f"{v / 1e6:.2f}M" if abs(v) >= 1e6 else f"{v / 1e3:.0f}k"
    return fmt(v)


def ratio(weir, kafka):
    if weir is None or kafka is None or kafka == 0:
        return None
    return weir / kafka


def summary_columns():
    """The results table's columns after workload and metric: (header, cell of a row's medians by server).
    Kafka, Weir and Weir/Kafka always; with a baseline, its figures and Weir / baseline; with the cluster
    shape, its figures and S3+PG / Weir."""
    def value(server):
        return lambda m: fmt(m[server])

    def quotient(top, bottom):
        return lambda m: "-" if ratio(m[top], m[bottom]) is None else f"{ratio(m[top], m[bottom]):.2f}"

    columns = [("Kafka", value("kafka")), ("Weir", value("weir")), ("Weir/Kafka", quotient("weir", "kafka"))]
    if BASELINE in SERVERS:
        columns += [(LABEL[BASELINE], value(BASELINE)), ("Weir/" + LABEL[BASELINE], quotient("weir", BASELINE))]
    if CLUSTER in SERVERS:
        columns += [(LABEL[CLUSTER], value(CLUSTER)), ("S3+PG/Weir", quotient(CLUSTER, "weir"))]
    return columns


def summary_rows(runs):
    """(workload name, metric label, {server: median}, direction) for every metric a workload has."""
    rows = []
    for key, name in WORKLOADS:
        for mkey, mlabel, higher in METRICS:
            medians = {s: median_of(runs, s, key, mkey)[0] for s in SERVERS}
            if all(v is None for v in medians.values()):
                continue
            rows.append((name, mlabel, medians, "higher is better" if higher else "lower is better"))
    return rows


def text_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                                    for i, (c, w) in enumerate(zip(cells, widths)))
    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def md_table(header, rows, right_from=2):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i < right_from else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# Kafka logs these WARN lines on every fresh single-node start and stop; they say nothing about a run.
BENIGN = [re.compile(p) for p in (
    r"Performing controller activation\. The metadata log appears to be empty",
    r"Attempting to close NetworkClient that has already been closed",
)]


def log_findings(work):
    """WARN/ERROR lines (with any stack trace lines after them) of both servers' logs, and warning or
    error lines of the tools' output, by file."""
    findings = {}

    def scan(path, is_entry, is_bad):
        hits, keep = [], False
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if is_entry(line):
                    keep = is_bad(line) and not any(b.search(line) for b in BENIGN)
                    if keep:
                        hits.append(line)
                elif keep and line.strip():
                    hits.append(line)  # continuation: a stack trace or a wrapped message
        return hits

    logs = os.path.join(work, "logs")
    for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
        path = os.path.join(logs, name)
        if re.match(r"weir(-cluster|-baseline)?-r\d+\.log$", name):
            hits = scan(path, lambda l: re.match(r"^\d\d:\d\d:\d\d\.\d+ ", l) is not None,
                        lambda l: re.match(r"^\S+ (WARN|ERROR) ", l) is not None)
        elif re.match(r"kafka-r\d+\.log$", name):
            hits = scan(path, lambda l: l.startswith("["), lambda l: re.match(r"^\[[^\]]+\] (WARN|ERROR) ", l) is not None)
        else:
            hits = scan(path, lambda l: True, lambda l: re.search(r"\b(ERROR|FATAL)\b|Exception", l) is not None)
        if hits:
            findings[name] = hits
    outs = os.path.join(work, "out")
    for name in sorted(os.listdir(outs)) if os.path.isdir(outs) else []:
        hits = scan(os.path.join(outs, name), lambda l: True,
                    lambda l: re.search(r"\b(ERROR|WARN)\b|Exception", l) is not None)
        if hits:
            findings["tool output " + name] = hits
    return findings


def chart(runs, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        print("report: matplotlib is not installed; no chart (apt-get install python3-matplotlib)", file=sys.stderr)
        return False

    fig = plt.figure(figsize=(18, 15))
    grid = fig.add_gridspec(3, 3, hspace=0.6, wspace=0.22)

    def series(workloads, key):
        return {s: [median_of(runs, s, w, key) for w in workloads] for s in SERVERS}

    def bars(ax, groups, values, ylabel, log=False):
        """Kafka and Weir side by side per group; values: {server: [(median, per-round values)]}."""
        width = 0.76 / len(SERVERS)
        xs = range(len(groups))
        top = 0
        for i, server in enumerate(SERVERS):
            offs = [x + (i - (len(SERVERS) - 1) / 2) * width for x in xs]
            ax.bar(offs, [m if m is not None else 0 for m, _ in values[server]], width, color=COLOR[server])
            for x, (m, per_round) in zip(offs, values[server]):
                ax.scatter([x] * len(per_round), per_round, s=9, color="black", zorder=3)
                if m is not None:
                    ax.annotate(fmt_short(m), (x, max(m, *per_round)), ha="center", va="bottom", fontsize=7.5,
                                xytext=(0, 2), textcoords="offset points")
                    top = max(top, m, *per_round)
        for x, (k, _), (w, _) in zip(xs, values["kafka"], values["weir"]):
            r = ratio(w, k)
            if r is not None:
                ax.annotate(f"W/K {r:.2f}", (x, 0), xycoords=("data", "axes fraction"), xytext=(0, -3),
                            textcoords="offset points", ha="center", va="top", fontsize=7.5, color="dimgray")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(groups, fontsize=8)
        ax.tick_params(axis="x", pad=14)
        ax.set_ylabel(ylabel)
        if not log:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_short(v) if v else "0"))
        if log:
            ax.set_yscale("log")
            ax.set_ylim(top=top * 3 if top else None)
        elif top:
            ax.set_ylim(0, top * 1.15)
        ax.grid(axis="y", alpha=0.3)

    tput = [w for w, _ in WORKLOADS if w != "e2e-1k-acks-all"]
    ax = fig.add_subplot(grid[0, 0])
    bars(ax, [SHORT[w].replace(" acks", "\nacks") for w in tput], series(tput, "mb_s"), "MB/s (2^20 bytes)")
    ax.set_title("Throughput, MB/s (higher is better)", fontsize=11)
    ax = fig.add_subplot(grid[0, 1])
    bars(ax, [SHORT[w].replace(" acks", "\nacks") for w in tput], series(tput, "rec_s"), "records/s")
    ax.set_title("Throughput, records/s (higher is better)", fontsize=11)

    e2e = "e2e-1k-acks-all"
    keys = [("avg", "avg"), ("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")]
    ax = fig.add_subplot(grid[0, 2])
    # On S3 every record also waits for its object's seal age, some 200 ms: a log scale keeps the others readable.
    bars(ax, [label for _, label in keys], {s: [median_of(runs, s, e2e, k) for k, _ in keys] for s in SERVERS}, "ms",
         log=CLUSTER in SERVERS)
    ax.set_title("End-to-end latency, 1 KiB, acks=all, one record at a time\n"
                 "(EndToEndLatency, whole-ms percentiles" + ("; log scale" if CLUSTER in SERVERS else "")
                 + "; lower is better)", fontsize=10)

    # Producer latency: per produce workload, p50 / p99 / p99.9 of each server, lighter to darker.
    produce = ["produce-1k-acks-all", "produce-1k-acks-1", "produce-100b-acks-all", "produce-600p-acks-all"]
    pcts = [("p50", "p50", 0.45), ("p99", "p99", 0.75), ("p999", "p99.9", 1.0)]
    ax = fig.add_subplot(grid[1, :])
    per_group = len(SERVERS) * len(pcts)
    width = 0.78 / per_group
    top = 0
    for wi, w in enumerate(produce):
        for si, server in enumerate(SERVERS):
            for pi, (key, label, alpha) in enumerate(pcts):
                x = wi + (si * len(pcts) + pi - (per_group - 1) / 2) * width
                m, per_round = median_of(runs, server, w, key)
                if m is None:
                    continue
                ax.bar(x, m, width, color=COLOR[server], alpha=alpha, edgecolor="white")
                ax.scatter([x] * len(per_round), per_round, s=9, color="black", zorder=3)
                ax.annotate(f"{label}\n{fmt(m)}", (x, max(m, *per_round)), ha="center", va="bottom", fontsize=7,
                            xytext=(0, 2), textcoords="offset points")
                top = max(top, m, *per_round)
        k, _ = median_of(runs, "kafka", w, "p99")
        wv, _ = median_of(runs, "weir", w, "p99")
        r = ratio(wv, k)
        if r is not None:
            ax.annotate(f"p99 W/K {r:.2f}", (wi, 0), xycoords=("data", "axes fraction"), xytext=(0, -3),
                        textcoords="offset points", ha="center", va="top", fontsize=8, color="dimgray")
    ax.set_xticks(range(len(produce)))
    ax.set_xticklabels([SHORT[w] for w in produce], fontsize=9)
    ax.tick_params(axis="x", pad=14)
    ax.set_yscale("log")
    if top:
        ax.set_ylim(top=top * 4)
    ax.set_ylabel("ms (log scale)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Producer send-to-acknowledgement latency percentiles at full load "
                 "(ProducerPerformance unthrottled, so mostly queueing in the producer; lower is better)", fontsize=11)

    all_w = [w for w, _ in WORKLOADS]
    ax = fig.add_subplot(grid[2, 0])
    bars(ax, [SHORT[w].replace(" acks", "\nacks") for w in all_w], series(all_w, "cpu_s_per_gb"), "CPU s per GB", log=True)
    ax.set_title("Broker CPU seconds per GB moved\n(user+system, log scale; lower is better)", fontsize=10)
    ax.tick_params(axis="x", labelsize=7.5)
    ax = fig.add_subplot(grid[2, 1])
    bars(ax, [SHORT[w].replace(" acks", "\nacks") for w in all_w], series(all_w, "rss_mib"), "MiB")
    ax.set_title("Broker peak RSS during each workload\n(lower is better)", fontsize=10)
    ax.tick_params(axis="x", labelsize=7.5)

    # Headline ratios as text.
    ax = fig.add_subplot(grid[2, 2])
    ax.axis("off")
    lines = ["Weir / Kafka, median of rounds", ""]
    for w in tput:
        k, _ = median_of(runs, "kafka", w, "mb_s")
        wv, _ = median_of(runs, "weir", w, "mb_s")
        r = ratio(wv, k)
        lines.append(f"{SHORT[w] + ' MB/s':<24}{'-' if r is None else f'{r:.2f}':>6}")
    for key, label in (("p50", "p50"), ("p99", "p99")):
        k, _ = median_of(runs, "kafka", e2e, key)
        wv, _ = median_of(runs, "weir", e2e, key)
        r = ratio(wv, k)
        lines.append(f"{'end-to-end ' + label:<24}{'-' if r is None else f'{r:.2f}':>6}")
    if BASELINE in SERVERS:
        lines += ["", "Weir / " + LABEL[BASELINE]]
        for w in tput:
            wv, _ = median_of(runs, "weir", w, "mb_s")
            b, _ = median_of(runs, BASELINE, w, "mb_s")
            r = ratio(wv, b)
            lines.append(f"{SHORT[w] + ' MB/s':<24}{'-' if r is None else f'{r:.2f}':>6}")
        for key, label in (("p50", "p50"), ("p99", "p99")):
            b, _ = median_of(runs, BASELINE, e2e, key)
            wv, _ = median_of(runs, "weir", e2e, key)
            r = ratio(wv, b)
            lines.append(f"{'end-to-end ' + label:<24}{'-' if r is None else f'{r:.2f}':>6}")
    if CLUSTER in SERVERS:
        lines += ["", "Weir on S3+PG / Weir"]
        for w in tput:
            wv, _ = median_of(runs, "weir", w, "mb_s")
            c, _ = median_of(runs, CLUSTER, w, "mb_s")
            r = ratio(c, wv)
            lines.append(f"{SHORT[w] + ' MB/s':<24}{'-' if r is None else f'{r:.2f}':>6}")
        for key, label in (("p50", "p50"), ("p99", "p99")):
            wv, _ = median_of(runs, "weir", e2e, key)
            c, _ = median_of(runs, CLUSTER, e2e, key)
            r = ratio(c, wv)
            lines.append(f"{'end-to-end ' + label:<24}{'-' if r is None else f'{r:.1f}':>6}")
    lines += ["", "throughput: above 1 = Weir faster", "latency: above 1 = Weir slower"]
    # With both the baseline and the cluster shape, the box needs a smaller font to fit its panel.
    ax.text(0.02, 0.98, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=10 if len(lines) <= 22 else 8,
            transform=ax.transAxes, bbox=dict(boxstyle="round", facecolor="#f4f4f4", edgecolor="#cccccc"))

    # Four servers (baseline and cluster shape) in one row would run into the title: two rows then.
    fig.legend(handles=[Patch(color=COLOR[s], label=LABEL[s]) for s in SERVERS], loc="upper right",
               bbox_to_anchor=(0.98, 0.985), ncol=len(SERVERS) if len(SERVERS) <= 3 else 2, fontsize=11)
    fig.suptitle(title, fontsize=13)
    fig.text(0.5, 0.06, "bars: median of the rounds; dots: each round; W/K: Weir / Kafka", ha="center",
             fontsize=9, color="dimgray")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return True


def main():
    global SERVERS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--mode", default="full")
    args = parser.parse_args()

    runs = load(args.work)
    windows = cluster.load(args.work)
    machine = []
    with open(os.path.join(args.work, "machine.txt"), encoding="utf-8") as f:
        machine = [line.rstrip("\n").split(": ", 1) for line in f if ": " in line]
    baseline = dict(machine).get("baseline", "").split(",")[0]
    if any(r["server"] == BASELINE for r in runs):
        SERVERS += (BASELINE,)
        LABEL[BASELINE] = "Weir@" + (baseline or "baseline")
    if any(r["server"] == CLUSTER for r in runs):
        SERVERS += (CLUSTER,)
        cluster.adjust_other_pct(runs, windows, NCPU)
    problems = []
    problems_path = os.path.join(args.work, "problems.txt")
    if os.path.exists(problems_path):
        with open(problems_path, encoding="utf-8") as f:
            problems = [line.rstrip("\n") for line in f if line.strip()]
    failed = [r for r in runs if not r["ok"]]
    busy = [r for r in runs if (r.get("other_pct") or 0) > BUSY_PCT]
    findings = log_findings(args.work)
    rounds = sorted({r["round"] for r in runs})

    os.makedirs(args.results, exist_ok=True)
    base = (datetime.date.today().isoformat() + ("-quick" if args.mode == "quick" else "")
            + ("-cluster" if CLUSTER in SERVERS else "") + (f"-baseline-{baseline}" if BASELINE in SERVERS else ""))
    name, n = base, 2
    while os.path.exists(os.path.join(args.results, name + ".md")):
        name, n = f"{base}-{n}", n + 1
    md_path = os.path.join(args.results, name + ".md")
    png_path = os.path.join(args.results, name + ".png")

    columns = summary_columns()
    header = ["workload", "metric"] + [h for h, _ in columns] + [""]
    cells = [(w, m, *(cell(medians) for _, cell in columns), d) for w, m, medians, d in summary_rows(runs)]

    info = dict(machine)
    cpu_desc = info.get("cpu", "?")
    title = (f"Weir vs Apache Kafka 4.3.1{' and ' + LABEL[BASELINE] if BASELINE in SERVERS else ''}"
             f"{', and Weir on S3 and PostgreSQL' if CLUSTER in SERVERS else ''}: "
             f"{args.mode} mode, {len(rounds)} round(s), {datetime.date.today()}\n"
             f"{cpu_desc}, {info.get('cores', '?').split(' ')[0]} cores, {info.get('memory', '?')}")
    have_chart = chart(runs, png_path, title)

    print()
    print(f"Weir vs Apache Kafka 4.3.1, {args.mode} mode, median of {len(rounds)} round(s)")
    print(text_table(header, cells))
    print()
    if CLUSTER in SERVERS:
        print("\n".join(cluster.console(args.work, runs, windows, machine, WORKLOADS, fmt, text_table)))
    for p in problems:
        print("problem:", p)
    for r in failed:
        print(f"problem: {r['server']} round {r['round']} {r['workload']}: no result (exit {r['rc']}, see {r['output']})")
    for r in busy:
        print(f"busy machine: {r['server']} round {r['round']} {r['workload']}: other processes used "
              f"{r['other_pct']:.0f}% of the machine's CPU meanwhile")
    for source, hits in findings.items():
        print(f"log: {len(hits)} warning/error line(s) in {source}, e.g. {hits[0][:200]}")

    per_round_header = ["workload", "metric"] + [f"{LABEL[s]} r{i}" for s in SERVERS for i in rounds]
    per_round = []
    for key, wname in WORKLOADS:
        for mkey, mlabel, _ in METRICS + CONTEXT_METRICS:
            vals = []
            for s in SERVERS:
                for i in rounds:
                    v = [r.get(mkey) for r in runs if r["server"] == s and r["round"] == i and r["workload"] == key and r["ok"]]
                    vals.append(fmt(v[0]) if v and v[0] is not None else "-")
            if any(v != "-" for v in vals):
                per_round.append([wname, mlabel] + vals)

    rel = os.path.relpath
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    md = [f"# Weir vs Apache Kafka 4.3.1: {args.mode} mode, {datetime.date.today()}", ""]
    md += ["Made by `bench/run" + (" --quick" if args.mode == "quick" else "") + (" --cluster" if CLUSTER in SERVERS else "")
           + (f" --baseline {baseline}" if BASELINE in SERVERS else "")
           + "`. Ratios are Weir divided by Kafka: above 1 means Weir is faster for throughput, "
           "slower or hungrier for latency, CPU and memory." + (
               f" Weir/{LABEL[BASELINE]} is this Weir divided by Weir built from {baseline}, read the same way."
               if BASELINE in SERVERS else "") + (
               " S3+PG/Weir is Weir on S3 and PostgreSQL divided by Weir on its local disk, read the same way."
               if CLUSTER in SERVERS else ""), ""]
    md += ["## Machine", ""] + [f"- **{k}**: {v}" for k, v in machine] + [""]
    md += ["## How it was measured", "",
           "- Each round starts Apache Kafka (KRaft, one combined broker+controller, default durability: no fsync per "
           "message), runs every workload against it and stops it; then the same for Weir (default durability: "
           "fsync before each acknowledgement). Fresh data directories each time, both on loopback.",
           "- All load comes from Apache Kafka 4.3.1's own tools: `ProducerPerformance` (unthrottled, batch.size "
           "128 KiB, linger.ms 5), `ConsumerPerformance` (a consumer group reading both 1 KiB topics from the "
           "start), `EndToEndLatency` (one record at a time, acks=all). A warm-up precedes them and is not reported: "
           "the same kinds of traffic (produce with acks=1, with acks=all, consume), long enough for each JVM's JIT "
           "to compile most of its hot paths, so that the figures are those of a broker that has been running.",
           "- MB/s is 2^20 bytes per second, as the tools count it. Consumer throughput is the tools' fetch rate "
           "(`fetch.MB.sec`), leaving out the group join, which is reported as its own row.",
           "- Producer latencies are send-to-acknowledgement times under full, unthrottled load, so they are "
           "mostly queueing in the producer's 32 MiB buffer; the end-to-end run gives latency without load. "
           "`EndToEndLatency` prints its percentiles in whole milliseconds.",
           "- Broker CPU: user+system time of the broker process (/proc/PID/stat) over each workload, divided by the "
           "payload bytes it moved (GB = 2^30 bytes). Peak RSS: VmHWM of the broker, reset before each workload "
           "(`echo 5 > /proc/PID/clear_refs`); a JVM seldom hands memory back, so a workload's peak includes the heap "
           "that earlier workloads of the same start grew" + ("" if all(r.get("rss_reset") == "yes" for r in runs)
                                                  else "; the reset failed for some runs, so those show the peak since start") + ".",
           "- Not counted as broker CPU: work the kernel does for the broker in its own threads, chiefly writing "
           "Kafka's dirty page cache back to disk after the fact; Weir's fsyncs are counted, as they run in its "
           "own threads.",
           ] + ([
           "- Before each server's turn the run reads a file about the size of the free memory, so that the page "
           "cache fills the memory, as on a machine that has been running, and each turn's writes reclaim cached "
           "pages. Without it, writes on a virtual machine may land in memory the host has yet to back, whose "
           "first touch costs a host page fault (2.3 s of CPU per GB on the development machine), charged to "
           "whichever broker grows its page cache into it."] if dict(machine).get("page cache", "").startswith("filled")
               else []) + [
           "- Each figure in the results table is the median over the rounds (with two rounds, their mean), "
           "which keeps one disturbed round from moving it much; the per-round figures follow.",
           "- The client tools run on the same cores as the broker. \"Other processes\" in the per-round table is "
           "the machine's CPU time spent outside the broker and the tool during a run, as a share of all cores: "
           "a rough figure (the kernel samples the machine's total by ticks), but anything well above a few % means something else was running and those figures are disturbed.",
           ] + ([
           f"- {LABEL[BASELINE]} is one more turn of each round, right after Weir's: Weir built from git revision "
           f"{baseline} (see the machine's description) and started exactly as the current Weir: the same heap, JVM "
           "options and settings, a fresh data directory, a port of its own. Both builds are thus measured in the "
           "same minutes of the same machine, and their ratio is the cost or gain of the changes between them.",
           ] if BASELINE in SERVERS else []) + ([
           f"- The cluster shape (Weir on S3+PG) is {'the last' if BASELINE in SERVERS else 'a third'} turn of each round: "
           "Weir with its objects in S3 (S3Proxy "
           "on this machine, keeping them on the local disk) and its metadata in PostgreSQL (fsync on), each server "
           "in a process of its own, fresh for the turn. Every WAL object is one PUT, sealed "
           f"{cluster.seal_age_ms(machine)} ms after its first batch (s3.wal.object.max.age.ms) unless full first, "
           "so every acknowledgement waits for that; the end-to-end run has fewer records for it. Its broker CPU "
           "and RSS are the broker's alone; S3Proxy's and PostgreSQL's are in the cluster sections below.",
           ] if CLUSTER in SERVERS else []) + [""]
    md += [f"## Results (median of {len(rounds)} round(s))", "", md_table(header, cells), ""]
    if have_chart:
        md += [f"![Weir vs Kafka]({name}.png)", ""]
    md += ["## Each round", "", md_table(per_round_header, per_round), ""]
    if CLUSTER in SERVERS:
        md += cluster.markdown(args.work, runs, windows, machine, WORKLOADS, fmt, md_table)
    md += ["## Problems seen", ""]
    if busy:
        md += [f"- Other processes on the machine used more than {BUSY_PCT}% of its CPU during "
               f"{len(busy)} of {len(runs)} measured runs, which disturbs those figures:"]
        md += [f"  {r['server']} round {r['round']} {r['workload']} ({r['other_pct']:.0f}%)" + (";" if i < len(busy) - 1 else ".")
               for i, r in enumerate(busy)]
        md.append("")
    if not problems and not failed and not findings and not busy:
        md += ["None: every tool run finished, and neither broker logged a warning or error.", ""]
    for p in problems:
        md.append(f"- {p}")
    for r in failed:
        md.append(f"- {r['server']} round {r['round']} {r['workload']}: no result (exit {r['rc']})")
    for source, hits in findings.items():
        md += [f"- {len(hits)} warning/error line(s) in `{source}`" + (f" (first {min(len(hits), 15)}):" if hits else ""),
               "", "```"] + [h[:400] for h in hits[:15]] + ["```", ""]
    md += ["", f"Raw output and logs of this run: `{rel(args.work, repo_root)}` (not kept in git).", ""]
    with open(md_path, "w", encoding="utf-8") as f:
        f.write("\n".join(md))

    print(f"results: {rel(md_path, os.getcwd())}")
    if have_chart:
        print(f"chart:   {rel(png_path, os.getcwd())}")


if __name__ == "__main__":
    main()
