#!/usr/bin/env python3
"""The soak run's load and its measurements (run by scripts/soak.sh).

    soak_feed.py --bootstrap HOST:PORT --prefix NAME --service URL --pid PID
                 --minutes M --rate R --out DIR

Publishes Thoth messages at R per second for M minutes (a mix: unresolved packages over a
bounded set of targets, releases of known versions and --new-releases new ones a second, solved
and SI-unanalyzed packages), and every 10 s records the service's resident memory, the lag
(records sent, not yet applied), the records applied, the batch latency (p50/p99 from the
`investigator_batch_seconds` histogram over the interval) and the workflows waiting in the outbox.
Writes DIR/soak.csv, DIR/soak.svg (one panel per series) and prints a summary with the trend of
memory and lag over the second half (least-squares slope).
"""

import argparse
import json
import threading
import time
import urllib.request
from pathlib import Path

from confluent_kafka import Producer

PYPI = "https://pypi.org/simple"
NAMES = [f"soak-{i}" for i in range(2000)]


def message(number, new_release_every):
    """Message `number` of the mix. One release in `new_release_every` is a version never seen
    (four workflows: three solvers and the reverse solver); the others announce known ones."""
    sent = {"component_name": "soak", "service_version": "0.1.0"}
    name = NAMES[number % len(NAMES)]
    kind = number % 8
    if kind < 4:
        return "thoth.investigator.unresolved-package", {**sent, "package_name": name,
                                                          "package_version": f"1.{number % 5}.0", "index_url": PYPI,
                                                          "solver": None}
    if kind < 6:
        new = new_release_every > 0 and (number // 8) % new_release_every == 0
        version = f"2.{number}.0" if new else f"1.{number % 5}.0"
        return "thoth.package-release.package-released", {**sent, "index_url": PYPI, "package_name": name,
                                                           "package_version": version}
    if kind == 6:
        return "thoth.solver.solved-package", {**sent, "package_name": name, "package_version": f"1.{number % 5}.0",
                                                "index_url": PYPI, "solver": "solver-rhel-8-py38"}
    return "thoth.investigator.si-unanalyzed-package", {**sent, "package_name": name,
                                                         "package_version": f"1.{number % 5}.0", "index_url": PYPI}


def produce(args, stop, sent):
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": args.linger_ms})
    start = time.monotonic()
    number = 0
    while not stop.is_set():
        due = int((time.monotonic() - start) * args.rate)
        while number < due:
            topic, body = message(number, args.new_release_every)
            while True:
                try:
                    producer.produce(f"{args.prefix}.{topic}", json.dumps(body).encode())
                    break
                except BufferError:
                    producer.poll(0.05)
            number += 1
        sent[0] = number
        producer.poll(0)
        time.sleep(0.01)
    producer.flush(60)
    sent[0] = number


def emit_to_bus(args, stop, sent):
    """The embedded bus instead of Kafka: once a second, the second's messages through
    `investigator emit --from-file` (one transaction each)."""
    import os
    import subprocess
    import tempfile
    start = time.monotonic()
    number = 0
    batch_file = Path(tempfile.mkdtemp()) / "batch.json"
    environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "", "RUST_LOG": "warn"}
    while not stop.is_set():
        due = int((time.monotonic() - start) * args.rate)
        if due > number:
            batch = []
            while number < due:
                topic, body = message(number, args.new_release_every)
                batch.append({"topic_name": topic, "message_contents": body})
                number += 1
            batch_file.write_text(json.dumps(batch))
            subprocess.run([args.emit, "emit", "--from-file", str(batch_file)], env=environment, check=True,
                           stdout=subprocess.DEVNULL)
            sent[0] = number
        time.sleep(0.2)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def gauge_sum(text, name):
    """The sum of a gauge's series (every label set)."""
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(name + "{") or line.startswith(name + " ")))


def histogram(text):
    buckets = {}
    for line in text.splitlines():
        if line.startswith("investigator_batch_seconds_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return buckets


def quantile(before, after, q):
    deltas = sorted((le, after.get(le, 0) - before.get(le, 0)) for le in after)
    total = deltas[-1][1] if deltas else 0
    if total <= 0:
        return 0.0
    for le, count in deltas:
        if count >= q * total:
            return le
    return deltas[-1][0]


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def slope(points):
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def svg(rows, path):
    series = [("rss_mib", "resident memory (MiB)"), ("lag", "lag (records sent, not yet applied)"),
              ("applied_per_s", "records applied per second"), ("batch_p99_s", "batch p99 (s)"),
              ("outbox", "workflows waiting in the outbox")]
    width, height, margin = 900, 180, 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height * len(series)}" '
             'font-family="sans-serif" font-size="12">']
    end = max(row["minute"] for row in rows) or 1
    for index, (key, title) in enumerate(series):
        top = index * height
        values = [row[key] for row in rows]
        high = max(values) or 1
        points = " ".join(
            f"{margin + (row['minute'] / end) * (width - 2 * margin):.1f},"
            f"{top + height - 25 - (row[key] / high) * (height - 50):.1f}" for row in rows)
        parts.append(f'<text x="{margin}" y="{top + 15}">{title}: max {high:.3g}</text>')
        parts.append(f'<line x1="{margin}" y1="{top + height - 25}" x2="{width - margin}" y2="{top + height - 25}" '
                     'stroke="#999"/>')
        parts.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/>')
        parts.append(f'<text x="{width - margin}" y="{top + height - 8}" text-anchor="end">{end:.0f} min</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts))


def main():
    parser = argparse.ArgumentParser()
    for name in ["prefix", "service", "out"]:
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--bootstrap", default="")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=int, default=2000)
    # tansu's in-memory storage lists every batch a partition holds on each fetch, so it slows
    # down as batches pile up (to a stop after some 30,000): one batch per topic a second keeps
    # a 30-minute run well below that. The investigator receives the same records either way.
    parser.add_argument("--linger-ms", type=int, default=1000, help="the producer's linger.ms")
    # Every new release asks for four workflows, which the launcher submits at 100/s in the
    # soak: more new releases than 25/s would grow the outbox without end, whatever the service
    # does. PyPI sees a few thousand releases a day; 5/s is 430,000 a day.
    parser.add_argument("--new-releases", type=float, default=5, help="new versions released per second")
    parser.add_argument("--emit", help="the investigator binary: publish to the embedded bus with it instead of Kafka")
    args = parser.parse_args()
    releases_per_second = args.rate * 2 / 8
    # One release in this many is new (0: none).
    args.new_release_every = max(1, round(releases_per_second / args.new_releases)) if args.new_releases > 0 else 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    stop, sent = threading.Event(), [0]
    producer = threading.Thread(target=emit_to_bus if args.emit else produce, args=(args, stop, sent))
    producer.start()
    rows = []
    start = time.monotonic()
    before = histogram(get(f"{args.service}/metrics"))
    applied_before = 0
    with open(out / "soak.csv", "w") as csv:
        csv.write("minute,sent,applied,applied_per_s,lag,rss_mib,batch_p50_s,batch_p99_s,outbox\n")
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(10)
            metrics = get(f"{args.service}/metrics")
            applied = int(sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                              if line.startswith("investigator_records_total")))
            after = histogram(metrics)
            # Lag as records sent and not yet applied (the local broker's high watermarks count
            # batches, not records).
            row = {"minute": (time.monotonic() - start) / 60, "sent": sent[0], "applied": applied,
                   "applied_per_s": (applied - applied_before) / 10, "lag": max(sent[0] - applied, 0),
                   "rss_mib": rss_mib(args.pid), "batch_p50_s": quantile(before, after, 0.5),
                   "batch_p99_s": quantile(before, after, 0.99), "outbox": gauge_sum(metrics, "investigator_workflows_waiting")}
            before, applied_before = after, applied
            rows.append(row)
            csv.write(",".join(f"{row[key]:.3f}" if isinstance(row[key], float) else str(row[key])
                               for key in ["minute", "sent", "applied", "applied_per_s", "lag", "rss_mib",
                                           "batch_p50_s", "batch_p99_s", "outbox"]) + "\n")
            csv.flush()
            print(f"[soak] {row['minute']:5.1f} min  sent {row['sent']:>9}  applied {applied:>9} "
                  f"({row['applied_per_s']:7.0f}/s)  lag {row['lag']:>7}  rss {row['rss_mib']:6.1f} MiB  "
                  f"batch p99 {row['batch_p99_s']} s  outbox {row['outbox']}", flush=True)
    stop.set()
    producer.join()
    svg(rows, out / "soak.svg")
    second_half = [row for row in rows if row["minute"] >= args.minutes / 2]
    memory = slope([(row["minute"], row["rss_mib"]) for row in second_half])
    lag = slope([(row["minute"], row["lag"]) for row in second_half])
    outbox = slope([(row["minute"], row["outbox"]) for row in second_half])
    rate = sum(row["applied_per_s"] for row in rows) / max(len(rows), 1)
    print(f"[soak] {args.minutes} min at {args.rate} msg/s: {sent[0]} sent, mean applied {rate:.0f}/s, "
          f"rss {min(r['rss_mib'] for r in rows):.0f}-{max(r['rss_mib'] for r in rows):.0f} MiB, "
          f"second-half trends: memory {memory:+.2f} MiB/min, lag {lag:+.0f} records/min, "
          f"outbox {outbox:+.0f} workflows/min; "
          f"files: {out / 'soak.csv'}, {out / 'soak.svg'}")


if __name__ == "__main__":
    main()
