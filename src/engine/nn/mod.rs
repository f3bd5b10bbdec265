//! The network and its arithmetic: the stacked autoencoder, its optimizers and the
//! products under them.
//!
//! Holds, from the bottom up: [`linalg`] (GEMM on our buffers), [`bf16`] (the same
//! products with bf16 operands on AVX512-BF16 or AMX), [`plan`] (which use of the threads each
//! layer's products get, timed on this machine), [`optim`] (SGD with momentum, Adam),
//! [`autoencoder`] (layers with hand-written backward passes) and [`augment`] (DEC-DA's
//! randomly shifted and rotated batches). May use: nothing else of the engine.

pub mod augment;
pub mod autoencoder;
pub mod bf16;
pub mod linalg;
pub mod optim;
pub mod plan;
