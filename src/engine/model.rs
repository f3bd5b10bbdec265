//! A trained DEC model (autoencoder + centroids) and its files on disk: weights in
//! safetensors (written and read with candle), configuration in JSON.
//!
//! Layout of a model folder: `model.safetensors` (tensors `encoder.L.weight`,
//! `encoder.L.bias`, `decoder.L.weight`, `decoder.L.bias`, each weight stored
//! `n_in x n_out`, and `centroids` `k x e` when clustering has run),
//! `model.json` (dims, activations, alpha, the run configuration, its settings and the
//! dataset summary) and `preprocess.json` (the preprocessing fitted on the training
//! data, [`crate::data::fitted`], applied unchanged to new data).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::fitted::{self, Fitted};
use crate::data::{DatasetInfo, LoadOptions};
use crate::engine::cluster::assign::{hard_labels, soft_assignment};
use crate::engine::config::DecConfig;
use crate::engine::curation::edit::ClusterState;
use crate::engine::curation::record::Curation;
use crate::engine::nn::autoencoder::{Activation, Autoencoder, Dense, Mlp};
use crate::engine::settings::Settings;

/// Where and with what to save an autoencoder when pretraining ends (`train
/// --save-pretrained`, the app's cache): the folder, the configuration, the data's
/// summary and its fitted preprocessing.
pub type SaveTarget = (PathBuf, DecConfig, DatasetInfo, Option<Arc<Fitted>>);

/// Autoencoder, centroids and the settings they were trained with.
#[derive(Clone, Debug, PartialEq)]
pub struct DecModel {
    pub ae: Autoencoder,
    /// `k x e`; empty for a bare pretrained autoencoder.
    pub centroids: Vec<f32>,
    pub alpha: f32,
    pub config: DecConfig,
    pub dataset: DatasetInfo,
    /// Names and hand edits of the clusters, and the DEC steps run so far.
    pub curation: Curation,
    /// The preprocessing fitted on the training data (`preprocess.json`), applied
    /// unchanged to new data; `None` for a folder saved before decscope kept it.
    pub preprocess: Option<Arc<Fitted>>,
    /// The settings the run was started with (preset, seed and every override), as
    /// `train` or the Python estimator stated them; `None` when not recorded.
    pub settings: Option<Settings>,
}

#[derive(Serialize, Deserialize)]
struct ModelMeta {
    format: String,
    dims: Vec<usize>,
    encoder_activations: Vec<Activation>,
    decoder_activations: Vec<Activation>,
    n_clusters: usize,
    alpha: f32,
    config: DecConfig,
    dataset: DatasetInfo,
    #[serde(default, skip_serializing_if = "is_default")]
    curation: Curation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settings: Option<Settings>,
}

fn is_default(c: &Curation) -> bool {
    *c == Curation::default()
}

/// What went wrong saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: cannot read or write: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: {reason}. Point --model/--init-from at a folder written by `decscope train --save`."
    )]
    Invalid { path: PathBuf, reason: String },
    #[error("{0}")]
    Preprocess(#[from] crate::data::DataError),
    #[error(
        "{path}: saved without its preprocessing (no {file}: written by a decscope from before models kept it), so new data would be scaled by its own statistics and land in other clusters; train it again with `decscope train --save`",
        file = fitted::FILE
    )]
    NoPreprocess { path: PathBuf },
    #[error(
        "{path}: the model expects {want} features per sample but the data has {got}; use data of the kind it was trained on"
    )]
    Shape {
        path: PathBuf,
        want: usize,
        got: usize,
    },
}

fn invalid(path: &Path, reason: impl ToString) -> ModelError {
    ModelError::Invalid {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The tensors of a model's safetensors file, read by name and checked for shape.
struct Tensors<'a> {
    map: HashMap<String, Tensor>,
    path: &'a Path,
}

impl Tensors<'_> {
    /// Tensor `name` as `rows x cols` f32 values; the error names the tensor and shapes.
    fn get(&self, name: &str, rows: usize, cols: usize) -> Result<Vec<f32>, ModelError> {
        let t = self
            .map
            .get(name)
            .ok_or_else(|| invalid(self.path, format!("tensor `{name}` is missing")))?;
        if t.dims() != [rows, cols] {
            return Err(invalid(
                self.path,
                format!(
                    "tensor `{name}` has shape {:?}, expected [{rows}, {cols}]",
                    t.dims()
                ),
            ));
        }
        t.to_dtype(candle_core::DType::F32)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| invalid(self.path, e))
    }

    /// Layer `l` of the encoder or decoder (`part`), `n_in -> n_out`.
    fn dense(
        &self,
        part: &str,
        l: usize,
        (n_in, n_out): (usize, usize),
        act: Activation,
    ) -> Result<Dense, ModelError> {
        Ok(Dense {
            n_in,
            n_out,
            w: self.get(&format!("{part}.{l}.weight"), n_in, n_out)?,
            b: self.get(&format!("{part}.{l}.bias"), 1, n_out)?,
            act,
        })
    }

    /// The encoder through `dims` and the decoder back (checked by the caller:
    /// `dims.len() - 1` activations each).
    fn autoencoder(&self, meta: &ModelMeta) -> Result<Autoencoder, ModelError> {
        let dims = &meta.dims;
        let nl = dims.len() - 1;
        let mut enc = Vec::new();
        let mut dec = Vec::new();
        for l in 0..nl {
            let io = (dims[l], dims[l + 1]);
            enc.push(self.dense("encoder", l, io, meta.encoder_activations[l])?);
            let io = (dims[nl - l], dims[nl - l - 1]);
            dec.push(self.dense("decoder", l, io, meta.decoder_activations[l])?);
        }
        Ok(Autoencoder {
            encoder: Mlp { layers: enc },
            decoder: Mlp { layers: dec },
        })
    }
}

impl DecModel {
    /// A bare autoencoder (no centroids yet), e.g. right after pretraining, with the
    /// configuration and data it was trained on.
    pub fn autoencoder_only(
        ae: Autoencoder,
        config: &DecConfig,
        dataset: &DatasetInfo,
        preprocess: Option<Arc<Fitted>>,
    ) -> DecModel {
        DecModel {
            ae,
            centroids: Vec::new(),
            alpha: config.cluster.alpha,
            config: config.clone(),
            dataset: dataset.clone(),
            curation: Curation::default(),
            preprocess,
            settings: None,
        }
    }

    /// Load options that read new data as this model's training data was read: its
    /// fitted preprocessing over `opts`. A model saved without it is refused
    /// ([`ModelError::NoPreprocess`], naming `dir`) rather than fed data scaled by the
    /// data's own statistics.
    pub fn load_options(&self, opts: &LoadOptions, dir: &Path) -> Result<LoadOptions, ModelError> {
        let fitted = self
            .preprocess
            .clone()
            .ok_or_else(|| ModelError::NoPreprocess {
                path: dir.to_path_buf(),
            })?;
        Ok(LoadOptions {
            fitted: Some(fitted),
            ..opts.clone()
        })
    }

    /// Number of clusters (0 for a bare autoencoder).
    pub fn n_clusters(&self) -> usize {
        self.centroids.len() / self.ae.encoder.n_out().max(1)
    }

    /// Cluster and confidence (max q) of each row of `x` (`n x d`), and its z.
    pub fn predict(&self, x: &[f32], n: usize) -> (Vec<u32>, Vec<f32>, Vec<f32>) {
        let (l, c, z, _) = self.assign(x, n);
        (l, c, z)
    }

    /// Cluster, confidence, z and the soft assignment q (`n x k`) of each row of `x`.
    /// A bare autoencoder (no clusters) gives z only: the other three are empty.
    pub fn assign(&self, x: &[f32], n: usize) -> (Vec<u32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let z = self.ae.encode(x, n);
        if self.n_clusters() == 0 {
            return (Vec::new(), Vec::new(), z, Vec::new());
        }
        let q = self.soft_assignment(&z);
        let (l, c) = hard_labels(&q, self.n_clusters());
        (l, c, z, q)
    }

    /// The model's clusters as an edit sees them: its centroids, named when it was
    /// saved with a name per cluster.
    pub fn cluster_state(&self) -> ClusterState {
        ClusterState::with_names(
            self.centroids.clone(),
            self.ae.encoder.n_out(),
            &self.curation.names,
        )
    }

    /// DEC's soft assignment q (eq. 1) of embedded rows `z` (`n x e`) to the centroids.
    pub fn soft_assignment(&self, z: &[f32]) -> Vec<f32> {
        soft_assignment(z, &self.centroids, self.ae.encoder.n_out(), self.alpha)
    }

    /// Write `model.safetensors` and `model.json` into `dir` (created if needed).
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let st = dir.join("model.safetensors");
        let mut map: HashMap<String, Tensor> = HashMap::new();
        let dev = Device::Cpu;
        let put =
            |map: &mut HashMap<String, Tensor>, name: String, v: &[f32], shape: (usize, usize)| {
                Tensor::from_slice(v, shape, &dev).map(|t| {
                    map.insert(name, t);
                })
            };
        for (prefix, mlp) in [("encoder", &self.ae.encoder), ("decoder", &self.ae.decoder)] {
            for (l, layer) in mlp.layers.iter().enumerate() {
                put(
                    &mut map,
                    format!("{prefix}.{l}.weight"),
                    &layer.w,
                    (layer.n_in, layer.n_out),
                )
                .map_err(|e| invalid(&st, e))?;
                put(
                    &mut map,
                    format!("{prefix}.{l}.bias"),
                    &layer.b,
                    (1, layer.n_out),
                )
                .map_err(|e| invalid(&st, e))?;
            }
        }
        let k = self.n_clusters();
        if k > 0 {
            put(
                &mut map,
                "centroids".into(),
                &self.centroids,
                (k, self.ae.encoder.n_out()),
            )
            .map_err(|e| invalid(&st, e))?;
        }
        candle_core::safetensors::save(&map, &st).map_err(|e| invalid(&st, e))?;
        let meta = ModelMeta {
            format: "decscope-model-1".into(),
            dims: self.ae.dims(),
            encoder_activations: self.ae.encoder.layers.iter().map(|l| l.act).collect(),
            decoder_activations: self.ae.decoder.layers.iter().map(|l| l.act).collect(),
            n_clusters: k,
            alpha: self.alpha,
            config: self.config.clone(),
            dataset: self.dataset.clone(),
            curation: self.curation.clone(),
            settings: self.settings.clone(),
        };
        match &self.preprocess {
            Some(f) => f.save(dir)?,
            None => remove_stale(&dir.join(fitted::FILE))?,
        }
        let js = dir.join("model.json");
        let text = serde_json::to_string_pretty(&meta).map_err(|e| invalid(&js, e))?;
        std::fs::write(&js, text).map_err(|e| ModelError::Io {
            path: js,
            source: e,
        })
    }

    /// Read a model folder written by [`DecModel::save`].
    pub fn load(dir: &Path) -> Result<DecModel, ModelError> {
        let js = dir.join("model.json");
        let text = std::fs::read_to_string(&js).map_err(|e| ModelError::Io {
            path: js.clone(),
            source: e,
        })?;
        let meta: ModelMeta = serde_json::from_str(&text)
            .map_err(|e| invalid(&js, format!("line {}: {e}", e.line())))?;
        let st = dir.join("model.safetensors");
        if !st.exists() {
            return Err(ModelError::Io {
                path: st,
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let tensors = Tensors {
            map: candle_core::safetensors::load(&st, &Device::Cpu).map_err(|e| invalid(&st, e))?,
            path: &st,
        };
        let dims = &meta.dims;
        let nl = dims.len().saturating_sub(1);
        if nl == 0 || meta.encoder_activations.len() != nl || meta.decoder_activations.len() != nl {
            return Err(invalid(
                &js,
                "dims and activations do not describe an autoencoder",
            ));
        }
        let ae = tensors.autoencoder(&meta)?;
        let centroids = if meta.n_clusters > 0 {
            tensors.get("centroids", meta.n_clusters, dims[nl])?
        } else {
            Vec::new()
        };
        let names = meta.curation.names.len();
        if names != 0 && names != meta.n_clusters {
            return Err(invalid(
                &js,
                format!(
                    "{names} cluster names for {} clusters; remove `curation.names` or give one per cluster",
                    meta.n_clusters
                ),
            ));
        }
        let preprocess = Fitted::load(dir)?;
        if let Some(f) = &preprocess
            && f.d != dims[0]
        {
            return Err(invalid(
                &dir.join(fitted::FILE),
                format!(
                    "the preprocessing gives {} features but the autoencoder takes {}",
                    f.d, dims[0]
                ),
            ));
        }
        Ok(DecModel {
            ae,
            centroids,
            alpha: meta.alpha,
            config: meta.config,
            dataset: meta.dataset,
            curation: meta.curation,
            preprocess: preprocess.map(Arc::new),
            settings: meta.settings,
        })
    }

    /// Check that the model takes `d` features.
    pub fn check_input(&self, d: usize, dir: &Path) -> Result<(), ModelError> {
        let want = self.ae.encoder.n_in();
        if want != d {
            return Err(ModelError::Shape {
                path: dir.to_path_buf(),
                want,
                got: d,
            });
        }
        Ok(())
    }
}

/// Remove a `preprocess.json` left from an earlier model saved into the same folder,
/// so a model without one is never read with another's.
fn remove_stale(path: &Path) -> Result<(), ModelError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ModelError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use crate::engine::curation::edit::Edit;
    use crate::engine::curation::record::EditMark;

    #[test]
    fn save_load_round_trip() {
        let ae = Autoencoder::new(&[6, 4, 2], 5);
        let ds = Dataset::new("t", vec![0.0; 12], 6, None).unwrap();
        let m = DecModel {
            ae,
            centroids: vec![0.5, -0.5, 1.0, 2.0, 3.0, 4.0],
            alpha: 1.0,
            config: DecConfig::default(),
            dataset: ds.info(),
            curation: Curation {
                names: vec![Some("left".into()), None, None],
                edits: vec![EditMark {
                    step: 7,
                    edit: Edit::Merge { a: 0, b: 3 },
                }],
                dec_steps: 7,
            },
            preprocess: None,
            settings: Some(crate::engine::settings::Settings {
                seed: 3,
                batch_size: Some(64),
                ..Default::default()
            }),
        };
        let dir = std::env::temp_dir().join(format!("decscope-model-test-{}", std::process::id()));
        m.save(&dir).unwrap();
        let back = DecModel::load(&dir).unwrap();
        assert_eq!(back, m);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn missing_folder_is_an_error_not_a_panic() {
        let e = DecModel::load(Path::new("/nonexistent/model")).unwrap_err();
        assert!(e.to_string().contains("model.json"), "{e}");
    }
}
