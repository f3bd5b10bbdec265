//! Tests of DEC's loss and step (`dec`): eqs. 1-5 against hand computations and finite
//! differences, the IDEC and pair terms, and the bf16 step against f32.
//!
//! Apart from the code so that each reads in one file; they see its private items.

use super::*;

fn setup() -> (Vec<f32>, Vec<f32>, usize) {
    let z = vec![0.1, 0.3, -1.0, 0.5, 2.0, 1.2, 0.0, -0.7];
    let mu = vec![0.0, 0.0, 1.5, 1.0, -1.0, 1.0];
    (z, mu, 2)
}

#[test]
fn q_and_p_are_distributions_and_p_is_sharper() {
    let (z, mu, e) = setup();
    let (n, k) = (4, 3);
    let mut q = vec![0.0; n * k];
    let mut ker = vec![0.0; n * k];
    soft_assign(&z, &mu, e, 1.0, &mut q, &mut ker);
    let p = target_distribution(&q, k);
    for i in 0..n {
        let qs: f32 = q[i * k..(i + 1) * k].iter().sum();
        let ps: f32 = p[i * k..(i + 1) * k].iter().sum();
        assert!((qs - 1.0).abs() < 1e-6 && (ps - 1.0).abs() < 1e-6);
        let qmax = q[i * k..(i + 1) * k].iter().cloned().fold(0.0, f32::max);
        let pmax = p[i * k..(i + 1) * k].iter().cloned().fold(0.0, f32::max);
        assert!(
            pmax > qmax,
            "row {i}: p should put more mass on its top cluster"
        );
    }
}

/// Each sample's gradient magnitude against central differences of its own
/// KL(p_i‖q_i) in z_i, with P fixed.
#[test]
fn gradient_field_matches_finite_differences() {
    let (z, mu, e) = setup();
    let g = GradientField::compute(&z, &mu, e, 1.0);
    let k = g.k;
    let loss_i = |zi: &[f32], pi: &[f32]| {
        let (mut q, mut ker) = (vec![0.0; k], vec![0.0; k]);
        soft_assign(zi, &mu, e, 1.0, &mut q, &mut ker);
        kl_divergence(pi, &q, 1) as f64
    };
    let h = 1e-3f32;
    for i in 0..z.len() / e {
        let pi = &g.p[i * k..(i + 1) * k];
        let mut sq = 0.0f64;
        for t in 0..e {
            let (mut a, mut b) = (
                z[i * e..(i + 1) * e].to_vec(),
                z[i * e..(i + 1) * e].to_vec(),
            );
            a[t] += h;
            b[t] -= h;
            let d = (loss_i(&a, pi) - loss_i(&b, pi)) / (2.0 * h as f64);
            sq += d * d;
        }
        assert!(
            (sq.sqrt() - g.norm[i] as f64).abs() < 1e-3,
            "sample {i}: {} vs {}",
            sq.sqrt(),
            g.norm[i]
        );
        assert!(g.norm[i] > 0.0);
    }
}

/// The closed forms against central finite differences of the KL loss, with P fixed
/// (as DEC treats it between updates), for a=1 and a=2.
#[test]
fn gradients_match_finite_differences() {
    for alpha in [1.0f32, 2.0] {
        let (z, mu, e) = setup();
        let (n, k) = (4, 3);
        let mut q = vec![0.0; n * k];
        let mut ker = vec![0.0; n * k];
        soft_assign(&z, &mu, e, alpha, &mut q, &mut ker);
        let p = target_distribution(&q, k);
        let (mut dz, mut dmu) = (vec![0.0; z.len()], vec![0.0; mu.len()]);
        kl_gradients(&z, &mu, e, alpha, &p, &q, &ker, &mut dz, &mut dmu);
        let loss = |z: &[f32], mu: &[f32]| {
            let mut q = vec![0.0; n * k];
            let mut ker = vec![0.0; n * k];
            soft_assign(z, mu, e, alpha, &mut q, &mut ker);
            kl_divergence(&p, &q, n) as f64
        };
        let h = 1e-3f32;
        for i in 0..z.len() {
            let (mut a, mut b) = (z.clone(), z.clone());
            a[i] += h;
            b[i] -= h;
            let num = (loss(&a, &mu) - loss(&b, &mu)) / (2.0 * h as f64);
            assert!(
                (num - dz[i] as f64).abs() < 1e-3,
                "a={alpha} dz[{i}]: {num} vs {}",
                dz[i]
            );
        }
        for j in 0..mu.len() {
            let (mut a, mut b) = (mu.clone(), mu.clone());
            a[j] += h;
            b[j] -= h;
            let num = (loss(&z, &a) - loss(&z, &b)) / (2.0 * h as f64);
            assert!(
                (num - dmu[j] as f64).abs() < 1e-3,
                "a={alpha} dmu[{j}]: {num} vs {}",
                dmu[j]
            );
        }
    }
}

/// A batch of `b` rows of 5 inputs, 3 centroids in 2-D and a target P for 4 rows:
/// the fixtures of the finite-difference step tests.
fn step_fixture(b: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let x = (0..b * 5)
        .map(|i| ((i * 7 % 13) as f32) / 6.0 - 1.0)
        .collect();
    let mu0 = vec![0.2, -0.1, -0.5, 0.4, 0.6, 0.3];
    let p = vec![0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.05, 0.15, 0.8];
    (x, mu0, p)
}

/// SGD at lr 1 and no momentum: one step moves each parameter by minus its gradient.
fn plain_sgd() -> Optimizer {
    Optimizer::new(crate::engine::nn::optim::OptimizerConfig::Sgd {
        lr: 1.0,
        momentum: 0.0,
    })
}

/// KL(P‖Q) of 2-D embeddings `z` under centroids `mu` (alpha 1), batch mean.
fn batch_kl(z: &[f32], mu: &[f32], p: &[f32], k: usize) -> f64 {
    let b = z.len() / 2;
    let mut q = vec![0.0; b * k];
    let mut ker = vec![0.0; b * k];
    soft_assign(z, mu, 2, 1.0, &mut q, &mut ker);
    f64::from(kl_divergence(p, &q, b))
}

/// A central difference `num` against the step's move `ana`.
fn check_grad(num: f64, ana: f64, what: &str) {
    assert!(
        (num - ana).abs() < 2e-3 + 0.02 * ana.abs(),
        "{what}: numeric {num} vs step {ana}"
    );
}

/// IDEC's step against finite differences of its loss L/γ = KL(P‖Q) + L_r/γ, for
/// the encoder, the decoder and the centroids: with SGD at lr 1 and no momentum,
/// each parameter moves by minus its gradient.
#[test]
fn idec_step_matches_finite_differences() {
    use crate::engine::nn::autoencoder::{Autoencoder, mse_and_grad};
    use rand::SeedableRng;
    let (b, k, gamma) = (4usize, 3usize, 0.5f32);
    let ae = Autoencoder::new(&[5, 4, 2], 11);
    let (x, mu0, p) = step_fixture(b);
    let loss = |ae: &Autoencoder, mu: &[f32]| -> f64 {
        let z = ae.encode(&x, b);
        let y = ae.decoder.predict(&z, b);
        let mut g = vec![0.0; y.len()];
        let rec = mse_and_grad(&y, &x, &mut g);
        batch_kl(&z, mu, &p, k) + rec as f64 / gamma as f64
    };
    let mut after = ae.clone();
    let mut mu = mu0.clone();
    let mut opt = plain_sgd();
    let mut step = DecStep::new(&after.encoder, k, 1.0, b).with_decoder(&after.decoder, b, gamma);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (enc, dec) = (&mut after.encoder, &mut after.decoder);
    let l = step.step(enc, Some(dec), &mut mu, &mut opt, &x, &p, b, None, &mut rng);
    assert!(l.rec.is_some());
    let h = 1e-3f32;
    for (part, before, moved) in [
        ("encoder", &ae.encoder, &after.encoder),
        ("decoder", &ae.decoder, &after.decoder),
    ] {
        for l in 0..before.layers.len() {
            for i in 0..before.layers[l].w.len() {
                let mut up = ae.clone();
                let mut down = ae.clone();
                let (u, d) = if part == "encoder" {
                    (&mut up.encoder, &mut down.encoder)
                } else {
                    (&mut up.decoder, &mut down.decoder)
                };
                u.layers[l].w[i] += h;
                d.layers[l].w[i] -= h;
                let num = (loss(&up, &mu0) - loss(&down, &mu0)) / (2.0 * h as f64);
                let ana = (before.layers[l].w[i] - moved.layers[l].w[i]) as f64;
                check_grad(num, ana, &format!("{part} layer {l} w[{i}]"));
            }
        }
    }
    for i in 0..mu0.len() {
        let mut up = mu0.clone();
        let mut down = mu0.clone();
        up[i] += h;
        down[i] -= h;
        let num = (loss(&ae, &up) - loss(&ae, &down)) / (2.0 * h as f64);
        check_grad(num, (mu0[i] - mu[i]) as f64, &format!("mu[{i}]"));
    }
}

/// The constrained step (KL on the batch plus λ times the pair loss on the
/// constrained samples, embedded in the same pass) against central differences of
/// that total loss, for every encoder weight and centroid coordinate.
#[test]
fn constrained_step_matches_finite_differences() {
    use crate::engine::cluster::constraints::{Constraint, Link, PairBatch, pairwise_loss};
    use crate::engine::nn::autoencoder::Autoencoder;
    use rand::SeedableRng;
    let (b, k, weight) = (4usize, 3usize, 0.8f32);
    let ae = Autoencoder::new(&[5, 4, 2], 12);
    // Three constrained samples, not in the batch.
    let px: Vec<f32> = (0..3 * 5)
        .map(|i| ((i * 5 % 11) as f32) / 5.0 - 1.0)
        .collect();
    let batch = PairBatch {
        rows: vec![10, 11, 12],
        pairs: vec![
            Constraint {
                i: 0,
                j: 1,
                link: Link::Must,
            },
            Constraint {
                i: 1,
                j: 2,
                link: Link::Cannot,
            },
        ],
    };
    let (x, mu0, p) = step_fixture(b);
    let loss = |ae: &Autoencoder, mu: &[f32]| -> f64 {
        let z = ae.encode(&x, b);
        let zp = ae.encode(&px, 3);
        let pl = pairwise_loss(&zp, mu, 2, 1.0, &batch.pairs, weight);
        batch_kl(&z, mu, &p, k) + pl.loss as f64
    };
    let mut after = ae.clone();
    let mut mu = mu0.clone();
    let mut opt = plain_sgd();
    let mut step = DecStep::new(&after.encoder, k, 1.0, b).with_pair_rows(&after.encoder, b, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let pairs = StepPairs {
        x: &px,
        batch: &batch,
        weight,
    };
    let l = step.step(
        &mut after.encoder,
        None,
        &mut mu,
        &mut opt,
        &x,
        &p,
        b,
        Some(pairs),
        &mut rng,
    );
    assert!(l.pairs.is_some_and(|v| v > 0.0));
    let h = 1e-3f32;
    for l in 0..ae.encoder.layers.len() {
        for i in 0..ae.encoder.layers[l].w.len() {
            let (mut up, mut down) = (ae.clone(), ae.clone());
            up.encoder.layers[l].w[i] += h;
            down.encoder.layers[l].w[i] -= h;
            let num = (loss(&up, &mu0) - loss(&down, &mu0)) / (2.0 * h as f64);
            let ana = (ae.encoder.layers[l].w[i] - after.encoder.layers[l].w[i]) as f64;
            check_grad(num, ana, &format!("encoder layer {l} w[{i}]"));
        }
    }
    for i in 0..mu0.len() {
        let (mut up, mut down) = (mu0.clone(), mu0.clone());
        up[i] += h;
        down[i] -= h;
        let num = (loss(&ae, &up) - loss(&ae, &down)) / (2.0 * h as f64);
        check_grad(num, (mu0[i] - mu[i]) as f64, &format!("mu[{i}]"));
    }
}

/// bf16 stays on through `with_decoder` and `with_pair_rows` (which rebuild the
/// workspaces), and a bf16 step moves the parameters as the f32 step does, to bf16
/// precision. On a CPU without AVX512-BF16 (or with `DECSCOPE_BF16=off`) the same
/// request runs the f32 step, bit for bit: that is checked instead.
#[test]
fn a_bf16_step_moves_like_the_f32_step() {
    let hardware = crate::engine::nn::bf16::available();
    use crate::engine::nn::autoencoder::{Activation, Dense, Mlp};
    use rand::{Rng, SeedableRng};
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let enc = Mlp {
        layers: vec![
            Dense::new(64, 48, Activation::Relu, &mut rng),
            Dense::new(48, 2, Activation::Linear, &mut rng),
        ],
    };
    let dec = Mlp {
        layers: vec![Dense::new(2, 64, Activation::Linear, &mut rng)],
    };
    let (b, k) = (40, 3);
    let s = DecStep::new(&enc, k, 1.0, b)
        .with_bf16(true)
        .with_decoder(&dec, b, 0.1)
        .with_pair_rows(&enc, b, 8);
    let idec_bf16 = s.idec.as_ref().is_some_and(|(ws, _, _)| ws.bf16());
    assert_eq!((s.ws.bf16(), idec_bf16), (hardware, hardware));
    let x: Vec<f32> = (0..b * 64).map(|_| rng.random_range(-1.0..1.0)).collect();
    let p: Vec<f32> = (0..b * k).map(|i| [0.6, 0.3, 0.1][i % 3]).collect();
    let moved = |bf16: bool| {
        let (mut e, mut mu) = (enc.clone(), vec![0.3, -0.2, -0.4, 0.1, 0.2, 0.5]);
        let mut step = DecStep::new(&e, k, 1.0, b).with_bf16(bf16);
        let mut r = ChaCha8Rng::seed_from_u64(1);
        step.step(
            &mut e,
            None,
            &mut mu,
            &mut plain_sgd(),
            &x,
            &p,
            b,
            None,
            &mut r,
        );
        let dw: Vec<f32> = e.layers[0]
            .w
            .iter()
            .zip(&enc.layers[0].w)
            .map(|(a, b)| a - b)
            .collect();
        (dw, mu)
    };
    let ((fw, fmu), (hw, hmu)) = (moved(false), moved(true));
    if !hardware {
        assert_eq!((&fw, &fmu), (&hw, &hmu), "the f32 fallback is the f32 step");
        return;
    }
    let d: f32 = fw
        .iter()
        .zip(&hw)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f32>()
        .sqrt();
    let n: f32 = fw.iter().map(|a| a * a).sum::<f32>().sqrt();
    assert!(
        n > 0.0 && d / n < 0.02,
        "first layer's move differs by {}",
        d / n
    );
    assert_ne!(fw, hw, "the bf16 products did not run");
    for (a, c) in fmu.iter().zip(&hmu) {
        assert!(
            (a - c).abs() < 0.02 * (1.0 + a.abs()),
            "centroid {a} vs {c}"
        );
    }
}
