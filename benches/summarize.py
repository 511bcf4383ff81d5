#!/usr/bin/env python3
"""Turns criterion's results (target/criterion) into the ratio tables of
benches/RESULTS.md. Run after the three benches:

    python3 benches/summarize.py [target/criterion] > /tmp/tables.md

Every ratio compares two medians measured in the same run. A "speed" ratio
is other_time / lwsec_time (above 1: lwsec is faster); a "cost" ratio is
lwsec_time / floor_time (above 1: lwsec costs more than the floor).
"""

import json
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"


def load():
    medians = {}
    intervals = {}
    for dirpath, _, files in os.walk(ROOT):
        if not dirpath.endswith(os.sep + "new") or "estimates.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            meta = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        medians[meta["full_id"]] = est["median"]["point_estimate"]
        ci = est["median"]["confidence_interval"]
        intervals[meta["full_id"]] = (ci["lower_bound"], ci["upper_bound"])
    return medians, intervals


M, CI = load()


def t(key):
    return M.get(key)


def fmt_time(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def ratio(a, b):
    if a is None or b is None:
        return "n/a"
    return f"{a / b:.2f}x"


def mbps(size, ns):
    if ns is None:
        return "n/a"
    return f"{size / ns * 1e3:.0f}"


def per_sec(ns):
    if ns is None:
        return "n/a"
    return f"{1e9 / ns:,.0f}"


PROVIDERS = [p for p in ("rust-crypto", "aws-lc") if any(p in k for k in M)]
SUITES = ["aes256gcm", "chacha20poly1305"]
SIZES = [64, 1024, 16384]


def record():
    print("### Record layer: lwsec vs the raw AEAD it wraps\n")
    print("Speed = raw time / lwsec time (1.00x: lwsec as fast as the bare AEAD).\n")
    print("| provider | suite | size | op | lwsec | raw AEAD | lwsec speed vs raw |")
    print("|---|---|---:|---|---:|---:|---:|")
    for p in PROVIDERS:
        for s in SUITES:
            for n in SIZES:
                for op in ("seal", "open", "seal_open"):
                    lw = t(f"record/{op}/lwsec-{p}/{s}/{n}")
                    raw = t(f"record/{op}/raw-{p}/{s}/{n}")
                    print(f"| {p} | {s} | {n} | {op.replace('_', '+')} | {fmt_time(lw)} "
                          f"| {fmt_time(raw)} | {ratio(raw, lw)} |")
    print()
    print("1 MiB message (64 records of 16 KiB, send_message + handle_input + recv_message):\n")
    print("| provider | suite | lwsec | raw AEAD (64 seal+open) | lwsec MB/s | lwsec speed vs raw |")
    print("|---|---|---:|---:|---:|---:|")
    for p in PROVIDERS:
        for s in SUITES:
            lw = t(f"record/message_1MiB/lwsec-{p}/{s}")
            raw = t(f"record/message_1MiB/raw-{p}/{s}")
            print(f"| {p} | {s} | {fmt_time(lw)} | {fmt_time(raw)} | {mbps(1 << 20, lw)} "
                  f"| {ratio(raw, lw)} |")
    print()


def handshake():
    for kind, title in (("full", "Full handshake (client + server in one process)"),
                        ("server", "Server side alone (fresh server answering a pre-built first flight)")):
        print(f"### {title}\n")
        print("Cost = lwsec time / X25519 floor of the same provider (1.00x: nothing but the X25519 work).\n")
        print("Provider X25519 = the same operations through `CryptoProvider::kx` "
              "(what lwsec's handshake calls).\n")
        print("| pattern | provider | suite | lwsec | handshakes/s | X25519 floor | lwsec cost vs floor "
              "| provider X25519 | provider cost vs floor | snow (RustCrypto) | lwsec speed vs snow |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for pat in ("NK", "IK"):
            for p in PROVIDERS:
                floor = t(f"handshake/{kind}/x25519-floor-{p}/{pat}")
                via = t(f"handshake/{kind}/x25519-via-provider-{p}/{pat}")
                for s in SUITES:
                    lw = t(f"handshake/{kind}/lwsec-{p}-{pat}/{s}")
                    sn = t(f"handshake/{kind}/snow-{pat}/{s}")
                    print(f"| {pat} | {p} | {s} | {fmt_time(lw)} | {per_sec(lw)} | {fmt_time(floor)} "
                          f"| {ratio(lw, floor)} | {fmt_time(via)} | {ratio(via, floor)} "
                          f"| {fmt_time(sn)} | {ratio(sn, lw)} |")
        print()
        print(f"rustls TLS 1.3 ({kind}; X25519, ECDSA P-256 certificate, no resumption) against lwsec NK:\n")
        print("| rustls provider | suite | rustls | rustls handshakes/s | lwsec NK speed vs it, rust-crypto | lwsec NK speed vs it, aws-lc |")
        print("|---|---|---:|---:|---:|---:|")
        for r in ("ring", "aws-lc"):
            for s in SUITES:
                rt = t(f"handshake/{kind}/rustls-{r}-tls13/{s}")
                cells = [ratio(rt, t(f"handshake/{kind}/lwsec-{p}-NK/{s}")) for p in ("rust-crypto", "aws-lc")]
                print(f"| {r} | {s} | {fmt_time(rt)} | {per_sec(rt)} | {cells[0]} | {cells[1]} |")
        print()


def cookie():
    print("### Cookie Retry (issue 7): server cost per first flight, NK, AES-256-GCM\n")
    print("| provider | Retry to a spoofed flight | full server handshake | full, with a valid cookie | full / Retry |")
    print("|---|---:|---:|---:|---:|")
    for p in PROVIDERS:
        r = t(f"handshake/cookie/retry-spoofed-NK/{p}")
        f = t(f"handshake/cookie/full-server-NK/{p}")
        c = t(f"handshake/cookie/full-server-with-cookie-NK/{p}")
        print(f"| {p} | {fmt_time(r)} | {fmt_time(f)} | {fmt_time(c)} | {ratio(f, r)} |")
    print()


def transport():
    print("### End to end messages (seal, frame, parse, open)\n")
    print("Speed = other time / lwsec time (above 1: lwsec is faster).\n")
    for size, name in ((64, "64B"), (16384, "16KiB")):
        print(f"{name} messages:\n")
        cols = ["raw-seal-open-rust-crypto", "lwsec-rust-crypto", "raw-seal-open-aws-lc",
                "lwsec-aws-lc", "snow", "rustls-ring", "rustls-aws-lc"]
        print("| suite | " + " | ".join(cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for s in SUITES:
            cells = []
            for c in cols:
                v = t(f"transport/{name}/{c}/{s}")
                cells.append(f"{fmt_time(v)} ({mbps(size, v)} MB/s)" if v else "n/a")
            print(f"| {s} | " + " | ".join(cells) + " |")
        print()
        print("| suite | provider | lwsec vs raw seal+open | vs snow | vs rustls-ring | vs rustls-aws-lc |")
        print("|---|---|---:|---:|---:|---:|")
        for s in SUITES:
            for p in PROVIDERS:
                lw = t(f"transport/{name}/lwsec-{p}/{s}")
                print(f"| {s} | {p} | {ratio(t(f'transport/{name}/raw-seal-open-{p}/{s}'), lw)} "
                      f"| {ratio(t(f'transport/{name}/snow/{s}'), lw)} "
                      f"| {ratio(t(f'transport/{name}/rustls-ring/{s}'), lw)} "
                      f"| {ratio(t(f'transport/{name}/rustls-aws-lc/{s}'), lw)} |")
        print()


TARGETS = [
    ("seal-open-16KiB-speed-vs-raw", ">= 0.95"),
    ("message-64B-speed-vs-raw", ">= 0.80"),
    ("message-64B-speed-vs-raw-inner-65B", "(diagnostic: raw seals the 65-byte inner plaintext)"),
    ("message-64B-speed-vs-rustls", "> 1.00"),
    ("handshake-server-cost-vs-floor", "<= 1.10"),
    ("nk-server-speed-vs-rustls", ">= 1.50 (aws-lc)"),
    ("bulk-16KiB-speed-vs-rustls", ">= 1.20 (aws-lc)"),
]


def ratios():
    print("### Issue 6 targets as paired ratios (`--bench ratios`)\n")
    print("Median of per-sample ratios, each sample timing lwsec and its baseline back to back; "
          "the interval is criterion's 95 % confidence interval of that median.\n")
    print("| ratio | case | median | 95 % CI | target |")
    print("|---|---|---:|---:|---|")
    for group, target in TARGETS:
        prefix = f"ratio/{group}/"
        for key in sorted(k for k in M if k.startswith(prefix)):
            lo, hi = CI[key]
            print(f"| {group} | {key[len(prefix):]} | {M[key]:.2f}x | {lo:.2f}-{hi:.2f} | {target} |")
    print()


ratios()
record()
handshake()
cookie()
transport()
