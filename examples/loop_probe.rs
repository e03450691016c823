use backprop::ndarray::{Array1, Array2, Axis};
use backprop::prelude::*;
fn main() {
    let (d, dh, k) = (784usize, 100usize, 100usize);
    let net = Mlp::<f64>::init(d, dh, 10, 1).unwrap();
    let x: Array2<f64> = rng::uniform((k, d), 0.0, 1.0, &mut rng::seeded(1));
    let nb = 100;
    // phase 1 proxy: per-example mat-vec W1 x + b1
    let t = std::time::Instant::now();
    let mut s = 0.0;
    let rows: Vec<&[f64]> = net.w1.rows().into_iter().map(|r| r.to_slice().unwrap()).collect();
    for _ in 0..nb { for xi in x.rows() { let xs = xi.to_slice().unwrap(); let h: Array1<f64> = rows.iter().map(|r| backprop::kernels::dot(r, xs)).collect(); s += h[0]; } }
    let p1 = t.elapsed().as_secs_f64();
    // phase 2 proxy: rank-1 updates, half the rows active
    let mut g = Array2::<f64>::zeros((dh, d));
    let t = std::time::Instant::now();
    for _ in 0..nb { for j0 in (0..dh).step_by(8) { for xi in x.rows() { for j in j0..(j0 + 8).min(dh) { if j % 2 == 0 { g.row_mut(j).scaled_add(0.1, &xi); } } } } }
    let p2 = t.elapsed().as_secs_f64();
    // whole loss_grad_loop
    let y: Vec<usize> = (0..k).map(|i| i % 10).collect();
    let t = std::time::Instant::now();
    for _ in 0..nb { let (l, _) = net.loss_grad_loop(x.view(), &y, &backprop::mlp::ElasticNet::none(), false).unwrap(); s += l; }
    let all = t.elapsed().as_secs_f64();
    let scale = 500.0 / nb as f64;
    println!("per epoch (500 batches): matvec {:.3} s, rank-1 (half active) {:.3} s, loss_grad_loop {:.3} s ({s:.1} {})", p1 * scale, p2 * scale, all * scale, g.sum_axis(Axis(0))[0]);
}
