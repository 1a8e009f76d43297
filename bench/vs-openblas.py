#!/usr/bin/env python3
"""jlens beside numpy's float32 `@` (OpenBLAS), in one run on one machine.

Matmuls: for each shape, numpy and `jlens bench matmul` are timed one after the other, each as
the median of its timed runs after a warm-up, and the ratio jlens/OpenBLAS is printed. The pair is
repeated for --rounds alternating rounds and each side keeps its best median, so that a burst of
load from another tenant of a shared machine does not decide the ratio.

Whole steps (with --model DIR, e.g. a random GPT-2 small from `jlens init`): `jlens bench step`
for a training step (forward + backward + AdamW, batch 4 x 64) and a forward pass (batch 8 x 128),
each as a fraction of the mean OpenBLAS matmul GFLOP/s measured in the same run.

The numpy side runs in a process of its own whose environment lacks OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE: this machine's environment sets both, which make OpenBLAS pick its Haswell (AVX2)
kernels and halve its speed. Only that command's environment changes; jlens, the tests and CI keep
the environment as it is. The kernel OpenBLAS reports (threadpoolctl's "architecture") is printed.

Each shape is timed in the forms --forms names (default NN): NN is A·B, NT is A·Bᵀ with B stored
N×K (a layer's input gradient), TN is Aᵀ·B with A stored K×M (its weight gradient); numpy gets the
same strides through transposed views, which it passes to sgemm as transposition flags.

Usage: bench/vs-openblas.py [--repeats N] [--forms NN,NT,TN] [--model DIR] [MxKxN ...]
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

# What this machine's environment sets and the anchor must not inherit (see the docstring).
ANCHOR_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SHAPES = ["256x768x3072", "256x3072x768", "256x768x50257", "2048x2048x2048"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def anchor_gflops(m, k, n, form, repeats, warmup_seconds):
    """numpy's GFLOP/s for the shape, timed in a child process without ANCHOR_UNSET in its environment."""
    env = {key: value for key, value in os.environ.items() if key not in ANCHOR_UNSET}
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--numpy-worker", f"{m}x{k}x{n}", "--form", form, "--repeats", str(repeats),
                          "--warmup-seconds", str(warmup_seconds)], check=True, capture_output=True, text=True, env=env).stdout
    return float(out.strip().splitlines()[-1])


def blas_info():
    """The OpenBLAS numpy loaded, as it describes itself: its configuration and the kernels (core) it picked."""
    import ctypes
    libraries = sorted({line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower() and "/" in line})
    for path in libraries:
        library = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"), ("openblas", "")):
            try:
                corename, config = getattr(library, f"{prefix}_get_corename{suffix}"), getattr(library, f"{prefix}_get_config{suffix}")
            except AttributeError:
                continue
            corename.restype = config.restype = ctypes.c_char_p
            return f"{config().decode().strip()}; kernels: {corename().decode()}"
    return "(no OpenBLAS among the loaded libraries: the kernel is not known)"


def anchor_blas_info():
    """What OpenBLAS says of itself in the anchor's environment."""
    env = {key: value for key, value in os.environ.items() if key not in ANCHOR_UNSET}
    return subprocess.run([sys.executable, os.path.abspath(__file__), "--blas-info"], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def numpy_gflops(m, k, n, form, repeats, warmup_seconds):
    rng = np.random.default_rng(0)
    # A transposed operand is stored the other way round and read through a transposed view, as jlens's is.
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32) if form[0] == "N" else rng.uniform(-1, 1, (k, m)).astype(np.float32).T
    b = rng.uniform(-1, 1, (k, n)).astype(np.float32) if form[1] == "N" else rng.uniform(-1, 1, (n, k)).astype(np.float32).T
    end = time.perf_counter() + warmup_seconds
    while time.perf_counter() < end:
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    times.sort()
    return 2.0 * m * k * n / times[len(times) // 2] / 1e9


def jlens_gflops(m, k, n, form, repeats, warmup_seconds):
    out = subprocess.run(
        [os.path.join(ROOT, "jlens"), "bench", "matmul", "--m", str(m), "--k", str(k), "--n", str(n), "--form", form,
         "--repeats", str(repeats), "--warmup-seconds", str(warmup_seconds)],
        check=True, capture_output=True, text=True).stdout
    result = re.search(r"^RESULT matmul ([0-9.]+) GFLOP/s$", out, re.MULTILINE)
    if not result:
        sys.exit("jlens bench matmul printed no RESULT line:\n" + out)
    return float(result.group(1))


def jlens_step(model, *args):
    out = subprocess.run([os.path.join(ROOT, "jlens"), "bench", "step", "--model", model, *args],
                         check=True, capture_output=True, text=True).stdout
    print("  " + "\n  ".join(out.strip().splitlines()[:-1]))
    return float(re.search(r"^RESULT step ([0-9.]+) GFLOP/s$", out, re.MULTILINE).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shapes", nargs="*", default=SHAPES, help="MxKxN (default: the four of issue 2)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--forms", default="NN", help="comma-separated: NN, NT (A·Bᵀ), TN (Aᵀ·B)")
    parser.add_argument("--form", default="NN", help=argparse.SUPPRESS)
    parser.add_argument("--model", help="a model directory for the whole-step comparison")
    parser.add_argument("--numpy-worker", metavar="MxKxN", help=argparse.SUPPRESS)
    parser.add_argument("--blas-info", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.blas_info:
        print(blas_info())
        return
    if args.numpy_worker:
        m, k, n = (int(x) for x in args.numpy_worker.split("x"))
        print(numpy_gflops(m, k, n, args.form, args.repeats, args.warmup_seconds))
        return

    unset = [key for key in ANCHOR_UNSET if key in os.environ]
    print(f"numpy {np.__version__}, {os.cpu_count()} cores; the anchor runs without {', '.join(ANCHOR_UNSET)}"
          + (f" (set here: {', '.join(f'{key}={os.environ[key]}' for key in unset)})" if unset else " (neither is set here)"))
    print(f"BLAS in the anchor's environment: {anchor_blas_info()}")
    print(f"BLAS in this environment (for comparison, not timed): {blas_info()}")
    print(f"{'shape (MxKxN)':>16} {'form':>4} {'OpenBLAS GFLOP/s':>17} {'jlens GFLOP/s':>14} {'jlens/OpenBLAS':>15}")
    ratios, openblas = [], []
    for shape in args.shapes:
        m, k, n = (int(x) for x in shape.split("x"))
        for form in args.forms.split(","):
            reference = ours = 0.0
            for _ in range(args.rounds):
                reference = max(reference, anchor_gflops(m, k, n, form, args.repeats, args.warmup_seconds))
                ours = max(ours, jlens_gflops(m, k, n, form, args.repeats, args.warmup_seconds))
            ratios.append(ours / reference)
            openblas.append(reference)
            print(f"{shape:>16} {form:>4} {reference:17.1f} {ours:14.1f} {ours / reference:15.2f}", flush=True)
    geomean = float(np.exp(np.mean(np.log(ratios))))
    if args.model:
        anchor = float(np.mean(openblas))
        print(f"whole steps of {args.model}, against the mean OpenBLAS matmul rate of this run ({anchor:.1f} GFLOP/s):")
        train = jlens_step(args.model, "--batch", "4", "--seq", "64", "--update", "adamw")
        print(f"  training step: {train:.1f} GFLOP/s = {train / anchor:.2f} x OpenBLAS")
        forward = jlens_step(args.model, "--batch", "8", "--seq", "128", "--forward-only")
        print(f"  forward pass:  {forward:.1f} GFLOP/s = {forward / anchor:.2f} x OpenBLAS")
    print(f"RESULT matmul_vs_openblas_min {min(ratios):.2f} ratio (geometric mean {geomean:.2f})")


if __name__ == "__main__":
    main()
