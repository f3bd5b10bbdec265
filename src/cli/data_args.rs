//! The data arguments that every command shares (`--data`, `--labels`,
//! `--preprocess`, ...), and how they become the library's [`LoadOptions`].

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use decscope::data::{self, LoadOptions, Preprocessing};
use decscope::engine::model::DecModel;

/// How to read a file: labels, preprocessing and image shape. Shared by every command
/// that loads data (`train`, `predict`, `project` through [`DataArgs`], and `inspect`).
#[derive(Args, Debug, Clone, Default)]
pub struct LoadArgs {
    /// Label file, when not found next to the data.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Feature preprocessing (auto: chosen from the content; `inspect` says which and why).
    #[arg(long, value_enum, default_value_t = Preprocessing::Auto)]
    pub preprocess: Preprocessing,
    /// CSV/TSV label column: a name, a 0-based index, first, last, none or auto
    /// (a column called label/class/target/y, else a likely first or last column).
    #[arg(long, default_value = "auto")]
    pub label_col: String,
    /// Shape of one sample as HxW or HxWxC (for galleries), when it cannot be guessed.
    #[arg(long, value_parser = parse_shape)]
    pub image_shape: Option<decscope::data::ImageShape>,
    /// Keep an imbalanced subsample of labelled data, as in the paper's section 5.4:
    /// each sample of class c is kept with probability R + (1 - R) c/(K-1), so about R
    /// of class 0 stays and all of the last class (seeded by --retain-seed).
    /// (`decscope sweep` takes a list, e.g. 0.1,0.3,0.5,0.7, and prints the paper's table.)
    #[arg(long, value_name = "R", value_delimiter = ',')]
    pub retain_min: Vec<f64>,
    /// Which samples --retain-min keeps.
    #[arg(long, default_value_t = 0)]
    pub retain_seed: u64,
    /// Text: the CSV/TSV column with the documents (default: the widest string column).
    #[arg(long)]
    pub text_col: Option<String>,
    /// Text: keep this many most frequent word stems (the paper: 2000).
    #[arg(long, default_value_t = decscope::data::text::DEFAULT_VOCAB)]
    pub vocab: usize,
    /// Text: term frequency as the raw count, or sublinear (1 + ln count).
    #[arg(long, value_enum, default_value_t = decscope::data::Tf::Raw)]
    pub tf: decscope::data::Tf,
    /// Missing values (empty or NA cells, NaN in arrays): refuse the file (error), drop
    /// the rows that have them (drop-rows), or fill each with its column's mean (mean).
    #[arg(long, value_enum, default_value_t = decscope::data::Missing::Error)]
    pub missing: decscope::data::Missing,
    /// Images: raw pixels, or HOG over 8x8-pixel cells (+ an 8x8 colour map for colour
    /// images), as the paper did for STL-10.
    #[arg(long, value_enum, default_value_t = decscope::data::Features::Raw)]
    pub features: decscope::data::Features,
}

impl LoadArgs {
    /// The library's load options for these arguments.
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            labels: self.labels.clone(),
            preprocessing: self.preprocess,
            label_col: self.label_col.parse().unwrap_or_default(),
            image_shape: self.image_shape,
            retain_min: self.retain_min.first().copied(),
            retain_seed: self.retain_seed,
            text_col: self.text_col.clone(),
            vocab: self.vocab,
            features: self.features,
            missing: self.missing,
            tf: self.tf,
            ..Default::default()
        }
    }
}

/// `--data` and how to read it.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data file or folder (IDX/MNIST files or a folder of them, CSV/TSV, npy/npz,
    /// svmlight, a folder of images).
    #[arg(long, default_value = "datasets/mnist-test")]
    pub data: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Use only the first N samples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Bring every image of an image folder to WxH pixels.
    #[arg(long, value_parser = parse_size)]
    pub image_size: Option<(usize, usize)>,
}

impl DataArgs {
    /// The library's load options for these arguments.
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            limit: self.limit,
            image_size: self.image_size,
            ..self.load.options()
        }
    }

    /// Load the data as the arguments say.
    pub fn load(&self) -> Result<data::Dataset> {
        self.load_with(self.options())
    }

    /// Load the data for the model saved at `dir`: read and transformed with the
    /// model's fitted preprocessing, never with statistics of this data's own.
    pub fn load_for(&self, model: &DecModel, dir: &Path) -> Result<data::Dataset> {
        self.load_with(model.load_options(&self.options(), dir)?)
    }

    fn load_with(&self, opts: LoadOptions) -> Result<data::Dataset> {
        if self.load.retain_min.len() > 1 {
            anyhow::bail!(
                "--retain-min {:?}: one rate per run; `decscope sweep --retain-min 0.1,0.3,0.5,0.7` runs several and prints the table",
                self.load.retain_min
            );
        }
        Ok(data::load(&self.data, &opts)?)
    }
}

fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("'{s}': expected WxH, e.g. 28x28"))?;
    let w = w
        .parse()
        .map_err(|_| format!("'{s}': width is not a number"))?;
    let h = h
        .parse()
        .map_err(|_| format!("'{s}': height is not a number"))?;
    Ok((w, h))
}

fn parse_shape(s: &str) -> Result<decscope::data::ImageShape, String> {
    decscope::data::ImageShape::parse(s)
}
