//! A GEMM candidate measured and not taken (BENCHMARKS.md, session 13): private-gemm-x86 0.1, the
//! x86-64 kernels faer 0.24 multiplies with, against the engine's gemm 0.19, at the two large
//! products as the engine computes them, on one thread:
//! forward H_a (K × d_h, column-major) = X (K × 784, row-major) · W1ᵀ (W1: d_h × 784, row-major);
//! backward, fused with the SGD step, W1 ← W1 − η G_haᵀ X (G_ha: K × d_h, column-major).
//! Each round times 500 minibatches (a gather of 100 random rows of 50 000, then both products),
//! the two libraries one after the other, four rounds.
//! `cargo run --release --manifest-path bench/Cargo.toml --example private_gemm -- [d_h] [f32]`
use backprop::ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder, Zip};
use backprop::Real;
use std::time::Instant;

// the bench's own gemm 0.19 call (`gemm_probe::gemm_crate`), the engine's library
#[allow(dead_code)]
#[path = "../src/gemm_probe.rs"]
mod gemm_probe;

/// C ← A B, or C ← C + s A B with `add = Some(s)`, with private-gemm-x86's AVX-512 kernels on
/// one thread; any strides.
fn private_gemm<F: Real>(a: ArrayView2<F>, b: ArrayView2<F>, mut c: ArrayViewMut2<F>, add: Option<F>) {
    let ((m, k), n) = (a.dim(), b.ncols());
    assert_eq!((b.nrows(), c.dim()), (k, (m, n)));
    let dtype = if std::mem::size_of::<F>() == 4 { private_gemm_x86::DType::F32 } else { private_gemm_x86::DType::F64 };
    let (alpha, accum) = match add {
        Some(s) => (s, private_gemm_x86::Accum::Add),
        None => (F::one(), private_gemm_x86::Accum::Replace),
    };
    let (cs, as_, bs) = (c.strides().to_vec(), a.strides().to_vec(), b.strides().to_vec());
    let null = std::ptr::null();
    // SAFETY: the pointers and strides come from live ndarray views of the shapes checked above;
    // C is borrowed mutably, so it aliases neither A nor B; F is f32 or f64 (`Real`), as `dtype` says.
    unsafe {
        private_gemm_x86::gemm(
            dtype, private_gemm_x86::IType::U64, private_gemm_x86::InstrSet::Avx512, m, n, k,
            c.as_mut_ptr() as *mut (), cs[0], cs[1], null, null, private_gemm_x86::DstKind::Full, accum,
            a.as_ptr() as *const (), as_[0], as_[1], false, null, 0, b.as_ptr() as *const (), bs[0], bs[1], false,
            &alpha as *const F as *const (), 1,
        )
    }
}

/// C ← A B, or C ← C + s A B, with gemm 0.19 (`private = false`) or private-gemm-x86.
fn product<F: Real>(private: bool, a: ArrayView2<F>, b: ArrayView2<F>, c: ArrayViewMut2<F>, add: Option<F>) {
    if private {
        private_gemm(a, b, c, add)
    } else {
        gemm_probe::gemm_crate(a, b, c, add, 1)
    }
}

fn run<F: Real>(dh: usize) {
    let (kb, d, n) = (100usize, 784usize, 50_000usize);
    let f = |v: f64| F::from_f64(v).unwrap();
    let x = Array2::<F>::from_shape_fn((n, d), |(i, j)| f(((i * d + j) * 7919 % 256) as f64 / 255.0));
    let mut w1 = Array2::<F>::from_shape_fn((dh, d), |(i, j)| f((((i * d + j) * 31 % 97) as f64 - 48.0) * 1e-4));
    let g0 = Array2::<F>::from_shape_fn((kb, dh).f(), |(i, j)| f((((i * dh + j) * 13 % 17) as f64 - 8.0) * 1e-3));
    let (mut xb, mut h_a, mut g_ha) = (Array2::<F>::zeros((kb, d)), Array2::<F>::zeros((kb, dh).f()), g0.clone());
    let lr = Some(f(-1e-6));
    // the two libraries agree on one minibatch
    xb.assign(&x.slice(backprop::ndarray::s![..kb, ..]));
    let (mut h0, mut h1, mut wa, mut wb) = (h_a.clone(), h_a.clone(), w1.clone(), w1.clone());
    product(false, xb.view(), w1.t(), h0.view_mut(), None);
    product(true, xb.view(), w1.t(), h1.view_mut(), None);
    product(false, g_ha.t(), xb.view(), wa.view_mut(), lr);
    product(true, g_ha.t(), xb.view(), wb.view_mut(), lr);
    let gap = |p: &Array2<F>, q: &Array2<F>| p.iter().zip(q).map(|(&a, &b)| (a - b).abs().to_f64().unwrap()).fold(0.0, f64::max);
    println!("d_h {dh}, {}: largest difference forward {:.1e}, backward {:.1e} (W1 moved {:.1e})", std::any::type_name::<F>(), gap(&h0, &h1), gap(&wa, &wb), gap(&wa, &w1));
    let gflop = 2.0 * (kb * d * dh) as f64 * 500.0 / 1e9;
    for round in 0..4 {
        for private in [false, true] {
            let (mut tf, mut tb) = (0.0, 0.0);
            for t in 0..500 {
                for (r, mut row) in xb.rows_mut().into_iter().enumerate() {
                    let i = (t * 7717 + r * 4099) % n;
                    row.as_slice_mut().unwrap().copy_from_slice(x.row(i).as_slice().unwrap());
                }
                let t0 = Instant::now();
                product(private, xb.view(), w1.t(), h_a.view_mut(), None);
                tf += t0.elapsed().as_secs_f64();
                // ReLU′: G_ha keeps the entries of the active units (fixed values, so W1 stays normal)
                Zip::from(&mut g_ha).and(&h_a).and(&g0).for_each(|g, &h, &g0| *g = if h > F::zero() { g0 } else { F::zero() });
                let t0 = Instant::now();
                product(private, g_ha.t(), xb.view(), w1.view_mut(), lr);
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
