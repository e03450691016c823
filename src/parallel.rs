//! Both cores for the minibatch products: the hidden units are cut into contiguous
//! *shards*, one per thread, and each thread computes the forward and backward pass of
//! its shard (the maths is per hidden unit, so the shards are independent; only the
//! K × m output pre-activation O_a = Σ_shards H_s[:, s] W2[:, s]ᵀ + b2 is summed).
//! The loop version splits the examples of a minibatch the same way.
//!
//! The threads are a small pool of our own rather than rayon's: a minibatch step hands
//! work to the other core two or three times, every 100–500 µs, and on the 2-core
//! machine of BENCHMARKS.md waking a sleeping rayon worker cost 20–70 µs per hand-off
//! (measured), which made two threads slower than one at 100 hidden units. Our workers
//! spin for up to [`SPIN`] after each job before they sleep, so back-to-back hand-offs
//! cost about a microsecond. The matrix products inside a shard are single-threaded
//! (matrixmultiply without its threading feature), so the two levels never compete.
//!
//! Size: `BACKPROP_THREADS` in the environment, else every core; [`set_threads`] before
//! the first use (as `--threads` does).

use crate::error::{ensure_param, Error, Result};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Hidden units per shard below which a layer is not split (the hand-off would cost
/// more than it saves).
pub const MIN_SHARD: usize = 32;

/// How long an idle worker spins, waiting for the next job, before it sleeps.
pub const SPIN: Duration = Duration::from_millis(2);

static POOL: OnceLock<Pool> = OnceLock::new();

thread_local! {
    /// Thread count seen by [`threads`] on this thread, set by [`with_threads`].
    static OVERRIDE: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Threads the minibatch products use.
pub fn threads() -> usize {
    OVERRIDE.with(|o| o.get()).unwrap_or_else(|| pool().threads)
}

/// Sets the number of threads once per process, before any training. Fails if the pool
/// already runs with another size.
pub fn set_threads(n: usize) -> Result<()> {
    ensure_param(n >= 1, "threads", n, "at least one thread")?;
    let p = POOL.get_or_init(|| Pool::new(n));
    if p.threads == n {
        Ok(())
    } else {
        Err(Error::Hyperparameter {
            name: "threads".into(),
            value: n.to_string(),
            reason: format!("the thread pool already runs {} threads; set BACKPROP_THREADS={n} before the first training instead", p.threads),
        })
    }
}

/// Runs `f` as if there were `n` threads: the shard sizes follow `n` (the work still runs on
/// the pool). For tests and experiments; results do not depend on it beyond rounding.
pub fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    let old = OVERRIDE.with(|o| o.replace(Some(n.max(1))));
    let r = f();
    OVERRIDE.with(|o| o.set(old));
    r
}

/// Shard length for `units` hidden units (or examples): the units split evenly over the
/// threads, rounded up to a multiple of 16 (a SIMD-friendly block), never below [`MIN_SHARD`].
pub fn shard_len(units: usize) -> usize {
    let shards = threads().min(units / MIN_SHARD).max(1);
    if shards == 1 {
        return units.max(1);
    }
    units.div_ceil(shards).next_multiple_of(16)
}

/// Applies `f` to every shard, on all threads when there is more than one; results in order.
pub fn map_shards<T: Send, R: Send>(shards: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let n = shards.len();
    if n <= 1 || pool().threads == 1 {
        return shards.into_iter().map(f).collect();
    }
    let inputs: Vec<Mutex<Option<T>>> = shards.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let outputs: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let job = |i: usize| {
        let t = inputs[i].lock().unwrap().take().expect("each shard runs once");
        *outputs[i].lock().unwrap() = Some(f(t));
    };
    pool().run(n, &job);
    outputs.into_iter().map(|o| o.into_inner().unwrap().expect("every shard ran")).collect()
}

/// `f(a, b)` for every pair of entries of two equally shaped matrices, split over the threads
/// along `a`'s outer memory axis (rows when row-major, columns when column-major, as W1 is), for
/// elementwise passes over W1 such as the SGD and momentum updates.
pub fn zip_rows_mut<F: Send + Sync>(a: &mut ndarray::Array2<F>, b: &ndarray::Array2<F>, f: impl Fn(&mut F, &F) + Sync) {
    assert_eq!(a.dim(), b.dim(), "zip_rows_mut: callers check the shapes");
    let axis = if a.t().is_standard_layout() && !a.is_standard_layout() { ndarray::Axis(1) } else { ndarray::Axis(0) };
    let len = shard_len(a.len_of(axis));
    let shards: Vec<_> = a.axis_chunks_iter_mut(axis, len).zip(b.axis_chunks_iter(axis, len)).collect();
    map_shards(shards, |(mut a, b)| a.zip_mut_with(&b, |x, y| f(x, y)));
}

/// dst[r·ds + c] = scale · Σₛ srcs[s][r·ss + c] for r < rows, c < cols: the sum of row-major
/// matrices (row stride `ss`) into a row-major one (row stride `ds`; the entries beyond `cols`
/// in each row are left alone), the rows split over the threads. The loop version's W1 → W1ᵀ
/// copy and the sum of its per-thread ∂W1ᵀ when W1 is stored column-major (see [`crate::mlp::Mlp`]).
pub fn rows_sum_into<F: crate::Real>(srcs: &[&[F]], rows: usize, cols: usize, ss: usize, dst: &mut [F], ds: usize, scale: F) {
    assert!(ss >= cols && ds >= cols && dst.len() >= rows.saturating_sub(1) * ds + cols, "rows_sum_into: callers pass consistent sizes");
    assert!(srcs.iter().all(|s| s.len() >= rows.saturating_sub(1) * ss + cols), "rows_sum_into: callers pass consistent sizes");
    if rows == 0 || cols == 0 {
        return;
    }
    let len = shard_len(rows);
    let shards: Vec<_> = dst.chunks_mut(len * ds).enumerate().collect();
    map_shards(shards, |(k, out)| {
        for (i, o) in out.chunks_mut(ds).enumerate() {
            let s0 = (k * len + i) * ss;
            let o = &mut o[..cols];
            o.copy_from_slice(&srcs[0][s0..s0 + cols]);
            for src in &srcs[1..] {
                o.iter_mut().zip(&src[s0..s0 + cols]).for_each(|(v, &w)| *v += w);
            }
            if scale != F::one() {
                o.iter_mut().for_each(|v| *v *= scale);
            }
        }
    });
}

/// dst[c·ds + r] = scale · Σₛ srcs[s][r·ss + c] for r < rows, c < cols: the transpose of a sum of
/// row-major rows × cols matrices (row stride `ss`) written into a row-major cols × rows matrix
/// (row stride `ds`; entries beyond `rows` in each row are left alone). In 16 × 16 tiles, so the
/// strided side stays in cache; the rows of dst split over the threads. The loop version's
/// W1 → W1ᵀ copy and the sum of its per-thread ∂W1ᵀ when W1 is stored row-major.
pub fn transpose_sum_into<F: crate::Real>(srcs: &[&[F]], rows: usize, cols: usize, ss: usize, dst: &mut [F], ds: usize, scale: F) {
    const T: usize = crate::kernels::TILE;
    assert!(ss >= cols && ds >= rows && dst.len() >= cols.saturating_sub(1) * ds + rows, "transpose_sum_into: callers pass consistent sizes");
    assert!(srcs.iter().all(|s| s.len() >= rows.saturating_sub(1) * ss + cols), "transpose_sum_into: callers pass consistent sizes");
    if rows == 0 || cols == 0 {
        return;
    }
    let len = shard_len(cols);
    let shards: Vec<_> = dst.chunks_mut(len * ds).enumerate().collect();
    map_shards(shards, |(k, out)| {
        let (c0, c1) = (k * len, (k * len + len).min(cols));
        for cb in (c0..c1).step_by(T) {
            for rb in (0..rows).step_by(T) {
                if cb + T <= c1 && rb + T <= rows {
                    crate::kernels::transpose_tile(srcs, ss, rb, cb, &mut out[(cb - c0) * ds..], ds, scale);
                    continue;
                }
                for c in cb..(cb + T).min(c1) {
                    let o = &mut out[(c - c0) * ds..];
                    for r in rb..(rb + T).min(rows) {
                        let v = srcs.iter().fold(F::zero(), |v, src| v + src[r * ss + c]);
                        o[r] = scale * v;
                    }
                }
            }
        }
    });
}

fn pool() -> &'static Pool {
    POOL.get_or_init(|| {
        let n = std::env::var("BACKPROP_THREADS").ok().and_then(|s| s.parse().ok()).filter(|&n: &usize| n >= 1);
        Pool::new(n.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())))
    })
}

/// A job as the workers see it: a type-erased `&dyn Fn(usize)` and the shard counters.
struct Shared {
    /// Bumped for every job; a worker runs a job when it sees a new value.
    generation: AtomicUsize,
    /// Points at the caller's `&(dyn Fn(usize) + Sync)`, valid until `pending` reaches 0.
    job: AtomicPtr<()>,
    /// Number of shards of the current job and the next one to claim.
    n: AtomicUsize,
    next: AtomicUsize,
    /// Workers still inside the current job.
    pending: AtomicUsize,
    panicked: AtomicBool,
    sleep: Mutex<()>,
    wake: Condvar,
}

struct Pool {
    threads: usize,
    shared: Arc<Shared>,
    /// One job at a time; a second caller (or a nested call) runs its shards itself.
    busy: Mutex<()>,
}

type Job<'a> = &'a (dyn Fn(usize) + Sync);

impl Pool {
    fn new(threads: usize) -> Pool {
        let shared = Arc::new(Shared {
            generation: AtomicUsize::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            n: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
        });
        for w in 1..threads {
            let s = Arc::clone(&shared);
            std::thread::Builder::new().name(format!("backprop-{w}")).spawn(move || worker(&s)).expect("spawn a worker thread");
        }
        Pool { threads, shared, busy: Mutex::new(()) }
    }

    /// Runs `job(i)` for i in 0..n on the caller and the workers; returns when all are done.
    fn run(&self, n: usize, job: Job<'_>) {
        let Ok(_guard) = self.busy.try_lock() else {
            (0..n).for_each(job);
            return;
        };
        let s = &*self.shared;
        s.job.store(&job as *const Job<'_> as *mut (), Ordering::Relaxed);
        s.n.store(n, Ordering::Relaxed);
        s.next.store(0, Ordering::Relaxed);
        s.pending.store(self.threads - 1, Ordering::Relaxed);
        {
            let _g = s.sleep.lock().unwrap();
            s.generation.fetch_add(1, Ordering::Release);
            s.wake.notify_all();
        }
        claim(s, job);
        let mut spins = 0u32;
        while s.pending.load(Ordering::Acquire) != 0 {
            relax(&mut spins);
        }
        if s.panicked.swap(false, Ordering::Relaxed) {
            panic!("a backprop worker thread panicked (see the message above)");
        }
    }
}

/// Claims and runs shards of the current job until none are left.
fn claim(s: &Shared, job: Job<'_>) {
    let n = s.n.load(Ordering::Relaxed);
    loop {
        let i = s.next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        job(i);
    }
}

/// One round of waiting: a CPU spin hint, and every 256 rounds a yield, so that a waiting
/// thread gives its core away when other programs need it (more threads than free cores).
fn relax(spins: &mut u32) {
    *spins = spins.wrapping_add(1);
    if spins.is_multiple_of(256) {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

fn worker(s: &Shared) {
    let mut seen = 0;
    loop {
        // wait for a new job: spin first (cheap hand-offs during training), then sleep
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let g = s.generation.load(Ordering::Acquire);
            if g != seen {
                seen = g;
                break;
            }
            relax(&mut spins);
            if !spins.is_multiple_of(1024) || start.elapsed() < SPIN {
                continue;
            }
            let guard = s.sleep.lock().unwrap();
            if s.generation.load(Ordering::Acquire) == seen {
                drop(s.wake.wait(guard).unwrap());
            }
        }
        // SAFETY: `run` published a pointer to a live `Job` and does not return (so the job
        // stays alive) until this worker has decremented `pending` below.
        let job: Job<'_> = unsafe { *(s.job.load(Ordering::Relaxed) as *const Job<'_>) };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| claim(s, job))).is_err() {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.pending.fetch_sub(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ShapeBuilder;

    #[test]
    fn shards_cover_every_unit_once() {
        for t in [1, 2, 3, 8] {
            with_threads(t, || {
                for units in [1, 10, 31, 64, 100, 512, 1000] {
                    let len = shard_len(units);
                    let n = units.div_ceil(len);
                    assert!(n >= 1 && n <= t, "{units} units in {n} shards of {len} with {t} threads");
                    assert!((n - 1) * len < units && units <= n * len);
                }
            });
        }
        assert_eq!(with_threads(2, || shard_len(100)), 64);
        assert_eq!(with_threads(2, || shard_len(40)), 40);
    }

    #[test]
    fn map_shards_runs_each_once_in_order() {
        for _ in 0..200 {
            let out = map_shards((0..8).collect(), |i: i32| i * i);
            assert_eq!(out, vec![0, 1, 4, 9, 16, 25, 36, 49]);
        }
        // nested calls fall back to running on the calling thread
        let out = map_shards(vec![3, 4], |n: usize| map_shards((0..n).collect(), |i: usize| i).len());
        assert_eq!(out, vec![3, 4]);
    }

    #[test]
    fn sums_of_parts_with_and_without_transposing() {
        // two 70 × 45 matrices with row stride 48, into rows of stride 72 (the padding untouched)
        let (rows, cols, ss, ds) = (70, 45, 48, 72);
        let a: Vec<f64> = (0..rows * ss).map(|i| i as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v * v).collect();
        for transpose in [true, false] {
            let out_rows = if transpose { cols } else { rows };
            for t in [1, 2, 3] {
                let mut out = vec![-1.0; out_rows * ds];
                with_threads(t, || match transpose {
                    true => transpose_sum_into(&[&a, &b], rows, cols, ss, &mut out, ds, 0.5),
                    false => rows_sum_into(&[&a, &b], rows, cols, ss, &mut out, ds, 0.5),
                });
                for i in 0..out_rows {
                    for j in 0..ds {
                        // out[i][j] comes from source entry (r, c)
                        let (r, c) = if transpose { (j, i) } else { (i, j) };
                        let want = if r < rows && c < cols { 0.5 * (a[r * ss + c] + b[r * ss + c]) } else { -1.0 };
                        assert_eq!(out[i * ds + j], want, "transpose {transpose}, threads {t}, ({i}, {j})");
                    }
                }
            }
        }
    }

    #[test]
    fn zip_rows_mut_visits_every_entry() {
        let mut a = ndarray::Array2::<f64>::from_shape_fn((100, 7), |(i, j)| (i * 7 + j) as f64);
        let b = a.mapv(|v| 2.0 * v + 1.0);
        with_threads(3, || zip_rows_mut(&mut a, &b, |x, y| *x = *y - *x));
        assert!(a.indexed_iter().all(|((i, j), &v)| v == (i * 7 + j) as f64 + 1.0));
        // column-major, split by columns, with a row-major partner
        let mut c = ndarray::Array2::<f64>::from_shape_fn((7, 100).f(), |(i, j)| (i * 100 + j) as f64);
        let d = ndarray::Array2::<f64>::from_shape_fn((7, 100), |(i, j)| (i * 100 + j) as f64 * 3.0);
        with_threads(2, || zip_rows_mut(&mut c, &d, |x, y| *x += *y));
        assert!(c.indexed_iter().all(|((i, j), &v)| v == (i * 100 + j) as f64 * 4.0));
    }
}
