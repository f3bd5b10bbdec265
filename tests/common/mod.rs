//! Helpers shared by the integration tests.

use decscope::data::{self, Dataset, LoadOptions};

/// The bundled MNIST test set, cut to its first `n` digits.
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
