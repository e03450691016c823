//! Small kernels for the per-example (loop) MLP: a dot product, y ← y + αx; the two sparse
//! passes of one example over the rows of a row-major matrix (y ← y + Σ αⱼ Rⱼ and
//! Rⱼ ← Rⱼ + αⱼ x), which keep a chunk of the row in registers and use FMA; the compaction of
//! an example's nonzero pixels; a tiled transpose; a prefetch hint. Written as plain loops over
//! fixed-size arrays so the compiler can use SIMD, compiled again for AVX2 + FMA and for AVX-512
//! and chosen at run time by what the CPU has (the crate itself is built for baseline x86-64, so
//! binaries stay portable); only the compaction is written with AVX-512 intrinsics.

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

/// a·b + c, fused (one rounding, one instruction) when the caller runs with FMA enabled.
#[inline(always)]
fn fmadd<F: Real, const FMA: bool>(a: F, b: F, c: F) -> F {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Cuts a row of `n` entries into column chunks for the row kernels: whole 64-byte vectors,
/// at most eight per chunk (so a chunk's accumulators stay in registers), the vectors spread
/// evenly over the chunks; a tail shorter than one vector goes last. Yields (start, len).
/// (An iterator, not a callback: a closure would not inherit the kernels' target features.)
#[inline(always)]
fn chunks<F>(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let w = (64 / std::mem::size_of::<F>()).max(1);
    let vectors = n / w;
    let count = vectors.div_ceil(8);
    let whole = (0..count).map(move |c| {
        let before = c * (vectors / count) + c.min(vectors % count);
        (before * w, (vectors / count + usize::from(c < vectors % count)) * w)
    });
    let tail = (!n.is_multiple_of(w)).then_some((vectors * w, n % w));
    whole.chain(tail)
}

/// Chunk [c0, c0 + L) of y ← y + Σ αⱼ R[j, :], with the chunk of y held in registers
/// (`L` a compile-time length, so the accumulators are an array the compiler keeps in registers).
#[inline(always)]
fn axpy_rows_chunk<F: Real, const L: usize, const FMA: bool>(idx: &[u32], val: &[F], r: &[F], n: usize, c0: usize, y: &mut [F]) {
    let yc: &mut [F; L] = (&mut y[c0..c0 + L]).try_into().expect("chunk within the row");
    let mut acc = *yc;
    for (&j, &a) in idx.iter().zip(val) {
        let s = j as usize * n + c0;
        let row: &[F; L] = r[s..s + L].try_into().expect("chunk within the row");
        for l in 0..L {
            acc[l] = fmadd::<F, FMA>(a, row[l], acc[l]);
        }
    }
    *yc = acc;
}

/// Chunk [c0, c0 + L) of R[j, :] ← R[j, :] + αⱼ x, with the chunk of x held in registers.
#[inline(always)]
fn rank1_rows_chunk<F: Real, const L: usize, const FMA: bool>(idx: &[u32], val: &[F], x: &[F], n: usize, c0: usize, r: &mut [F]) {
    let xc: [F; L] = x[c0..c0 + L].try_into().expect("chunk within the row");
    for (&j, &a) in idx.iter().zip(val) {
        let s = j as usize * n + c0;
        let row: &mut [F; L] = (&mut r[s..s + L]).try_into().expect("chunk within the row");
        for l in 0..L {
            row[l] = fmadd::<F, FMA>(a, xc[l], row[l]);
        }
    }
}

/// Chunk of any length (the tail, and lengths the match below does not list).
#[inline(always)]
fn axpy_rows_any<F: Real, const FMA: bool>(idx: &[u32], val: &[F], r: &[F], n: usize, c0: usize, y: &mut [F], len: usize) {
    let yc = &mut y[c0..c0 + len];
    for (&j, &a) in idx.iter().zip(val) {
        let s = j as usize * n + c0;
        for (v, &w) in yc.iter_mut().zip(&r[s..s + len]) {
            *v = fmadd::<F, FMA>(a, w, *v);
        }
    }
}

#[inline(always)]
fn rank1_rows_any<F: Real, const FMA: bool>(idx: &[u32], val: &[F], x: &[F], n: usize, c0: usize, r: &mut [F], len: usize) {
    let xc = &x[c0..c0 + len];
    for (&j, &a) in idx.iter().zip(val) {
        let s = j as usize * n + c0;
        for (v, &w) in r[s..s + len].iter_mut().zip(xc) {
            *v = fmadd::<F, FMA>(a, w, *v);
        }
    }
}

/// Calls `$f::<F, L, FMA>($args)` for the chunk lengths `for_chunks` produces (multiples of 8
/// up to 128 entries), `$any` otherwise.
macro_rules! by_len {
    ($len:expr, $f:ident, $any:ident, $fma:expr, ($($a:expr),*)) => {
        match $len {
            8 => $f::<F, 8, $fma>($($a),*),
            16 => $f::<F, 16, $fma>($($a),*),
            24 => $f::<F, 24, $fma>($($a),*),
            32 => $f::<F, 32, $fma>($($a),*),
            40 => $f::<F, 40, $fma>($($a),*),
            48 => $f::<F, 48, $fma>($($a),*),
            56 => $f::<F, 56, $fma>($($a),*),
            64 => $f::<F, 64, $fma>($($a),*),
            80 => $f::<F, 80, $fma>($($a),*),
            96 => $f::<F, 96, $fma>($($a),*),
            112 => $f::<F, 112, $fma>($($a),*),
            128 => $f::<F, 128, $fma>($($a),*),
            len => $any::<F, $fma>($($a),*, len),
        }
    };
}

/// y ← y + Σ αⱼ R[j, :] over the pairs (j, αⱼ) = (idx[t], val[t]), R row-major with rows of y.len().
#[inline(always)]
fn axpy_rows_generic<F: Real, const FMA: bool>(idx: &[u32], val: &[F], r: &[F], y: &mut [F]) {
    let n = y.len();
    for (c0, len) in chunks::<F>(n) {
        by_len!(len, axpy_rows_chunk, axpy_rows_any, FMA, (idx, val, r, n, c0, y));
    }
}

/// R[j, :] ← R[j, :] + αⱼ x over the pairs (j, αⱼ) = (idx[t], val[t]), R row-major with rows of x.len().
#[inline(always)]
fn rank1_rows_generic<F: Real, const FMA: bool>(idx: &[u32], val: &[F], x: &[F], r: &mut [F]) {
    let n = x.len();
    for (c0, len) in chunks::<F>(n) {
        by_len!(len, rank1_rows_chunk, rank1_rows_any, FMA, (idx, val, x, n, c0, r));
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn axpy_rows_avx2<F: Real>(idx: &[u32], val: &[F], r: &[F], y: &mut [F]) {
    axpy_rows_generic::<F, true>(idx, val, r, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rank1_rows_avx2<F: Real>(idx: &[u32], val: &[F], x: &[F], r: &mut [F]) {
    rank1_rows_generic::<F, true>(idx, val, x, r)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn axpy_rows_avx512<F: Real>(idx: &[u32], val: &[F], r: &[F], y: &mut [F]) {
    axpy_rows_generic::<F, true>(idx, val, r, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn rank1_rows_avx512<F: Real>(idx: &[u32], val: &[F], x: &[F], r: &mut [F]) {
    rank1_rows_generic::<F, true>(idx, val, x, r)
}

/// The vector instructions the row kernels use, detected once.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Isa {
    Avx512,
    Avx2Fma,
    Baseline,
}

#[inline]
fn isa() -> Isa {
    static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            let fma = std::arch::is_x86_feature_detected!("fma");
            if std::arch::is_x86_feature_detected!("avx512f") && fma {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") && fma {
                return Isa::Avx2Fma;
            }
        }
        Isa::Baseline
    })
}

/// y ← y + Σ αⱼ R[j, :] over the pairs (j, αⱼ) = (idx[t], val[t]), where R is a row-major matrix whose rows
/// have y.len() entries (the forward pass h_a = b1 + Σ_{xⱼ≠0} xⱼ W1ᵀ[j, :]).
/// Panics if a row index is out of range (callers build `idx` from R's own rows).
pub fn axpy_rows<F: Real>(idx: &[u32], val: &[F], r: &[F], y: &mut [F]) {
    match isa() {
        // SAFETY: `isa` reported AVX-512F and FMA on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { axpy_rows_avx512(idx, val, r, y) },
        // SAFETY: `isa` reported AVX2 and FMA on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { axpy_rows_avx2(idx, val, r, y) },
        _ => axpy_rows_generic::<F, false>(idx, val, r, y),
    }
}

/// R[j, :] ← R[j, :] + αⱼ x over the pairs (j, αⱼ) = (idx[t], val[t]), R row-major with rows of x.len()
/// entries (one example's rank-1 update ∂W1ᵀ[j, :] += xⱼ δ on its nonzero pixels j).
pub fn rank1_rows<F: Real>(idx: &[u32], val: &[F], x: &[F], r: &mut [F]) {
    match isa() {
        // SAFETY: `isa` reported AVX-512F and FMA on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { rank1_rows_avx512(idx, val, x, r) },
        // SAFETY: `isa` reported AVX2 and FMA on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { rank1_rows_avx2(idx, val, x, r) },
        _ => rank1_rows_generic::<F, false>(idx, val, x, r),
    }
}

/// Room [`compact_nonzero`] needs beyond the entries it keeps (its vector stores write whole vectors).
pub const COMPACT_SLACK: usize = 16;

/// Writes the entries of `x` that are not 0 as pairs (offset + j, xⱼ) to idx[at..] and val[at..],
/// in order, and returns the new end. NaN counts as nonzero (so it still reaches the loss).
/// Needs `x.len() + COMPACT_SLACK` entries of room from `at` in both outputs (panics otherwise);
/// entries past the returned end are scratch.
pub fn compact_nonzero<F: Real>(x: &[F], offset: u32, idx: &mut [u32], val: &mut [F], at: usize) -> usize {
    assert!(idx.len() >= at + x.len() + COMPACT_SLACK && val.len() >= at + x.len() + COMPACT_SLACK, "compact_nonzero: callers leave room");
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        use std::any::TypeId;
        if TypeId::of::<F>() == TypeId::of::<f32>() {
            // SAFETY: F is f32 (checked just above), so the slices can be viewed as f32 slices;
            // the CPU has AVX-512F (`isa`); the room was checked above.
            return unsafe {
                let x = std::slice::from_raw_parts(x.as_ptr().cast::<f32>(), x.len());
                let val = std::slice::from_raw_parts_mut(val.as_mut_ptr().cast::<f32>(), val.len());
                compact_f32_avx512(x, offset, idx, val, at)
            };
        }
        if TypeId::of::<F>() == TypeId::of::<f64>() {
            // SAFETY: as above, with f64.
            return unsafe {
                let x = std::slice::from_raw_parts(x.as_ptr().cast::<f64>(), x.len());
                let val = std::slice::from_raw_parts_mut(val.as_mut_ptr().cast::<f64>(), val.len());
                compact_f64_avx512(x, offset, idx, val, at)
            };
        }
    }
    compact_generic(x, offset, idx, val, at)
}

/// Branch-free: every entry is written, the end advances only past nonzero ones.
#[inline(always)]
fn compact_generic<F: Real>(x: &[F], offset: u32, idx: &mut [u32], val: &mut [F], mut at: usize) -> usize {
    for (j, &v) in x.iter().enumerate() {
        idx[at] = offset + j as u32;
        val[at] = v;
        at += usize::from(v != F::zero());
    }
    at
}

/// 16 pixels per step: compare with 0, compress the kept values and their indices to the front
/// of a register, store the whole register (a compressing store straight to memory is slow on
/// AMD Zen 4), advance by the number kept.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn compact_f32_avx512(x: &[f32], offset: u32, idx: &mut [u32], val: &mut [f32], mut at: usize) -> usize {
    use std::arch::x86_64::*;
    let mut j = _mm512_add_epi32(_mm512_set1_epi32(offset as i32), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    let chunks = x.chunks_exact(16);
    let tail = chunks.remainder();
    for c in chunks {
        // SAFETY: 16 entries are read from a chunk of 16, and 16 written at `at` ≤ the room the
        // caller checked (at + 16 ≤ at₀ + pixels so far + 16).
        unsafe {
            let v = _mm512_loadu_ps(c.as_ptr());
            let m = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, _mm512_setzero_ps());
            _mm512_storeu_ps(val.as_mut_ptr().add(at), _mm512_maskz_compress_ps(m, v));
            _mm512_storeu_si512(idx.as_mut_ptr().add(at).cast(), _mm512_maskz_compress_epi32(m, j));
            at += m.count_ones() as usize;
        }
        j = _mm512_add_epi32(j, _mm512_set1_epi32(16));
    }
    compact_generic(tail, offset + (x.len() - tail.len()) as u32, idx, val, at)
}

/// The f64 version: 8 pixels per step (the indices still go out as 16 lanes, hence the slack).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn compact_f64_avx512(x: &[f64], offset: u32, idx: &mut [u32], val: &mut [f64], mut at: usize) -> usize {
    use std::arch::x86_64::*;
    let mut j = _mm512_add_epi32(_mm512_set1_epi32(offset as i32), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        // SAFETY: 8 entries read from a chunk of 8; 8 values and 16 indices written at `at`,
        // within the room the caller checked (at + 16 ≤ at₀ + pixels so far + 16).
        unsafe {
            let v = _mm512_loadu_pd(c.as_ptr());
            let m = _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(v, _mm512_setzero_pd());
            _mm512_storeu_pd(val.as_mut_ptr().add(at), _mm512_maskz_compress_pd(m, v));
            _mm512_storeu_si512(idx.as_mut_ptr().add(at).cast(), _mm512_maskz_compress_epi32(u16::from(m), j));
            at += m.count_ones() as usize;
        }
        j = _mm512_add_epi32(j, _mm512_set1_epi32(8));
    }
    compact_generic(tail, offset + (x.len() - tail.len()) as u32, idx, val, at)
}

/// Asks the CPU to start loading `data` into its caches (a hint: no effect on results).
pub fn prefetch<F>(data: &[F]) {
    #[cfg(target_arch = "x86_64")]
    for line in data.chunks((64 / std::mem::size_of::<F>()).max(1)) {
        // SAFETY: prefetching is a hint that never faults; the pointer comes from a live slice.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr().cast()) };
    }
}

/// Side of the square tiles of [`transpose_tile`].
pub const TILE: usize = 16;

/// One TILE × TILE tile of a transposed sum: out[c·ds + rb + r] = scale · Σₛ srcs[s][(rb + r)·ss + cb + c]
/// for r, c < TILE (`out` starts at the tile's first output row). Read as TILE contiguous runs of
/// the sources, written as TILE contiguous runs of `out`.
#[inline(always)]
fn transpose_tile_generic<F: Real>(srcs: &[&[F]], ss: usize, rb: usize, cb: usize, out: &mut [F], ds: usize, scale: F) {
    let mut tile = [[F::zero(); TILE]; TILE];
    for (r, t) in tile.iter_mut().enumerate() {
        let s0 = (rb + r) * ss + cb;
        t.copy_from_slice(&srcs[0][s0..s0 + TILE]);
        for src in &srcs[1..] {
            t.iter_mut().zip(&src[s0..s0 + TILE]).for_each(|(v, &w)| *v += w);
        }
    }
    for c in 0..TILE {
        let o: &mut [F; TILE] = (&mut out[c * ds + rb..][..TILE]).try_into().expect("TILE entries");
        for r in 0..TILE {
            o[r] = scale * tile[r][c];
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn transpose_tile_avx512<F: Real>(srcs: &[&[F]], ss: usize, rb: usize, cb: usize, out: &mut [F], ds: usize, scale: F) {
    transpose_tile_generic(srcs, ss, rb, cb, out, ds, scale)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_tile_avx2<F: Real>(srcs: &[&[F]], ss: usize, rb: usize, cb: usize, out: &mut [F], ds: usize, scale: F) {
    transpose_tile_generic(srcs, ss, rb, cb, out, ds, scale)
}

/// See [`transpose_tile_generic`]; the widest vector instructions the CPU has.
pub fn transpose_tile<F: Real>(srcs: &[&[F]], ss: usize, rb: usize, cb: usize, out: &mut [F], ds: usize, scale: F) {
    match isa() {
        // SAFETY: `isa` reported AVX-512F on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { transpose_tile_avx512(srcs, ss, rb, cb, out, ds, scale) },
        // SAFETY: `isa` reported AVX2 on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { transpose_tile_avx2(srcs, ss, rb, cb, out, ds, scale) },
        _ => transpose_tile_generic(srcs, ss, rb, cb, out, ds, scale),
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

    /// Both row kernels against plain loops, for row lengths that give one chunk, several
    /// chunks of different lengths, a tail shorter than a vector, and no whole vector at all.
    type Axpy<F> = fn(&[u32], &[F], &[F], &mut [F]);

    /// The row kernels for every instruction set this CPU can run, not only the one `isa` picks.
    fn variants<F: Real>() -> Vec<(&'static str, Axpy<F>, Axpy<F>)> {
        let mut v: Vec<(&'static str, Axpy<F>, Axpy<F>)> = vec![("baseline", axpy_rows_generic::<F, false>, rank1_rows_generic::<F, false>)];
        #[cfg(target_arch = "x86_64")]
        {
            let fma = std::arch::is_x86_feature_detected!("fma");
            if std::arch::is_x86_feature_detected!("avx2") && fma {
                // SAFETY (both): the CPU has AVX2 and FMA, checked just above.
                v.push(("avx2", |i, a, r, y| unsafe { axpy_rows_avx2(i, a, r, y) }, |i, a, x, r| unsafe { rank1_rows_avx2(i, a, x, r) }));
            }
            if std::arch::is_x86_feature_detected!("avx512f") && fma {
                // SAFETY (both): the CPU has AVX-512F and FMA, checked just above.
                v.push(("avx512", |i, a, r, y| unsafe { axpy_rows_avx512(i, a, r, y) }, |i, a, x, r| unsafe { rank1_rows_avx512(i, a, x, r) }));
            }
        }
        v.push(("dispatched", axpy_rows::<F>, rank1_rows::<F>));
        v
    }

    /// Both row kernels against plain loops in f64, for row lengths that give one chunk, several
    /// chunks of different lengths, a tail shorter than a vector, and no whole vector at all.
    fn check_row_kernels<F: Real>(tol: f64) {
        for (isa, axpy_rows, rank1_rows) in variants::<F>() {
            for n in [1usize, 13, 16, 100, 104, 112, 136, 200, 512] {
                let f = |v: f64| F::from_f64(v).unwrap();
                let r: Vec<F> = (0..9 * n).map(|i| f((i as f64 * 0.21).sin())).collect();
                for len in [0usize, 1, 3, 4, 5, 9] {
                    let terms: Vec<(u32, F)> = (0..len).map(|t| (((t * 5) % 9) as u32, f(0.3 * t as f64 - 1.0))).collect();
                    let y0: Vec<F> = (0..n).map(|l| f(l as f64 * 0.01)).collect();
                    let mut y = y0.clone();
                    let (idx, val): (Vec<u32>, Vec<F>) = terms.iter().copied().unzip();
                    axpy_rows(&idx, &val, &r, &mut y);
                    for l in 0..n {
                        let want = y0[l].to_f64().unwrap() + terms.iter().map(|&(j, a)| a.to_f64().unwrap() * r[j as usize * n + l].to_f64().unwrap()).sum::<f64>();
                        assert!((y[l].to_f64().unwrap() - want).abs() < tol, "{isa}: n {n}, len {len}, l {l}: {} vs {want}", y[l]);
                    }
                    let mut rr = r.clone();
                    rank1_rows(&idx, &val, &y0, &mut rr);
                    let mut want: Vec<f64> = r.iter().map(|v| v.to_f64().unwrap()).collect();
                    for &(j, a) in &terms {
                        for l in 0..n {
                            want[j as usize * n + l] += a.to_f64().unwrap() * y0[l].to_f64().unwrap();
                        }
                    }
                    assert!(rr.iter().zip(&want).all(|(a, b)| (a.to_f64().unwrap() - b).abs() < tol), "{isa}: n {n}, len {len}");
                }
            }
        }
    }

    #[test]
    fn row_kernels_match_plain_loops() {
        check_row_kernels::<f64>(1e-12);
        check_row_kernels::<f32>(1e-5);
    }

    fn check_compaction<F: Real>() {
        for len in [0usize, 1, 7, 8, 15, 16, 17, 33, 100] {
            let x: Vec<F> = (0..len).map(|j| if (j * 7) % 3 == 0 || j % 11 == 4 { F::zero() } else if j == 5 { F::nan() } else { F::from_usize(j).unwrap() }).collect();
            let (mut idx, mut val) = (vec![99u32; 5 + len + COMPACT_SLACK], vec![F::one(); 5 + len + COMPACT_SLACK]);
            let end = compact_nonzero(&x, 40, &mut idx, &mut val, 5);
            let (mut idx_g, mut val_g) = (vec![99u32; 5 + len], vec![F::one(); 5 + len]);
            assert_eq!(compact_generic(&x, 40, &mut idx_g, &mut val_g, 5), end, "the portable path keeps as many");
            assert_eq!(idx_g[5..end], idx[5..end]);
            let want: Vec<(u32, usize)> = (0..len).filter(|&j| x[j] != F::zero()).map(|j| (40 + j as u32, j)).collect();
            assert_eq!(end - 5, want.len(), "len {len}");
            for (t, &(i, j)) in want.iter().enumerate() {
                assert_eq!(idx[5 + t], i);
                assert!(val[5 + t] == x[j] || (val[5 + t].is_nan() && x[j].is_nan()), "len {len}, entry {t}");
            }
            assert!(idx[..5].iter().all(|&i| i == 99), "nothing written before `at`");
        }
    }

    #[test]
    fn compaction_keeps_the_nonzero_entries_in_order() {
        check_compaction::<f32>();
        check_compaction::<f64>();
    }

    #[test]
    fn chunks_cover_the_row_in_whole_vectors() {
        let chunks = |n: usize, bytes: usize| -> Vec<(usize, usize)> {
            match bytes {
                8 => chunks::<f64>(n).collect(),
                _ => chunks::<f32>(n).collect(),
            }
        };
        assert_eq!(chunks(104, 8), vec![(0, 56), (56, 48)]); // 13 vectors of 8: 7 + 6
        assert_eq!(chunks(112, 4), vec![(0, 112)]); // 7 vectors of 16
        assert_eq!(chunks(100, 8), vec![(0, 48), (48, 48), (96, 4)]); // 12 vectors + a tail of 4
        assert_eq!(chunks(512, 8), (0..8).map(|c| (64 * c, 64)).collect::<Vec<_>>());
        assert_eq!(chunks(5, 8), vec![(0, 5)]);
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
