use backprop::ndarray::Array2;
fn main() {
    for (m, k, n) in [(100usize, 784usize, 512usize), (512, 100, 784), (2048, 2048, 2048)] {
        let a = Array2::<f64>::from_shape_fn((m, k), |(i, j)| ((i * 7 + j) % 13) as f64 * 0.1);
        let b = Array2::<f64>::from_shape_fn((k, n), |(i, j)| ((i * 3 + j) % 11) as f64 * 0.1);
        let reps = if m == 2048 { 3 } else { 200 };
        let _ = a.dot(&b);
        let t = std::time::Instant::now();
        let mut s = 0.0;
        for _ in 0..reps { s += a.dot(&b)[[0, 0]]; }
        let dt = t.elapsed().as_secs_f64();
        println!("{m}x{k} . {k}x{n}: {:.1} GFLOP/s ({s})", 2.0 * (m * k * n * reps) as f64 / dt / 1e9);
    }
}
