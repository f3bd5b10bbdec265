//! Helpers shared by the integration tests.

use decscope::data::{self, Dataset, LoadOptions};

/// The bundled MNIST test set, cut to its first `n` digits.
#[allow(dead_code)]
pub fn mnist(n: usize) -> Dataset {
    data::load(
        &data::default_dataset_path(),
        &LoadOptions {
            limit: Some(n),
            ..Default::default()
        },
    )
    .unwrap()
}

/// A wine-like table, one CSV line per row without a header: three groups, 13 columns
/// on scales from 0.36 to 750, the group's name (`class0`...) last. (Not every test
/// crate that shares this module uses it.)
#[allow(dead_code)]
pub fn wine_like(n: usize) -> Vec<String> {
    let scales = [
        13.0, 2.0, 2.4, 19.0, 100.0, 2.3, 2.0, 0.36, 1.6, 5.0, 0.96, 2.6, 750.0,
    ];
    (0..n)
        .map(|i| {
            let g = i % 3;
            let cells: Vec<String> = scales
                .iter()
                .enumerate()
                .map(|(j, s)| {
                    let wiggle = ((i * 31 + j * 17) % 23) as f32 / 23.0 - 0.5;
                    let shift = [0.0f32, 0.6, -0.6][g] * if j % 2 == 0 { 1.0 } else { -1.0 };
                    format!("{:.4}", s * (1.0 + shift + 0.3 * wiggle))
                })
                .chain([format!("class{g}")])
                .collect();
            cells.join(",")
        })
        .collect()
}
