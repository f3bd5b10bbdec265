//! Tests of the run configuration (`config`): presets, the schedule fitted to n,
//! validation messages and the JSON form.
//!
//! Apart from the code so that each reads in one file; they see its private items.

use super::*;

#[test]
fn presets_validate_and_round_trip_json() {
    for p in [Preset::Fast, Preset::Paper, Preset::Augmented] {
        let c = DecConfig::preset(p);
        c.validate(1000, Some(10)).unwrap();
        let back: DecConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
    let paper = DecConfig::preset(Preset::Paper);
    assert_eq!(paper.pretrain.layerwise_iters, 50_000);
    assert_eq!(paper.cluster.update_interval, 160);
}

#[test]
fn bad_values_name_their_field() {
    let e = DecConfig::default()
        .with_clusters(50)
        .validate(20, None)
        .unwrap_err();
    assert!(e.to_string().contains("k = 50"), "{e}");
    let mut c = DecConfig::default();
    c.cluster.tol = 1.5;
    assert!(
        c.validate(100, None)
            .unwrap_err()
            .to_string()
            .contains("cluster.tol")
    );
    let mut c = DecConfig::default();
    c.pretrain.optimizer = OptimizerConfig::Sgd {
        lr: -1.0,
        momentum: 0.9,
    };
    assert!(
        c.validate(100, None)
            .unwrap_err()
            .to_string()
            .contains("pretrain.optimizer")
    );
}

/// Tiny data is refused with a message about the data (n, k and the smallest n
/// that works), never about a field the user did not set. Before, n = 5 with the
/// fitted schedule said "config field `cluster.tol` = 1: a fraction in [0, 1)".
#[test]
fn tiny_data_is_refused_with_the_smallest_n_that_works() {
    for (n, k, min) in [(5, 2, 6), (2, 2, 6), (19, 10, 20), (5, 3, 6)] {
        let c = DecConfig::default().with_clusters(k).scaled_to(n);
        let msg = c.validate(n, None).unwrap_err().to_string();
        assert!(
            msg.contains(&format!("has {n} samples"))
                && msg.contains(&format!("k = {k}"))
                && msg.contains(&format!("at least {min}")),
            "{msg}"
        );
        assert!(!msg.contains("cluster.tol"), "{msg}");
    }
    // The smallest accepted sizes pass, fitted schedule included.
    for (n, k) in [(6, 2), (6, 3), (20, 10)] {
        let c = DecConfig::default().with_clusters(k).scaled_to(n);
        c.validate(n, None).unwrap();
    }
}

#[test]
fn fast_schedule_scales_with_n_and_keeps_mnist_10k() {
    // MNIST test set: exactly the schedule the fast preset always had.
    let c = DecConfig::default().scaled_to(10_000);
    assert_eq!(c.pretrain.batch_size, 256);
    assert_eq!(c.finetune_iters_for(10_000), 8_000);
    assert_eq!(c.cluster.update_interval, 140);
    assert_eq!(c.cluster.max_iter, 8_000);
    assert_eq!(c.cluster.tol, 0.001);
    // MNIST-70k: 20,000 pretraining steps and P every 140 batches, as before.
    let c = DecConfig::default().scaled_to(70_000);
    assert_eq!(c.finetune_iters_for(70_000), 20_000);
    assert_eq!(c.cluster.update_interval, 140);
    // 1,797 rows: 200 epochs of pretraining, a tol that needs 5 changed labels.
    let c = DecConfig::default().scaled_to(1797);
    assert_eq!(c.finetune_iters_for(1797), 1_600);
    assert_eq!(c.cluster.update_interval, 140);
    assert!((c.cluster.tol * 1797.0 - FAST_MIN_CHANGES as f32).abs() < 1e-3);
    let s = c.scaled.as_ref().unwrap();
    assert_eq!((s.n, s.steps_per_epoch), (1797, 8));
    c.validate(1797, Some(10)).unwrap();
    // Tiny data: the pretraining floor, P at least every 40 epochs.
    let c = DecConfig::default().scaled_to(300);
    assert_eq!(c.finetune_iters_for(300), FAST_PRETRAIN_MIN_STEPS);
    assert_eq!(c.cluster.update_interval, 80);
    assert_eq!(c.cluster.max_iter, 4_000);
    // The paper's preset is the paper's.
    let p = DecConfig::preset(Preset::Paper);
    assert_eq!(p.clone().scaled_to(1797), p);
}

#[test]
fn clusters_default_to_classes() {
    assert_eq!(DecConfig::default().clusters_for(Some(4)), 4);
    assert_eq!(DecConfig::default().clusters_for(None), 10);
    assert_eq!(
        DecConfig::default().with_clusters(3).clusters_for(Some(4)),
        3
    );
}

/// The f32 key is the one from before bf16 (so bundled and cached autoencoders still
/// match it); a bf16 run (where the CPU has it) never reuses an f32 autoencoder.
#[test]
fn the_pretraining_key_tells_bf16_from_f32() {
    let f32_cfg = DecConfig::preset(Preset::Augmented).scaled_to(10_000);
    let key = f32_cfg.pretraining_key(10_000);
    assert!(key.get("precision").is_none());
    assert_eq!(key["iters"], 16_000);
    let mut bf = f32_cfg.clone();
    bf.precision = Precision::Bf16;
    assert_eq!(
        bf.pretraining_key(10_000) != key,
        crate::engine::nn::bf16::available()
    );
    // A precision that is not asked for in the JSON reads as f32.
    let mut js = serde_json::to_value(&f32_cfg).unwrap();
    assert!(js.get("precision").is_none());
    js["precision"] = "bf16".into();
    let back: DecConfig = serde_json::from_value(js).unwrap();
    assert_eq!(back.precision, Precision::Bf16);
}

/// A cosine schedule's floor: 0 is left out of the JSON (the pretraining keys of
/// cosine runs from before the floor stay as they were) and read back as 0; a
/// floor outside [0, 1] is refused, naming the field.
#[test]
fn cosine_floor_in_json_and_validation() {
    let mut p = DecConfig::preset(Preset::Fast).pretrain;
    p.lr_schedule = LrSchedule::Cosine {
        warmup: 0.02,
        floor: 0.0,
    };
    let js = serde_json::to_value(&p).unwrap();
    assert_eq!(
        js["lr_schedule"],
        serde_json::json!({"kind": "cosine", "warmup": 0.02f32})
    );
    let back: PretrainConfig = serde_json::from_value(js).unwrap();
    assert_eq!(back, p);
    p.lr_schedule = LrSchedule::Cosine {
        warmup: 0.02,
        floor: 0.1,
    };
    let js = serde_json::to_value(&p).unwrap();
    assert_eq!(js["lr_schedule"]["floor"], serde_json::json!(0.1f32));
    assert!(p.validate().is_ok());
    p.lr_schedule = LrSchedule::Cosine {
        warmup: 0.02,
        floor: 1.5,
    };
    let err = p.validate().unwrap_err().to_string();
    assert!(err.contains("pretrain.lr_schedule.floor"), "{err}");
}

/// The learning rate over a phase, against values worked out by hand.
#[test]
fn learning_rate_schedules() {
    let mut p = DecConfig::preset(Preset::Fast).pretrain;
    p.optimizer = OptimizerConfig::adam(1e-3);
    p.lr_schedule = LrSchedule::Cosine {
        warmup: 0.1,
        floor: 0.0,
    };
    // W = 10 of T = 100: 1e-3·1/10 at t = 0, the peak at t = 9 and 10, half way
    // through the decay (t = 10 + 45) half the peak.
    let close = |a: f32, b: f32| assert!((a - b).abs() <= 1e-9 + 1e-5 * b, "{a} vs {b}");
    close(p.lr_at(0, 100), 1e-4);
    close(p.lr_at(9, 100), 1e-3);
    close(p.lr_at(10, 100), 1e-3);
    close(p.lr_at(55, 100), 5e-4);
    // The last step: 1e-3·½·(1 + cos(89π/90)) = 3.05e-7.
    close(p.lr_at(99, 100), 3.0458e-7);
    // A floor of 0.1: 1e-3·(0.1 + 0.9·½) = 5.5e-4 half way, and at the last step
    // 1e-3·(0.1 + 0.9·3.0458e-4) = 1.00274e-4; the warm-up is as before.
    p.lr_schedule = LrSchedule::Cosine {
        warmup: 0.1,
        floor: 0.1,
    };
    close(p.lr_at(0, 100), 1e-4);
    close(p.lr_at(55, 100), 5.5e-4);
    close(p.lr_at(99, 100), 1.00274e-4);
    p.lr_schedule = LrSchedule::Step;
    p.lr_step = 20;
    p.lr_gamma = 10.0;
    close(p.lr_at(19, 100), 1e-3);
    close(p.lr_at(45, 100), 1e-5);
    p.lr_step = 0;
    close(p.lr_at(99, 100), 1e-3);
}

/// Watching pretraining settle leaves the autoencoder as it was, so its key (the
/// bundled and cached autoencoders' match) is the key without checks, field for field
/// as before they existed; stopping on them trains another autoencoder.
#[test]
fn the_pretraining_key_ignores_watching_settle_but_not_stopping() {
    let off = DecConfig::preset(Preset::Augmented).scaled_to(10_000);
    let key = off.pretraining_key(10_000);
    assert!(key["pretrain"].get("settle").is_none());
    let mut watch = off.clone();
    watch.pretrain.settle = Settle::Watch;
    assert_eq!(watch.pretraining_key(10_000), key);
    let mut stop = off;
    stop.pretrain.settle = Settle::Stop;
    assert_eq!(stop.pretraining_key(10_000)["pretrain"]["settle"], "stop");
}

/// `start: auto` (the presets' and a config file's default) is k-means unless
/// self-correction is on for non-text input; an asked start is taken as asked; an old
/// config that names `kmeans` keeps it.
#[test]
fn the_auto_start_is_spectral_only_with_self_correction_on_non_text_input() {
    let cl = DecConfig::preset(Preset::Fast).cluster;
    assert_eq!(cl.start, Start::Auto);
    assert_eq!(Start::Auto.resolved(false, false), Start::Kmeans);
    assert_eq!(Start::Auto.resolved(true, false), Start::Spectral);
    assert_eq!(Start::Auto.resolved(true, true), Start::Kmeans);
    assert_eq!(Start::Kmeans.resolved(true, false), Start::Kmeans);
    assert_eq!(Start::Spectral.resolved(false, true), Start::Spectral);
    let old: Start = serde_json::from_str("\"kmeans\"").unwrap();
    assert_eq!(old, Start::Kmeans);
    assert_eq!(serde_json::to_string(&Start::Auto).unwrap(), "\"auto\"");
}
