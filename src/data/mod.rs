//! Datasets: an `n x d` matrix of `f32` features with optional labels, and the loaders
//! that read them from disk.
//!
//! Every loader returns the same [`Dataset`], so the engine, the CLI and the app never
//! care which file format the user had. Loaders never trust a header: sizes are checked
//! against the bytes actually present before anything is allocated from them, and every
//! error names the file, the place in it and what to do (see [`DataError`]).

pub mod csv;
pub mod hog;
pub mod idx;
pub mod images;
pub mod inspect;
pub mod labels;
pub mod npy;
pub mod preprocess;
pub mod standins;
pub mod svmlight;
pub mod text;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use preprocess::Preprocessing;

/// Shape of one sample when the features are an image, row-major, channels last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageShape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl std::fmt::Display for ImageShape {
    /// `HxW` for grey images, `HxWxC` otherwise (what [`ImageShape::parse`] reads).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.channels == 1 {
            write!(f, "{}x{}", self.height, self.width)
        } else {
            write!(f, "{}x{}x{}", self.height, self.width, self.channels)
        }
    }
}

impl ImageShape {
    /// Number of features one image of this shape has.
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Whether the shape holds no pixel at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Parse `HxW` (grey) or `HxWxC`, as `--image-shape` takes it.
    pub fn parse(s: &str) -> Result<ImageShape, String> {
        let bad = || format!("'{s}': expected HxW or HxWxC, e.g. 28x28");
        let p: Vec<usize> = s
            .trim()
            .split('x')
            .map(|v| v.trim().parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let shape = match p[..] {
            [height, width] => ImageShape {
                height,
                width,
                channels: 1,
            },
            [height, width, channels] => ImageShape {
                height,
                width,
                channels,
            },
            _ => return Err(bad()),
        };
        if shape.is_empty() {
            return Err(format!("'{s}': every size must be at least 1"));
        }
        Ok(shape)
    }

    /// Guess the shape of a sample from its width alone: square grey images
    /// (64 -> 8x8, 256 -> 16x16, 784 -> 28x28, 1024 -> 32x32) and 3072 -> 32x32x3.
    pub fn guess(d: usize) -> Option<ImageShape> {
        if d == 3072 {
            return Some(ImageShape {
                height: 32,
                width: 32,
                channels: 3,
            });
        }
        let s = (d as f64).sqrt().round() as usize;
        (s >= 8 && s * s == d).then_some(ImageShape {
            height: s,
            width: s,
            channels: 1,
        })
    }
}

/// A loaded dataset: features, optional labels and where they came from.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Short human name (file or folder name).
    pub name: String,
    /// Where it was read from, if from disk.
    pub source: Option<PathBuf>,
    /// Number of samples.
    pub n: usize,
    /// Number of features per sample.
    pub d: usize,
    /// Features, `n x d`, row-major.
    pub x: Vec<f32>,
    /// Ground-truth class of each sample, `0..n_classes`, if known.
    pub labels: Option<Vec<u32>>,
    /// Names of the classes, indexed by label, if known.
    pub class_names: Option<Vec<String>>,
    /// Image shape of one sample, if the features are pixels.
    pub image_shape: Option<ImageShape>,
    /// The preprocessing already applied to `x`.
    pub preprocessing: Preprocessing,
    /// Why that preprocessing: the rule of `auto` that fired, or "asked for".
    pub preprocessing_reason: Option<String>,
    /// How the labels were found, when a loader guessed (e.g. the last column of a
    /// headerless CSV).
    pub label_note: Option<String>,
    /// Element type in the file (u8, f32, ...).
    pub dtype: String,
    /// For text: the vocabulary of the tf-idf columns and a preview of each document.
    pub text: Option<text::TextInfo>,
    /// The pixels behind derived features (HOG), `n x image_shape.len()`, for
    /// galleries and thumbnails.
    pub display: Option<Vec<f32>>,
    /// How the features were derived, when not read as they are (tf-idf, HOG), or
    /// how an image array was read (channels first or last).
    pub features_note: Option<String>,
}

/// Summary of a dataset, as written into reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub name: String,
    pub source: Option<String>,
    pub n: usize,
    pub d: usize,
    pub n_classes: Option<usize>,
    pub image_shape: Option<ImageShape>,
    pub preprocessing: Preprocessing,
    /// Why that preprocessing (see [`Dataset::preprocessing_reason`]).
    #[serde(default)]
    pub preprocessing_reason: Option<String>,
    /// How the labels were found, when a loader guessed.
    #[serde(default)]
    pub label_note: Option<String>,
    /// Element type in the file.
    #[serde(default)]
    pub dtype: String,
    /// How the features were derived (tf-idf, HOG), if not read as they are.
    #[serde(default)]
    pub features: Option<String>,
}

impl Dataset {
    /// Build a dataset from parts, checking that the sizes agree.
    pub fn new(
        name: impl Into<String>,
        x: Vec<f32>,
        d: usize,
        labels: Option<Vec<u32>>,
    ) -> Result<Dataset, DataError> {
        let name = name.into();
        if d == 0 || x.is_empty() {
            return Err(DataError::Empty {
                path: PathBuf::from(&name),
            });
        }
        if !x.len().is_multiple_of(d) {
            return Err(DataError::Invalid {
                path: PathBuf::from(&name),
                reason: format!("{} values do not split into rows of {d}", x.len()),
            });
        }
        let n = x.len() / d;
        if let Some(l) = &labels
            && l.len() != n
        {
            return Err(DataError::LabelCount {
                path: PathBuf::from(&name),
                rows: n,
                labels: l.len(),
            });
        }
        Ok(Dataset {
            name,
            source: None,
            n,
            d,
            x,
            labels,
            class_names: None,
            image_shape: None,
            preprocessing: Preprocessing::None,
            preprocessing_reason: None,
            label_note: None,
            dtype: "f32".into(),
            text: None,
            display: None,
            features_note: None,
        })
    }

    /// Row `i` of the features.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// Number of distinct classes, when labels are known.
    pub fn n_classes(&self) -> Option<usize> {
        let l = self.labels.as_ref()?;
        let from_labels = l.iter().copied().max().map_or(0, |m| m as usize + 1);
        Some(
            self.class_names
                .as_ref()
                .map_or(from_labels, |c| c.len().max(from_labels)),
        )
    }

    /// Name of class `c` (its number when the file gave no names).
    pub fn class_name(&self, c: u32) -> String {
        self.class_names
            .as_ref()
            .and_then(|n| n.get(c as usize).cloned())
            .unwrap_or_else(|| c.to_string())
    }

    /// The summary written into reports.
    pub fn info(&self) -> DatasetInfo {
        DatasetInfo {
            name: self.name.clone(),
            source: self.source.as_ref().map(|p| p.display().to_string()),
            n: self.n,
            d: self.d,
            n_classes: self.n_classes(),
            image_shape: self.image_shape,
            preprocessing: self.preprocessing,
            preprocessing_reason: self.preprocessing_reason.clone(),
            label_note: self.label_note.clone(),
            dtype: self.dtype.clone(),
            features: self.features_note.clone(),
        }
    }

    /// The pixels of row `i` for pictures: the image behind derived features when
    /// there is one, else the row itself.
    pub fn display_row(&self, i: usize) -> &[f32] {
        match (&self.display, self.image_shape) {
            (Some(d), Some(s)) => &d[i * s.len()..(i + 1) * s.len()],
            _ => self.row(i),
        }
    }

    /// The format that decides preprocessing: text and HOG features are their own,
    /// whatever file they came from.
    pub fn feature_format(&self, file: Format) -> Format {
        if self.text.is_some() {
            Format::Text
        } else if self.display.is_some() {
            Format::Hog
        } else {
            file
        }
    }

    /// Values per picture (see [`Dataset::display_row`]).
    pub fn display_d(&self) -> usize {
        match (&self.display, self.image_shape) {
            (Some(_), Some(s)) => s.len(),
            _ => self.d,
        }
    }

    /// Rows `idx` as a new dataset (labels, shape and names kept).
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.d);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Dataset {
            name: format!("{} ({} of {})", self.name, idx.len(), self.n),
            source: self.source.clone(),
            n: idx.len(),
            d: self.d,
            x,
            labels: self
                .labels
                .as_ref()
                .map(|l| idx.iter().map(|&i| l[i]).collect()),
            class_names: self.class_names.clone(),
            image_shape: self.image_shape,
            preprocessing: self.preprocessing,
            preprocessing_reason: self.preprocessing_reason.clone(),
            label_note: self.label_note.clone(),
            dtype: self.dtype.clone(),
            text: self.text.as_ref().map(|t| text::TextInfo {
                vocabulary: t.vocabulary.clone(),
                previews: idx.iter().map(|&i| t.previews[i].clone()).collect(),
                tokens: t.tokens,
                distinct_stems: t.distinct_stems,
                top_terms: t.top_terms.clone(),
            }),
            display: self.display.as_ref().map(|_| {
                let mut v = Vec::with_capacity(idx.len() * self.display_d());
                for &i in idx {
                    v.extend_from_slice(self.display_row(i));
                }
                v
            }),
            features_note: self.features_note.clone(),
        }
    }

    /// A cheap fingerprint of the features and labels (FNV-1a over the raw bits),
    /// used to key caches of models pretrained on this data.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |v: u32| {
            for b in v.to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(self.n as u32);
        eat(self.d as u32);
        for v in &self.x {
            eat(v.to_bits());
        }
        if let Some(l) = &self.labels {
            for &v in l {
                eat(v);
            }
        }
        h
    }

    /// Check that every feature is finite; the error names the first bad cell.
    pub fn check_finite(&self) -> Result<(), DataError> {
        if let Some(pos) = self.x.iter().position(|v| !v.is_finite()) {
            return Err(DataError::NonFinite {
                path: self
                    .source
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(&self.name)),
                row: pos / self.d,
                col: pos % self.d,
            });
        }
        Ok(())
    }
}

/// What went wrong reading a dataset. Each message says which file, where in it, and
/// what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}. Check that the path exists and is readable.")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty or holds no samples. Choose a file with data in it.")]
    Empty { path: PathBuf },
    #[error(
        "{path}: byte 0: not an IDX file (magic bytes {found:02x?}; expected 00 00 <type> <dims>). \
         Use an MNIST-style .idx/-ubyte file, optionally gzip-compressed."
    )]
    BadMagic { path: PathBuf, found: [u8; 4] },
    #[error(
        "{path}: byte {offset}: file ends early: the header declares {expected} bytes of data but only {found} are there. \
         The file is truncated; download or copy it again."
    )]
    Truncated {
        path: PathBuf,
        offset: u64,
        expected: u64,
        found: u64,
    },
    #[error("{path}: unsupported {what}. {hint}")]
    Unsupported {
        path: PathBuf,
        what: String,
        hint: String,
    },
    #[error(
        "{path}: {labels} labels for {rows} samples. Give the label file that belongs to this data."
    )]
    LabelCount {
        path: PathBuf,
        rows: usize,
        labels: usize,
    },
    #[error(
        "{path}: row {row}, column {col}: value is NaN or infinite. Clean the data (remove or impute such values) first."
    )]
    NonFinite {
        path: PathBuf,
        row: usize,
        col: usize,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "{path}: no dataset found: expected IDX (MNIST-style), CSV/TSV, .npy/.npz, svmlight, or a folder of IDX files or images."
    )]
    NotFound { path: PathBuf },
}

impl DataError {
    /// Attach a path to an I/O error.
    pub fn io(path: &Path, source: std::io::Error) -> DataError {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The last component of `path`, as a dataset name.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

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
    /// Keep NaN/infinite values instead of refusing the file (for `inspect`).
    pub allow_non_finite: bool,
    /// The paper's imbalanced subsample (labelled data only): class c keeps
    /// 1 - (1 - r) c/(K-1) of its samples ([`standins::retain_linear`]).
    pub retain_min: Option<f64>,
    /// Which samples the imbalanced subsample keeps.
    pub retain_seed: u64,
    /// The CSV column with documents (text data; `None`: the widest string column).
    pub text_col: Option<String>,
    /// Keep this many most frequent stems of text (0: the paper's 2,000).
    pub vocab: usize,
    /// Features computed from images (`Hog`) instead of raw pixels.
    pub features: Features,
}

/// What the autoencoder sees of image data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Features {
    /// The values as read (pixels for images).
    #[default]
    Raw,
    /// HOG over 8x8-pixel cells, plus an 8x8 colour map for colour images ([`hog`]).
    Hog,
}

/// The file formats decscope reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Idx,
    IdxDir,
    Csv,
    Npy,
    Npz,
    Svmlight,
    ImageDir,
    /// A `.txt` file, one document per line.
    Text,
    /// A folder of `.txt` files (one subfolder per class).
    TextDir,
    /// Features computed from images (`--features hog`), not a file format.
    Hog,
}

/// Decide the format of `path` by extension, then by content.
pub fn detect(path: &Path) -> Result<Format, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if meta.is_dir() {
        let has_idx = std::fs::read_dir(path)
            .map_err(|e| DataError::io(path, e))?
            .filter_map(|e| e.ok())
            .any(|e| {
                e.file_name().to_str().is_some_and(|n| {
                    n.contains("images") && (n.contains("idx") || n.contains("ubyte"))
                })
            });
        return if has_idx {
            Ok(Format::IdxDir)
        } else if images::looks_like(path) {
            Ok(Format::ImageDir)
        } else if text::looks_like(path) {
            Ok(Format::TextDir)
        } else {
            Err(DataError::NotFound {
                path: path.to_path_buf(),
            })
        };
    }
    let name = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    // `data.csv.gz`: the format of what is inside (gzip is undone on reading).
    let inner = name.strip_suffix(".gz").unwrap_or(&name);
    let ext = inner.rsplit('.').next().unwrap_or_default();
    match ext {
        "csv" | "tsv" => return Ok(Format::Csv),
        "txt" => return Ok(Format::Text),
        "npy" => return Ok(Format::Npy),
        "npz" => return Ok(Format::Npz),
        "svm" | "svmlight" | "libsvm" => return Ok(Format::Svmlight),
        "idx" => return Ok(Format::Idx),
        _ => {}
    }
    if name.contains("ubyte") || name.contains("idx") {
        return Ok(Format::Idx);
    }
    // By content.
    let mut head = [0u8; 512];
    let got = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        f.read(&mut head).map_err(|e| DataError::io(path, e))?
    };
    let head = &head[..got];
    if got == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    if head.starts_with(b"\x93NUMPY") {
        return Ok(Format::Npy);
    }
    if head.starts_with(b"PK") {
        return Ok(Format::Npz);
    }
    if head.starts_with(&[0x1f, 0x8b]) || (got >= 4 && head[0] == 0 && head[1] == 0) {
        return Ok(Format::Idx);
    }
    match std::str::from_utf8(head) {
        Ok(t) if svmlight::looks_like(t) => Ok(Format::Svmlight),
        Ok(_) => Ok(Format::Csv),
        Err(e) if e.valid_up_to() > 400 => Ok(Format::Csv),
        Err(_) => Err(DataError::Unsupported {
            path: path.to_path_buf(),
            what: "file format".into(),
            hint: "decscope reads IDX (MNIST), CSV/TSV, .npy/.npz, svmlight text and folders of PNG/JPEG images; give the file one of those extensions.".into(),
        }),
    }
}

/// Load a dataset from a file or folder, choosing the reader by extension and content.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let format = detect(path)?;
    let topts = text::TextOptions {
        text_col: opts.text_col.clone(),
        vocab: if opts.vocab == 0 {
            text::DEFAULT_VOCAB
        } else {
            opts.vocab
        },
    };
    if opts.text_col.is_some() && !matches!(format, Format::Csv) {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: "--text-col names a column of a CSV/TSV table; this is not one".into(),
        });
    }
    let mut is_text = matches!(format, Format::Text | Format::TextDir);
    let mut ds = match format {
        Format::IdxDir => idx::load_dir(path)?,
        Format::Idx => idx::load_file(path, opts.labels.as_deref())?,
        Format::Csv => {
            let bytes = read_maybe_gz(path)?;
            if text::csv_has_text(&bytes, opts.text_col.as_deref()) {
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
        Format::ImageDir => images::load(path, opts.image_size)?,
    };
    if is_text {
        ds.features_note = ds.text.as_ref().map(|t| {
            format!(
                "tf-idf of the {} most frequent of {} word stems (lower case, letters only, English stop words out, Snowball stemmer), rows of unit length",
                ds.d, t.distinct_stems
            )
        });
    }
    if let Some(shape) = opts.image_shape {
        if shape.len() != ds.d {
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "--image-shape {}x{}x{} has {} values but a sample has {}",
                    shape.height,
                    shape.width,
                    shape.channels,
                    shape.len(),
                    ds.d
                ),
            });
        }
        ds.image_shape = Some(shape);
    } else if ds.image_shape.is_none() && !is_text {
        ds.image_shape = ImageShape::guess(ds.d);
    }
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
    if !opts.allow_non_finite {
        ds.check_finite()?;
    }
    if opts.features == Features::Hog {
        if is_text {
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                reason: "--features hog is for images; text is read as tf-idf".into(),
            });
        }
        ds = hog::to_hog(ds)?;
    }
    let format = ds.feature_format(format);
    let chosen = opts.preprocessing.resolve(&ds, Some(format));
    preprocess::apply(&mut ds, chosen.preprocessing);
    ds.preprocessing_reason = Some(chosen.reason);
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
