//! Small vector kernels for the per-example (loop) MLP: a dot product, y ← y + αx, and
//! the two sparse passes of one example over the rows of a row-major matrix (y ← y + Σ αⱼ Rⱼ
//! and Rⱼ ← Rⱼ + αⱼ x). Written with independent accumulators so the compiler can use SIMD,
//! and compiled again for AVX2 + FMA and for AVX-512, chosen at run time by what the CPU has
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

/// y ← y + Σ αⱼ R[j, :] over `terms` = [(j, αⱼ)], R row-major with rows of y.len().
/// Four rows per pass over y, so y is loaded and stored once per four rows.
#[inline(always)]
fn axpy_rows_generic<F: Real>(terms: &[(usize, F)], r: &[F], y: &mut [F]) {
    let n = y.len();
    let row = |j: usize| &r[j * n..(j + 1) * n];
    let quads = terms.chunks_exact(4);
    let rest = quads.remainder();
    for q in quads {
        let (r0, r1, r2, r3) = (row(q[0].0), row(q[1].0), row(q[2].0), row(q[3].0));
        let (a0, a1, a2, a3) = (q[0].1, q[1].1, q[2].1, q[3].1);
        for l in 0..n {
            y[l] += a0 * r0[l] + a1 * r1[l] + a2 * r2[l] + a3 * r3[l];
        }
    }
    for &(j, a) in rest {
        axpy_generic(a, row(j), y);
    }
}

/// R[j, :] ← R[j, :] + αⱼ x over `terms` = [(j, αⱼ)], R row-major with rows of x.len().
#[inline(always)]
fn rank1_rows_generic<F: Real>(terms: &[(usize, F)], x: &[F], r: &mut [F]) {
    let n = x.len();
    for &(j, a) in terms {
        axpy_generic(a, x, &mut r[j * n..(j + 1) * n]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn axpy_rows_avx2<F: Real>(terms: &[(usize, F)], r: &[F], y: &mut [F]) {
    axpy_rows_generic(terms, r, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rank1_rows_avx2<F: Real>(terms: &[(usize, F)], x: &[F], r: &mut [F]) {
    rank1_rows_generic(terms, x, r)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn axpy_rows_avx512<F: Real>(terms: &[(usize, F)], r: &[F], y: &mut [F]) {
    axpy_rows_generic(terms, r, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn rank1_rows_avx512<F: Real>(terms: &[(usize, F)], x: &[F], r: &mut [F]) {
    rank1_rows_generic(terms, x, r)
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// y ← y + Σ αⱼ R[j, :] over `terms` = [(j, αⱼ)], where R is a row-major matrix whose rows
/// have y.len() entries (the forward pass h_a = b1 + Σ_{xⱼ≠0} xⱼ W1ᵀ[j, :]).
/// Panics if a row index is out of range (callers build `terms` from R's own rows).
pub fn axpy_rows<F: Real>(terms: &[(usize, F)], r: &[F], y: &mut [F]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        return unsafe { axpy_rows_avx512(terms, r, y) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { axpy_rows_avx2(terms, r, y) };
    }
    axpy_rows_generic(terms, r, y)
}

/// R[j, :] ← R[j, :] + αⱼ x over `terms` = [(j, αⱼ)], R row-major with rows of x.len()
/// entries (one example's rank-1 update ∂W1ᵀ[j, :] += xⱼ δ on its nonzero pixels j).
pub fn rank1_rows<F: Real>(terms: &[(usize, F)], x: &[F], r: &mut [F]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        return unsafe { rank1_rows_avx512(terms, x, r) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { rank1_rows_avx2(terms, x, r) };
    }
    rank1_rows_generic(terms, x, r)
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
    fn row_kernels_match_plain_loops() {
        let n = 13;
        let r: Vec<f64> = (0..9 * n).map(|i| (i as f64 * 0.21).sin()).collect();
        for len in [0usize, 1, 3, 4, 5, 9] {
            let terms: Vec<(usize, f64)> = (0..len).map(|t| ((t * 5) % 9, 0.3 * t as f64 - 1.0)).collect();
            let y0: Vec<f64> = (0..n).map(|l| l as f64).collect();
            let mut y = y0.clone();
            axpy_rows(&terms, &r, &mut y);
            for l in 0..n {
                let want = y0[l] + terms.iter().map(|&(j, a)| a * r[j * n + l]).sum::<f64>();
                assert!((y[l] - want).abs() < 1e-12, "len {len}, l {l}: {} vs {want}", y[l]);
            }
            let mut rr = r.clone();
            rank1_rows(&terms, &y0, &mut rr);
            let mut want = r.clone();
            for &(j, a) in &terms {
                for l in 0..n {
                    want[j * n + l] += a * y0[l];
                }
            }
            assert!(rr.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-12));
        }
    }

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
