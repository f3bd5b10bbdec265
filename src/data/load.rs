//! Loading a dataset from disk: the options every command shares, the reader chosen
//! by format, then the steps after reading (image shape, missing values, limit, imbalanced subsample,
//! finiteness, HOG, preprocessing), in that order.
//!
//! Why: the CLI, the app and the tests load data through this one function, so a file
//! reads the same everywhere.

use crate::data::Features;
use crate::data::TextInfo;
use crate::data::Tf;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::fitted::{self, Fitted, Input, MissingFill};
use super::{
    DataError, Dataset, Format, ImageShape, Missing, Preprocessing, csv, detect, hog, idx, images,
    missing, npy, preprocess, standins, svmlight, text,
};

/// Options for [`load`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// A separate label file (otherwise found next to the data by its usual name).
    pub labels: Option<PathBuf>,
    /// Preprocessing to apply; `Auto` picks one per format.
    pub preprocessing: Preprocessing,
    /// Load at most this many samples (the first ones).
    pub limit: Option<usize>,
    /// Label column of a CSV/TSV table.
    pub label_col: csv::LabelCol,
    /// Bring every image of an image folder to this (width, height).
    pub image_size: Option<(usize, usize)>,
    /// Override the image shape of a sample (height, width, channels).
    pub image_shape: Option<ImageShape>,
    /// Keep NaN/infinite values instead of refusing the file (for `inspect`, unless
    /// `missing` asks for a policy other than refusing).
    pub allow_non_finite: bool,
    /// What to do with missing values (empty or NA cells, NaN in arrays).
    pub missing: Missing,
    /// The paper's imbalanced subsample (labelled data only): each sample of class c
    /// is kept with probability r + (1 - r) c/(K-1) ([`standins::retain_linear`]).
    pub retain_min: Option<f64>,
    /// Which samples the imbalanced subsample keeps.
    pub retain_seed: u64,
    /// The CSV column with documents (text data; `None`: the widest string column).
    pub text_col: Option<String>,
    /// Keep this many most frequent stems of text (0: the paper's 2,000).
    pub vocab: usize,
    /// Text: raw or sublinear term frequency.
    pub tf: Tf,
    /// Features computed from images (`Hog`) instead of raw pixels.
    pub features: Features,
    /// A model's fitted preprocessing ([`Fitted`]): the data is read and transformed
    /// with it (its vocabulary, fill values, scaling statistics), not fitted anew, and
    /// refused when its columns, image shape or kind do not match.
    pub fitted: Option<Arc<Fitted>>,
}

/// Load a dataset from a file or folder, choosing the reader by extension and content.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let format = detect(path)?;
    let fitted_text = opts.fitted.as_ref().and_then(|f| f.text.clone());
    let topts = text::TextOptions {
        text_col: opts
            .text_col
            .clone()
            .or_else(|| fitted_text.as_ref().and_then(|t| t.column.clone())),
        vocab: if opts.vocab == 0 {
            text::DEFAULT_VOCAB
        } else {
            opts.vocab
        },
        tf: opts.tf,
        fitted: fitted_text.map(Arc::new),
    };
    let image_size = opts.image_size.or_else(|| {
        let s = opts.fitted.as_ref()?.input.image_shape?;
        Some((s.width, s.height))
    });
    if opts.text_col.is_some() && !matches!(format, Format::Csv) {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: "--text-col names a column of a CSV/TSV table; this is not one".into(),
        });
    }
    let mut is_text = matches!(format, Format::Text | Format::TextDir);
    let ds = match format {
        Format::IdxDir => idx::load_dir(path)?,
        Format::Idx => idx::load_file(path, opts.labels.as_deref())?,
        Format::Csv => {
            let bytes = read_maybe_gz(path)?;
            if topts.fitted.is_some() || text::csv_has_text(&bytes, opts.text_col.as_deref()) {
                is_text = true;
                text::load_csv(&bytes, path, &opts.label_col, &topts)?
            } else {
                csv::parse(&bytes, path, &opts.label_col)?
            }
        }
        Format::Text => text::load_lines(&read_maybe_gz(path)?, path, &topts)?,
        Format::TextDir => text::load_dir(path, &topts)?,
        Format::Hog => unreachable!("detect never returns Hog"),
        Format::Npy => npy::load_npy(path, opts.labels.as_deref())?,
        Format::Npz => npy::load_npz(path)?,
        Format::Svmlight => svmlight::load(path)?,
        Format::ImageDir => images::load(path, image_size)?,
    };
    after_read(ds, format, is_text, path, opts)
}

/// A dataset from an array in memory (a NumPy array handed over from Python), read by
/// the rules of a `.npy` file of that shape and dtype ([`npy::to_rows`]) and then
/// through the same steps after reading as a file, so an array gives exactly what the
/// same array saved with `np.save` gives. `name` stands for the file's name in notes
/// and errors; `labels` are the class names of the rows, if any.
pub fn from_array(
    raw: npy::Raw,
    labels: Option<Vec<String>>,
    name: &str,
    opts: &LoadOptions,
) -> Result<Dataset, DataError> {
    let path = Path::new(name);
    let dec = npy::to_rows(raw, path)?;
    let labels = labels.map(|l| (l, path.to_path_buf()));
    let mut ds = npy::build(path, dec, labels)?;
    ds.source = None;
    after_read(ds, Format::Npy, false, path, opts)
}

/// `--image-shape` when given (it must hold a sample's values), else a guess from the
/// width for rows that are not text.
fn set_image_shape(
    ds: &mut Dataset,
    shape: Option<ImageShape>,
    is_text: bool,
    path: &Path,
) -> Result<(), DataError> {
    match shape {
        Some(shape) if shape.len() != ds.d => Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "--image-shape {}x{}x{} has {} values but a sample has {}",
                shape.height,
                shape.width,
                shape.channels,
                shape.len(),
                ds.d
            ),
        }),
        Some(shape) => {
            ds.image_shape = Some(shape);
            Ok(())
        }
        None => {
            if ds.image_shape.is_none() && !is_text {
                ds.image_shape = ImageShape::guess(ds.d);
            }
            Ok(())
        }
    }
}

/// `--limit` (the first rows) and then `--retain-min` (the paper's imbalanced subsample),
/// each named in the dataset's name.
fn subsample(mut ds: Dataset, opts: &LoadOptions, path: &Path) -> Result<Dataset, DataError> {
    if let Some(limit) = opts.limit
        && limit < ds.n
    {
        let idx: Vec<usize> = (0..limit).collect();
        let name = ds.name.clone();
        ds = ds.subset(&idx);
        ds.name = format!("{name} (first {limit})");
    }
    if let Some(r) = opts.retain_min {
        let mut sub = standins::retain_linear(&ds, r, opts.retain_seed).map_err(|e| match e {
            DataError::Invalid { reason, .. } => DataError::Invalid {
                path: path.to_path_buf(),
                reason: format!("--retain-min {r}: {reason}"),
            },
            other => other,
        })?;
        sub.name = format!(
            "{} (imbalanced, retain-min {r}, seed {})",
            ds.name, opts.retain_seed
        );
        ds = sub;
    }
    Ok(ds)
}

/// The steps after a reader (image shape, missing values, limit, imbalanced subsample,
/// finiteness, HOG, preprocessing), shared by files and in-memory arrays. With a
/// model's [`Fitted`] preprocessing the input is checked against it first and every
/// step uses its values; otherwise the steps fit theirs, recorded in `ds.fitted`.
fn after_read(
    mut ds: Dataset,
    format: Format,
    is_text: bool,
    path: &Path,
    opts: &LoadOptions,
) -> Result<Dataset, DataError> {
    if is_text {
        ds.features_note = ds.text.as_ref().map(|t| text_note(t, ds.d));
    }
    let fitted = opts.fitted.as_deref();
    let model_shape = fitted
        .and_then(|f| f.input.image_shape)
        .filter(|s| ds.image_shape.is_none() && s.len() == ds.d);
    set_image_shape(&mut ds, opts.image_shape.or(model_shape), is_text, path)?;
    if let Some(f) = fitted {
        f.check_input(&ds, path)?;
    }
    let (mut ds, missing) = fill_missing(ds, opts, path)?;
    let input = Input {
        d: ds.d,
        columns: ds.column_names.clone(),
        image_shape: ds.image_shape,
    };
    ds = subsample(ds, opts, path)?;
    if !opts.allow_non_finite {
        ds.check_finite()?;
    }
    let features = fitted.map_or(opts.features, |f| f.features);
    let mut hog_max = None;
    if features == Features::Hog {
        if is_text {
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason: "--features hog is for images; text is read as tf-idf".into(),
            });
        }
        let (h, max) = hog::to_hog(ds, fitted.and_then(|f| f.hog_max))?;
        ds = h;
        hog_max = (ds.image_shape.is_some_and(|s| s.channels >= 3)).then_some(max);
    }
    if let Some(f) = fitted {
        return scale_as_fitted(ds, f, opts, path);
    }
    let format = ds.feature_format(format);
    let chosen = opts.preprocessing.resolve(&ds, Some(format));
    let scaling = preprocess::apply(&mut ds, chosen.preprocessing);
    ds.preprocessing_reason = Some(chosen.reason.clone());
    ds.fitted = Some(Arc::new(Fitted {
        format: fitted::FORMAT.into(),
        input,
        text: ds.text.as_ref().map(|t| (*t.model).clone()),
        missing,
        features,
        hog_max,
        scaling,
        reason: chosen.reason,
        asked: opts.preprocessing,
        d: ds.d,
    }));
    Ok(ds)
}

/// The features note of text data.
fn text_note(t: &TextInfo, d: usize) -> String {
    format!(
        "{}tf-idf of the {} most frequent of {} word stems (lower case, letters only, English stop words out, Snowball stemmer), rows of unit length",
        if t.model.tf == Tf::Sublinear {
            "sublinear "
        } else {
            ""
        },
        d,
        t.distinct_stems
    )
}

/// `--missing` (a model's policy and column means when it has them), and what was
/// done, with the column means that `mean` fills in.
fn fill_missing(
    ds: Dataset,
    opts: &LoadOptions,
    path: &Path,
) -> Result<(Dataset, MissingFill), DataError> {
    let fitted = opts.fitted.as_ref().map(|f| &f.missing);
    let policy = match fitted {
        Some(f) if opts.missing == Missing::Error => f.policy,
        _ => opts.missing,
    };
    if opts.allow_non_finite && policy == Missing::Error {
        return Ok((
            ds,
            MissingFill {
                policy,
                means: None,
            },
        ));
    }
    let means = match (policy, fitted) {
        (Missing::Mean, Some(f)) => Some(f.means.clone().ok_or_else(|| DataError::Invalid {
            path: path.to_path_buf(),
            reason: "--missing mean: the model was trained without it, so it has no column means to fill with; fill the gaps in the file or drop those rows (--missing drop-rows)".into(),
        })?),
        (Missing::Mean, None) => Some(missing::column_means(&ds, path)?),
        _ => None,
    };
    let ds = missing::apply_with(ds, policy, means.as_deref(), path)?;
    Ok((ds, MissingFill { policy, means }))
}

/// The model's scaling applied to `ds` unchanged; `--preprocess` may only name it.
fn scale_as_fitted(
    mut ds: Dataset,
    f: &Fitted,
    opts: &LoadOptions,
    path: &Path,
) -> Result<Dataset, DataError> {
    if opts.preprocessing != Preprocessing::Auto && opts.preprocessing != f.rule() {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "--preprocess {}: the model was trained on {} features and takes them so; leave --preprocess out",
                opts.preprocessing.name(),
                f.rule().name()
            ),
        });
    }
    if ds.d != f.d {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "{} features after reading, but the model takes {}; give data of the kind it was trained on",
                ds.d, f.d
            ),
        });
    }
    preprocess::apply_fitted(&mut ds, &f.scaling);
    ds.preprocessing_reason = Some(format!(
        "the model's, fitted on its training data: {}",
        f.reason
    ));
    ds.fitted = Some(Arc::new(f.clone()));
    Ok(ds)
}

/// The bytes of a file, gunzipped when it is gzip-compressed.
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    use std::io::Read;
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .map_err(|e| DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!("gzip data is damaged ({e}); download or copy the file again"),
        })?;
    Ok(out)
}

/// The dataset that ships with decscope: the 10,000-image MNIST test set.
pub fn default_dataset_path() -> PathBuf {
    let here = PathBuf::from("datasets/mnist-test");
    if here.exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist-test")
}
