//! The problem sets' own numbers, computed with the crate.

use backprop::prelude::*;

/// ps3 Q1: a 2-3-1 ReLU network on four points, L = ½ Σ (y_k − t_k)².
/// ps3 writes z = x W⁽¹⁾ + b⁽¹⁾ with W⁽¹⁾ of shape 2 × 3 (inputs × units); the crate's
/// layers hold W as units × inputs, which is how W⁽¹⁾ is written below (one row per unit).
#[test]
fn ps3_q1_gradients_match_the_published_values() {
    // the four points given feature by feature, turned into one row per point
    let x = array![[0.6, 0.8, -0.4, 0.2], [-1.0, -1.0, 0.9, 0.0]].t().as_standard_layout().into_owned();
    let t = [-0.8, -0.1, 0.9, 0.7];
    // W1 unit by unit: the two input weights of hidden units 1, 2, 3
    let w1 = array![[-0.8, -1.0], [-0.7, 0.5], [0.6, -1.0]];
    let net = Network::new(vec![
        Dense::new(w1, Some(array![-0.2, -1.0, -0.7]), Activation::Relu).unwrap(),
        Dense::new(array![[0.1, -1.0, 0.5]], Some(array![-0.7]), Activation::Identity).unwrap(),
    ])
    .unwrap();
    let (mut dw1, mut db1, mut dw2, mut db2) = (Array2::<f64>::zeros((3, 2)), Array1::<f64>::zeros(3), Array2::<f64>::zeros((1, 3)), 0.0);
    let mut loss = 0.0;
    for (k, tk) in t.iter().enumerate() {
        let (y, caches) = net.forward(x.row(k)).unwrap();
        loss += loss::half_squared_error(y[0], *tk);
        let g = net.backward(array![y[0] - tk].view(), &caches).unwrap();
        dw1 += &g.layers[0].w;
        db1 += g.layers[0].b.as_ref().unwrap();
        dw2 += &g.layers[1].w;
        db2 += g.layers[1].b.as_ref().unwrap()[0];
    }
    assert_close!(db2, -2.732, 1e-12);
    assert_all_close!(dw2, [0.1168, 0.0, 0.1536], 1e-12);
    assert_all_close!(db1, [0.0268, 0.0, 0.134], 1e-12);
    // back in ps3's 2 × 3 layout
    assert_all_close!(dw1.t(), [0.0122, 0.0, 0.061, -0.0268, 0.0, -0.134], 1e-12);
    assert_close!(loss, 2.38554, 1e-12);
}

/// ps4: z = w0 x[0] + w1 x[1] + w2, h = ReLU(z), ŷ = w3 h + w4, L = mean (ŷ − y)².
fn ps4_net(theta: &[f64; 5]) -> Network {
    Network::new(vec![
        Dense::new(array![[theta[0], theta[1]]], Some(array![theta[2]]), Activation::Relu).unwrap(),
        Dense::new(array![[theta[3]]], Some(array![theta[4]]), Activation::Identity).unwrap(),
    ])
    .unwrap()
}

fn ps4_loss_grad(theta: &[f64; 5]) -> (Vec<f64>, f64, Array1<f64>) {
    let xs = array![[2.0, 1.0], [-3.0, 2.0]];
    let ys = [1.3, 1.9];
    let net = ps4_net(theta);
    let (mut preds, mut loss, mut grad) = (Vec::new(), 0.0, Array1::<f64>::zeros(5));
    for (x, y) in xs.rows().into_iter().zip(ys) {
        let (out, caches) = net.forward(x).unwrap();
        preds.push(out[0]);
        loss += loss::squared_error(out[0], y) / 2.0;
        let g = net.backward(array![loss::squared_error_grad(out[0], y)].view(), &caches).unwrap();
        let flat: Array1<f64> = Network::grads_as_params(&g).iter().flat_map(|a| a.iter().copied()).collect();
        grad += &(flat / 2.0);
    }
    (preds, loss, grad)
}

#[test]
fn ps4_one_step_by_hand() {
    let theta = [1.0, 1.0, 0.0, 1.0, 0.0];
    let (preds, loss, grad) = ps4_loss_grad(&theta);
    assert_all_close!(preds, [3.0, 0.0], 1e-15);
    assert_close!(loss, 3.25, 1e-12);
    assert_all_close!(grad, [3.4, 1.7, 1.7, 5.1, -0.2], 1e-12);
    let theta1: Vec<f64> = theta.iter().zip(grad.iter()).map(|(t, g)| t - 0.01 * g).collect();
    assert_all_close!(theta1, [0.966, 0.983, -0.017, 0.949, 0.002], 1e-15);
    let (preds1, loss1, _) = ps4_loss_grad(&[theta1[0], theta1[1], theta1[2], theta1[3], theta1[4]]);
    assert_all_close!(preds1, [2.752202, 0.002], 1e-12);
    assert_close!(loss1, 2.855647324402, 1e-12);
    assert!(loss1 < loss);
}
