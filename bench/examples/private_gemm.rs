//! A GEMM candidate measured and not taken (BENCHMARKS.md, session 13): private-gemm-x86 0.1, the
//! x86-64 kernels faer 0.24 multiplies with, against the engine's gemm 0.19, at the two large
//! products as the engine computes them, on one thread:
//! forward H_a (K × d_h, column-major) = X (K × 784, row-major) · W1ᵀ (W1: d_h × 784, row-major);
//! backward, fused with the SGD step, W1 ← W1 − η G_haᵀ X (G_ha: K × d_h, column-major).
//! Each round times 500 minibatches (a gather of 100 random rows of 50 000, then both products),
//! the two libraries one after the other, four rounds.
//! `cargo run --release --manifest-path bench/Cargo.toml --example private_gemm -- [d_h] [f32]`
use std::time::Instant;

/// Strides of a matrix, in elements: (row stride, column stride).
type Layout = (isize, isize);

trait Real: Copy + Default + PartialOrd + std::ops::Sub<Output = Self> + 'static {
    const DTYPE: private_gemm_x86::DType;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}
impl Real for f64 {
    const DTYPE: private_gemm_x86::DType = private_gemm_x86::DType::F64;
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
}
impl Real for f32 {
    const DTYPE: private_gemm_x86::DType = private_gemm_x86::DType::F32;
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// C ← A B, or C ← C + s A B with `add = Some(s)`; C m × n, A m × k, B k × n.
#[allow(clippy::too_many_arguments)]
fn product<F: Real>(private: bool, (m, n, k): (usize, usize, usize), c: &mut [F], cl: Layout, a: &[F], al: Layout, b: &[F], bl: Layout, add: Option<F>) {
    // SAFETY: the slices hold the m × n, m × k and k × n matrices at these strides (checked by the
    // caller's shapes); C does not alias A or B; F is f32 or f64, as DTYPE and gemm's dispatch say.
    unsafe {
        if private {
            let alpha = add.unwrap_or(F::from_f64(1.0));
            let accum = if add.is_some() { private_gemm_x86::Accum::Add } else { private_gemm_x86::Accum::Replace };
            let null = std::ptr::null();
            private_gemm_x86::gemm(
                F::DTYPE, private_gemm_x86::IType::U64, private_gemm_x86::InstrSet::Avx512, m, n, k,
                c.as_mut_ptr() as *mut (), cl.0, cl.1, null, null, private_gemm_x86::DstKind::Full, accum,
                a.as_ptr() as *const (), al.0, al.1, false, null, 0, b.as_ptr() as *const (), bl.0, bl.1, false,
                &alpha as *const F as *const (), 1,
            )
        } else {
            let (alpha, beta) = match add {
                Some(s) => (F::from_f64(1.0), s),
                None => (F::from_f64(0.0), F::from_f64(1.0)),
            };
            gemm::gemm(m, n, k, c.as_mut_ptr(), cl.1, cl.0, add.is_some(), a.as_ptr(), al.1, al.0, b.as_ptr(), bl.1, bl.0, alpha, beta, false, false, false, gemm::Parallelism::None)
        }
    }
}

fn run<F: Real>(dh: usize) {
    let (kb, d, n) = (100usize, 784usize, 50_000usize);
    let x: Vec<F> = (0..n * d).map(|i| F::from_f64(((i * 7919) % 256) as f64 / 255.0)).collect();
    let mut w1: Vec<F> = (0..dh * d).map(|i| F::from_f64((((i * 31) % 97) as f64 - 48.0) * 1e-4)).collect();
    let g0: Vec<F> = (0..kb * dh).map(|i| F::from_f64((((i * 13) % 17) as f64 - 8.0) * 1e-3)).collect();
    let (mut xb, mut h_a, mut g_ha) = (vec![F::default(); kb * d], vec![F::default(); kb * dh], g0.clone());
    let (xl, w1tl, hl, w1l, ghtl): (Layout, Layout, Layout, Layout, Layout) = ((d as isize, 1), (1, d as isize), (1, kb as isize), (d as isize, 1), (kb as isize, 1));
    let lr = F::from_f64(-1e-6);
    // the two libraries agree on one minibatch
    xb.copy_from_slice(&x[..kb * d]);
    let (mut h0, mut h1, mut wa, mut wb) = (h_a.clone(), h_a.clone(), w1.clone(), w1.clone());
    product(false, (kb, dh, d), &mut h0, hl, &xb, xl, &w1, w1tl, None);
    product(true, (kb, dh, d), &mut h1, hl, &xb, xl, &w1, w1tl, None);
    product(false, (dh, d, kb), &mut wa, w1l, &g_ha, ghtl, &xb, xl, Some(lr));
    product(true, (dh, d, kb), &mut wb, w1l, &g_ha, ghtl, &xb, xl, Some(lr));
    let gap = |p: &[F], q: &[F]| p.iter().zip(q).map(|(&a, &b)| (a.to_f64() - b.to_f64()).abs()).fold(0.0, f64::max);
    println!("d_h {dh}, {}: largest difference forward {:.1e}, backward {:.1e} (W1 moved {:.1e})", std::any::type_name::<F>(), gap(&h0, &h1), gap(&wa, &wb), gap(&wa, &w1));
    let gflop = 2.0 * (kb * d * dh) as f64 * 500.0 / 1e9;
    for round in 0..4 {
        for private in [false, true] {
            let (mut tf, mut tb) = (0.0, 0.0);
            for t in 0..500 {
                for r in 0..kb {
                    let i = (t * 7717 + r * 4099) % n;
                    xb[r * d..(r + 1) * d].copy_from_slice(&x[i * d..(i + 1) * d]);
                }
                let t0 = Instant::now();
                product(private, (kb, dh, d), &mut h_a, hl, &xb, xl, &w1, w1tl, None);
                tf += t0.elapsed().as_secs_f64();
                // ReLU′: G_ha keeps the entries of the active units (fixed values, so W1 stays normal)
                for ((g, &h), &g0) in g_ha.iter_mut().zip(&h_a).zip(&g0) {
                    *g = if h > F::default() { g0 } else { F::default() };
                }
                let t0 = Instant::now();
                product(private, (dh, d, kb), &mut w1, w1l, &g_ha, ghtl, &xb, xl, Some(lr));
                tb += t0.elapsed().as_secs_f64();
            }
            let name = if private { "private-gemm-x86 0.1" } else { "gemm 0.19          " };
            println!("round {round} {name}: forward {tf:.3} s ({:.0} GFLOP/s), backward {tb:.3} s ({:.0} GFLOP/s)", gflop / tf, gflop / tb);
        }
    }
}

fn main() {
    if !std::arch::is_x86_feature_detected!("avx512f") {
        eprintln!("private_gemm: this CPU has no AVX-512; the probe calls the AVX-512 kernels only");
        std::process::exit(2);
    }
    let dh = std::env::args().nth(1).map(|s| s.parse().expect("d_h: a number")).unwrap_or(512);
    if std::env::args().nth(2).as_deref() == Some("f32") {
        run::<f32>(dh)
    } else {
        run::<f64>(dh)
    }
}
