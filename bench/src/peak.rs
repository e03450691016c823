//! The machine's FMA peak, measured: every thread runs independent chains of fused
//! multiply-adds on the widest vector registers the CPU has (AVX-512: 16 chains of 8 f64 /
//! 16 f32 lanes; otherwise AVX2: 12 chains of 4 / 8), so the FMA units never wait on a result.
//! The chains and the two operands must fit in the register file, or the accumulators spill
//! to memory and the probe measures store-to-load latency instead: AVX-512 has 32 zmm
//! registers (16 + 2 fit), AVX2 only 16 ymm (12 + 2 fit; 16 + 2 did not, and read 13 GFLOP/s
//! f64 on a Zen 1 core whose GEMMs reach 17). 12 chains still cover the FMA latency times the
//! FMA units of every AVX2 CPU (Zen 1: 5 cycles × one 256-bit FMA per cycle; Skylake: 4 × 2).
//! Intrinsics live here, in the benchmark only; the crate's engine has none.

use std::time::Instant;

/// The vector unit the probe used, for the table.
pub fn unit() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            return "AVX-512 (zmm, 16 accumulators)";
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return "AVX2 + FMA (ymm, 12 accumulators)";
        }
    }
    "none"
}

/// One thread: `iters` rounds of one FMA per chain; returns the flops done (2 per lane per FMA).
fn probe_thread(f32_lanes: bool, iters: u64) -> Result<f64, String> {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked on the line above), the only
            // requirement of the `target_feature(enable = "avx512f")` functions.
            let lanes = unsafe { if f32_lanes { x86::fma512_ps(iters) } else { x86::fma512_pd(iters) } };
            return Ok(2.0 * 16.0 * lanes * iters as f64); // 16 chains
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked above), the requirements of
            // the `target_feature(enable = "avx2,fma")` functions.
            let lanes = unsafe { if f32_lanes { x86::fma256_ps(iters) } else { x86::fma256_pd(iters) } };
            return Ok(2.0 * 12.0 * lanes * iters as f64); // 12 chains
        }
    }
    let _ = (f32_lanes, iters);
    Err("the FMA probe needs an x86-64 CPU with AVX2+FMA or AVX-512F; on this CPU run the bench with --no-peak".into())
}

/// GFLOP/s of `threads` threads running the probe at once (best of 5 runs of ≈ 0.1 s each).
pub fn gflops(threads: usize, f32_lanes: bool) -> Result<f64, String> {
    let iters = 20_000_000u64;
    let mut best = 0.0f64;
    for _ in 0..5 {
        let t0 = Instant::now();
        let flops: Result<Vec<f64>, String> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads).map(|_| s.spawn(move || probe_thread(f32_lanes, iters))).collect();
            hs.into_iter().map(|h| h.join().expect("probe thread")).collect()
        });
        let total: f64 = flops?.iter().sum();
        best = best.max(total / t0.elapsed().as_secs_f64() / 1e9);
    }
    Ok(best)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    macro_rules! fma_chains {
        ($name:ident, $feat:literal, $chains:literal, $vec:ty, $set1:ident, $fma:ident, $add:ident, $lanes:expr, $elem:ty) => {
            /// `iters` rounds of `$chains` independent FMAs; returns the lanes per vector.
            ///
            /// # Safety
            /// The CPU must support the target features named in the attribute.
            #[target_feature(enable = $feat)]
            pub unsafe fn $name(iters: u64) -> f64 {
                let a: $vec = $set1(black_box(0.999_999 as $elem));
                let b: $vec = $set1(black_box(1e-7 as $elem));
                let mut acc: [$vec; $chains] = [$set1(1.0 as $elem); $chains];
                for _ in 0..iters {
                    for v in acc.iter_mut() {
                        *v = $fma(*v, a, b);
                    }
                }
                let mut s = acc[0];
                for v in &acc[1..] {
                    s = $add(s, *v);
                }
                black_box(s);
                $lanes
            }
        };
    }
    fma_chains!(fma512_pd, "avx512f", 16, __m512d, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd, 8.0, f64);
    fma_chains!(fma512_ps, "avx512f", 16, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16.0, f32);
    fma_chains!(fma256_pd, "avx2,fma", 12, __m256d, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_add_pd, 4.0, f64);
    fma_chains!(fma256_ps, "avx2,fma", 12, __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8.0, f32);
}
