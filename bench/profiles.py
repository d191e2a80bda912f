#!/usr/bin/env python3
"""Summary of the profiles `bench/run --profile` took: where each broker's CPU went, per workload.

    bench/profiles.py PROFILE_DIR

PROFILE_DIR holds async-profiler's collapsed stacks, one file per server, round and workload
(`weir-r1-produce-1k-acks-1.collapsed`: one line per distinct stack, `thread;frame;...;frame count`,
taken with the `threads` option so that each stack starts with its thread's name). The rounds of a
server and workload are added up. Writes PROFILE_DIR/summary.md: for each workload and server, the share
of samples per thread (numbered threads of one pool counted together), per kind of code and per frame
on top of the stack (self time). The flame graphs beside it (.html) show the whole stacks.
"""

import collections
import pathlib
import re
import sys

TOP_THREADS = 8
TOP_FRAMES = 15


def thread_group(frame):
    """`[weir-wal-write-2 tid=123]` -> `weir-wal-write-N`: one pool's threads count as one."""
    name = re.sub(r"\s*tid=\d+$", "", frame.strip("[]"))
    return re.sub(r"\d+$", "N", name)


def library_name(frame):
    """A native library's frame is its path: keep the file name, without a temporary copy's random part."""
    if "/" not in frame:
        return frame
    return re.sub(r"-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "", frame.rsplit("/", 1)[1])


def kind(frames):
    """What sort of work a stack is: the JIT compilers, GC, kernel or Java code, for the one-line split."""
    thread = frames[0]
    if "CompilerThre" in thread:
        return "JIT compiler threads"
    if "GC Thread" in thread or "G1 " in thread or "VM Thread" in thread:
        return "GC and VM threads"
    if frames[-1].endswith("_[k]"):
        return "kernel (system calls, page cache, network)"
    return "Java and native code of the broker's threads"


def load(path):
    threads, kinds, leaves = collections.Counter(), collections.Counter(), collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        n = int(count)
        threads[thread_group(frames[0])] += n
        kinds[kind(frames)] += n
        leaves[library_name(frames[-1])] += n
    return threads, kinds, leaves


def table(title, counter, total, limit):
    rows = [f"| {title} | share |", "|---|---:|"]
    for name, n in counter.most_common(limit):
        rows.append(f"| `{name}` | {100.0 * n / total:.1f}% |")
    return rows


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench/profiles.py PROFILE_DIR")
    directory = pathlib.Path(sys.argv[1])
    groups = collections.defaultdict(list)  # (workload, server) -> files
    for path in sorted(directory.glob("*.collapsed")):
        # weir-baseline: the Weir of `bench/run --baseline`, built from an earlier revision.
        match = re.match(r"(kafka|weir|weir-baseline)-r\d+-(.+)\.collapsed$", path.name)
        if match:
            groups[(match.group(2), match.group(1))].append(path)
    out = ["# Where the brokers' CPU went", "",
           "Sampled by async-profiler (CPU time, all threads) over each measured workload of `bench/run --profile`;",
           "the rounds of each server are added up. Shares are of that server's samples in that workload.", ""]
    for (workload, server), paths in sorted(groups.items()):
        threads, kinds, leaves = collections.Counter(), collections.Counter(), collections.Counter()
        for path in paths:
            t, k, leaf = load(path)
            threads.update(t)
            kinds.update(k)
            leaves.update(leaf)
        total = sum(threads.values())
        if total == 0:
            continue
        out.append(f"## {workload}: {server} ({total} samples, {len(paths)} round(s))")
        out.append("")
        out.append("; ".join(f"{name} {100.0 * n / total:.0f}%" for name, n in kinds.most_common()))
        out.append("")
        out += table("thread", threads, total, TOP_THREADS)
        out.append("")
        out += table("frame on top of the stack", leaves, total, TOP_FRAMES)
        out.append("")
    (directory / "summary.md").write_text("\n".join(out))
    print(directory / "summary.md")


if __name__ == "__main__":
    main()
