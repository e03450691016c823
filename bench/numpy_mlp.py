#!/usr/bin/env python3
"""The numpy peer of the benchmark: ps2's one-hidden-layer MLP written with numpy.

    H_a = X W1^T + b1        X: K x d, W1: d_h x d
    H_s = relu(H_a)
    O_a = H_s W2^T + b2      W2: m x d_h
    L   = mean_i -log softmax(O_a)[i, y_i]

Plain minibatch SGD (K examples per minibatch, the last one keeps the remainder), the
gradient computed per example (--impl loop) or for the whole minibatch (--impl matrix).
Init: W uniform in [-1/sqrt(n_in), 1/sqrt(n_in)], biases 0.

Split as in the Rust crate: the 60 000 training images, shuffled with a seed, cut into
50 000 for training and 10 000 for validation; the 10 000 test images for test.

Timing rules (the same as the Rust side of the bench):
  * an epoch time is the training pass only: shuffle, minibatch gather, all updates;
  * --no-eval skips evaluation; otherwise train/valid/test error and loss are computed
    before training and after every epoch (70 000 images) and written to --log as CSV;
  * --max-batches B times the first B minibatches of each epoch and scales to the full
    epoch (for the slow loop version);
  * --threads sets the BLAS threads with threadpoolctl before anything is computed.

The last line of output is `JSON {...}`: epoch times, their median, and (with evaluation)
the errors, and the whole process's wall time from interpreter start.
"""
import argparse
import gzip
import json
import os
import sys
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits, threadpool_info  # noqa: E402

DIRS = [os.environ.get("FASHION_MNIST_DIR", ""),
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "fashion-mnist"),
        "/usr/share/datasets/fashion-mnist"]


def read_idx(dirname, name):
    for path in (os.path.join(dirname, name + ".gz"), os.path.join(dirname, name)):
        if os.path.exists(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as f:
                raw = f.read()
            magic = int.from_bytes(raw[:4], "big")
            header = 16 if magic == 2051 else 8
            return np.frombuffer(raw, dtype=np.uint8, offset=header)
    return None


def load(dtype, n_valid=10_000, seed=1234):
    for d in DIRS:
        if d and os.path.exists(os.path.join(d, "train-labels-idx1-ubyte.gz")) or (d and os.path.exists(os.path.join(d, "train-labels-idx1-ubyte"))):
            xs = read_idx(d, "train-images-idx3-ubyte").reshape(-1, 784)
            ys = read_idx(d, "train-labels-idx1-ubyte").astype(np.int64)
            xt = read_idx(d, "t10k-images-idx3-ubyte").reshape(-1, 784)
            yt = read_idx(d, "t10k-labels-idx1-ubyte").astype(np.int64)
            break
    else:
        sys.exit("numpy_mlp.py: error: Fashion-MNIST not found in " + ", ".join(x for x in DIRS if x)
                 + "; fix: `make setup` (Debian: apt-get install dataset-fashion-mnist) or set FASHION_MNIST_DIR")
    scale = dtype(1.0 / 255.0)
    perm = np.random.default_rng(seed).permutation(len(ys))
    tr, va = perm[:len(ys) - n_valid], perm[len(ys) - n_valid:]
    x = xs.astype(dtype) * scale
    return (x[tr], ys[tr]), (x[va], ys[va]), (xt.astype(dtype) * scale, yt)


class Mlp:
    def __init__(self, d, d_h, m, dtype, rng):
        a1, a2 = 1.0 / np.sqrt(d), 1.0 / np.sqrt(d_h)
        self.W1 = rng.uniform(-a1, a1, size=(d_h, d)).astype(dtype)
        self.b1 = np.zeros(d_h, dtype=dtype)
        self.W2 = rng.uniform(-a2, a2, size=(m, d_h)).astype(dtype)
        self.b2 = np.zeros(m, dtype=dtype)
        self.dtype = dtype

    def grad_matrix(self, X, y):
        """The whole minibatch in matrix products: returns (loss, dW1, db1, dW2, db2)."""
        K = X.shape[0]
        h_a = X @ self.W1.T + self.b1                    # K x d_h
        h_s = np.maximum(h_a, 0)
        o_a = h_s @ self.W2.T + self.b2                  # K x m
        o_a -= o_a.max(axis=1, keepdims=True)
        p = np.exp(o_a)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(K), y]).mean()
        p[np.arange(K), y] -= 1
        g_oa = p * self.dtype(1.0 / K)                   # K x m
        g_ha = (g_oa @ self.W2) * (h_a > 0)              # K x d_h
        return loss, g_ha.T @ X, g_ha.sum(axis=0), g_oa.T @ h_s, g_oa.sum(axis=0)

    def grad_loop(self, X, y):
        """Example by example (mat-vec products and outer products), then averaged."""
        gW1, gb1 = np.zeros_like(self.W1), np.zeros_like(self.b1)
        gW2, gb2 = np.zeros_like(self.W2), np.zeros_like(self.b2)
        loss = 0.0
        for x, c in zip(X, y):
            h_a = self.W1 @ x + self.b1
            h_s = np.maximum(h_a, 0)
            o_a = self.W2 @ h_s + self.b2
            e = np.exp(o_a - o_a.max())
            p = e / e.sum()
            loss -= np.log(p[c])
            p[c] -= 1
            gW2 += np.outer(p, h_s)
            gb2 += p
            g_ha = (self.W2.T @ p) * (h_a > 0)
            gW1 += np.outer(g_ha, x)
            gb1 += g_ha
        k = self.dtype(1.0 / X.shape[0])
        return loss / X.shape[0], gW1 * k, gb1 * k, gW2 * k, gb2 * k

    def evaluate(self, X, y, chunk=2000):
        wrong, nll = 0, 0.0
        for s in range(0, len(y), chunk):
            o_a = np.maximum(X[s:s + chunk] @ self.W1.T + self.b1, 0) @ self.W2.T + self.b2
            o_a -= o_a.max(axis=1, keepdims=True)
            logp = o_a - np.log(np.exp(o_a).sum(axis=1, keepdims=True))
            yy = y[s:s + chunk]
            nll -= logp[np.arange(len(yy)), yy].sum(dtype=np.float64)
            wrong += int((logp.argmax(axis=1) != yy).sum())
        return wrong / len(y), nll / len(y)


def blas_info():
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return blas[0] if blas else {}


def gemm(a, dtype):
    """GFLOP/s of X W1^T (K x d . d x d_h) and G_ha^T X (d_h x K . K x d), best of 6 rounds of ~4 GFLOP."""
    K, d, h = a.K, 784, a.hidden
    rng = np.random.default_rng(0)
    X, W1, G = (rng.random(s).astype(dtype) for s in ((K, d), (h, d), (K, h)))
    flops = 2.0 * K * d * h
    reps = int(np.ceil(4e9 / flops))

    def best(f):
        t = []
        for _ in range(6):
            t0 = time.perf_counter()
            for _ in range(reps):
                f()
            t.append((time.perf_counter() - t0) / reps)
        return flops / min(t) / 1e9

    info = blas_info()
    print("JSON " + json.dumps({"forward": best(lambda: X @ W1.T), "backward": best(lambda: G.T @ X), "numpy": np.__version__,
                                "version": info.get("version"), "architecture": info.get("architecture")}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl", choices=["loop", "matrix"], default="matrix")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--K", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-batches", type=int, default=None)
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--log", default=None, help="CSV file of the per-epoch errors and losses")
    ap.add_argument("--gemm", action="store_true", help="only time the two large products at the MLP's shapes")
    a = ap.parse_args()
    if a.hidden < 1 or a.K < 1 or a.epochs < 0 or a.threads < 1:
        sys.exit("numpy_mlp.py: error: --hidden, --K and --threads must be at least 1, --epochs at least 0")
    threadpool_limits(a.threads)
    dtype = np.dtype(a.dtype).type
    if a.gemm:
        return gemm(a, dtype)
    (xtr, ytr), (xva, yva), (xte, yte) = load(dtype)
    rng = np.random.default_rng(a.seed)
    net = Mlp(784, a.hidden, 10, dtype, rng)
    lr = dtype(a.lr)
    grad = net.grad_matrix if a.impl == "matrix" else net.grad_loop
    n_batches = -(-len(ytr) // a.K)
    timed = n_batches if a.max_batches is None else min(a.max_batches, n_batches)
    log = open(a.log, "w") if a.log else None
    if log:
        log.write("epoch,train_error,train_loss,valid_error,valid_loss,test_error,test_loss,seconds\n")
    history, times = [], []

    def report(epoch, seconds):
        row = [epoch, *net.evaluate(xtr, ytr), *net.evaluate(xva, yva), *net.evaluate(xte, yte), seconds]
        history.append(row)
        print("epoch %d  train %.4f  valid %.4f  test %.4f  (%.3f s)" % (epoch, row[1], row[3], row[5], seconds))
        if log:
            log.write(",".join(str(v) for v in row) + "\n")

    if not a.no_eval:
        report(0, 0.0)
    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(len(ytr))
        xb = np.empty((a.K, 784), dtype=dtype)
        for b in range(timed):
            idx = order[b * a.K:(b + 1) * a.K]
            np.take(xtr, idx, axis=0, out=xb[:len(idx)])
            _, gW1, gb1, gW2, gb2 = grad(xb[:len(idx)], ytr[idx])
            net.W1 -= lr * gW1
            net.b1 -= lr * gb1
            net.W2 -= lr * gW2
            net.b2 -= lr * gb2
        t = (time.perf_counter() - t0) * n_batches / timed
        times.append(t)
        if a.no_eval:
            print("epoch %d  %.3f s" % (epoch, t))
        else:
            report(epoch, t)
    if log:
        log.close()
    info = blas_info()
    summary = {
        "impl": a.impl, "dtype": a.dtype, "hidden": a.hidden, "threads": a.threads,
        "epoch_seconds": times, "epoch_median": float(np.median(times)) if times else None,
        "history": history, "numpy": np.__version__,
        "version": info.get("version"), "architecture": info.get("architecture"),
        "process_seconds": time.perf_counter() - T_START,
    }
    print("JSON " + json.dumps(summary))


if __name__ == "__main__":
    main()
