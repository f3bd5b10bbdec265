//! A folder of images (PNG, JPEG): class subfolders become labels, every image is
//! brought to one size (the first image's, or a requested one), grey or RGB.

use std::path::{Path, PathBuf};

use super::{DataError, Dataset, ImageShape};

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Whether `dir` holds images directly or in subfolders.
pub fn looks_like(dir: &Path) -> bool {
    sorted_entries(dir).is_ok_and(|e| {
        e.iter().any(|p| is_image(p))
            || e.iter()
                .filter(|p| p.is_dir())
                .any(|d| sorted_entries(d).is_ok_and(|f| f.iter().any(|p| is_image(p))))
    })
}

/// Load the folder; `size` forces (width, height).
pub fn load(dir: &Path, size: Option<(usize, usize)>) -> Result<Dataset, DataError> {
    let files = image_files(dir)?;
    let decode = |p: &Path| {
        image::open(p).map_err(|e| DataError::Invalid {
            path: p.to_path_buf(),
            reason: format!("cannot decode this image ({e}); remove or replace it"),
        })
    };
    let first = decode(&files[0].0)?;
    let (w, h) = size.unwrap_or((first.width() as usize, first.height() as usize));
    if w == 0 || h == 0 || w * h > 4096 * 4096 {
        return Err(DataError::Invalid {
            path: files[0].0.clone(),
            reason: format!("image size {w}x{h} is not usable; pass --image-size WxH"),
        });
    }
    let mut imgs = vec![first];
    for (p, _) in &files[1..] {
        imgs.push(decode(p)?);
    }
    let (x, c) = pixels(&imgs, w, h);
    let (labels, names) = folder_labels(&files);
    let name = super::file_name(dir);
    let mut ds = Dataset::new(name, x, w * h * c, labels)?;
    ds.class_names = names;
    ds.image_shape = Some(ImageShape {
        height: h,
        width: w,
        channels: c,
    });
    ds.source = Some(dir.to_path_buf());
    ds.dtype = "u8 (image)".into();
    Ok(ds)
}

/// The images of `dir`, each with its class subfolder's name (none when the images sit
/// in `dir` itself); an error when there are none or both kinds.
fn image_files(dir: &Path) -> Result<Vec<(PathBuf, Option<String>)>, DataError> {
    let entries = sorted_entries(dir)?;
    let mut files: Vec<(PathBuf, Option<String>)> = entries
        .iter()
        .filter(|p| is_image(p))
        .map(|p| (p.clone(), None))
        .collect();
    for sub in entries.iter().filter(|p| p.is_dir()) {
        let class = sub
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for f in sorted_entries(sub)?.into_iter().filter(|p| is_image(p)) {
            files.push((f, Some(class.clone())));
        }
    }
    if files.is_empty() {
        return Err(DataError::NotFound {
            path: dir.to_path_buf(),
        });
    }
    let labelled = files.iter().filter(|f| f.1.is_some()).count();
    if labelled > 0 && labelled < files.len() {
        return Err(DataError::Invalid {
            path: dir.to_path_buf(),
            reason: "some images sit in class subfolders and some directly in the folder; move every image into a class subfolder (or none)".into(),
        });
    }
    Ok(files)
}

/// The images' pixels as rows of `w x h x c` bytes (resized where another size), with
/// `c` 3 when any image has colour, else 1.
fn pixels(imgs: &[image::DynamicImage], w: usize, h: usize) -> (Vec<f32>, usize) {
    let colour = imgs.iter().any(|i| i.color().has_color());
    let c = if colour { 3 } else { 1 };
    let mut x = Vec::with_capacity(imgs.len() * w * h * c);
    for img in imgs {
        let img = if img.width() as usize != w || img.height() as usize != h {
            img.resize_exact(w as u32, h as u32, image::imageops::FilterType::Triangle)
        } else {
            img.clone()
        };
        if colour {
            x.extend(img.to_rgb8().into_raw().into_iter().map(f32::from));
        } else {
            x.extend(img.to_luma8().into_raw().into_iter().map(f32::from));
        }
    }
    (x, c)
}

/// Class ids from the subfolder names (sorted names; folder names are class names even
/// when they are numbers), or none when no image sits in a subfolder.
fn folder_labels(files: &[(PathBuf, Option<String>)]) -> (Option<Vec<u32>>, Option<Vec<String>>) {
    if files.iter().all(|f| f.1.is_none()) {
        return (None, None);
    }
    let raw: Vec<String> = files
        .iter()
        .map(|f| f.1.clone().unwrap_or_default())
        .collect();
    let mut uniq = raw.clone();
    uniq.sort();
    uniq.dedup();
    let ids = raw
        .iter()
        .map(|r| uniq.binary_search(r).unwrap_or(0) as u32)
        .collect();
    (Some(ids), Some(uniq))
}
