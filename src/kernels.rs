//! Two small vector kernels for the per-example (loop) MLP: a dot product and
//! y ← y + αx. Written with independent accumulators so the compiler can use SIMD,
//! and compiled a second time for AVX2, chosen at run time when the CPU has it
//! (the crate itself is built for baseline x86-64, so binaries stay portable).

use crate::Real;

const LANES: usize = 16;

#[inline(always)]
fn dot_generic<F: Real>(a: &[F], b: &[F]) -> F {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [F::zero(); LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = F::zero();
    for v in acc {
        s += v;
    }
    for (x, y) in ra.iter().zip(rb) {
        s += *x * *y;
    }
    s
}

#[inline(always)]
fn axpy_generic<F: Real>(alpha: F, x: &[F], y: &mut [F]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv += alpha * xv;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2<F: Real>(a: &[F], b: &[F]) -> F {
    dot_generic(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn axpy_avx2<F: Real>(alpha: F, x: &[F], y: &mut [F]) {
    axpy_generic(alpha, x, y)
}

/// Σᵢ aᵢ bᵢ over the common length.
#[inline]
pub fn dot<F: Real>(a: &[F], b: &[F]) -> F {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_generic(a, b)
}

/// y ← y + αx over the common length.
#[inline]
pub fn axpy<F: Real>(alpha: F, x: &[F], y: &mut [F]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { axpy_avx2(alpha, x, y) };
        }
    }
    axpy_generic(alpha, x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_plain_loops() {
        for n in [0usize, 1, 15, 16, 17, 100, 784] {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - want).abs() < 1e-12 * (1.0 + want.abs()), "n = {n}");
            assert!((dot_generic(&a, &b) - want).abs() < 1e-12 * (1.0 + want.abs()));
            let mut y = b.clone();
            axpy(0.5, &a, &mut y);
            assert!(y.iter().zip(a.iter().zip(&b)).all(|(v, (x, z))| (v - (z + 0.5 * x)).abs() < 1e-15));
            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
            assert!((dot(&a32, &b32) as f64 - want).abs() < 1e-4 * (1.0 + want.abs()));
        }
    }
}
