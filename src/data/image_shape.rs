//! The shape of one sample when the features are an image (height, width, channels),
//! parsed from `--image-shape` or guessed from the row width.
//!
//! Why: galleries, HOG and augmentation need the pixels' layout, which a flat row of
//! features does not carry.

use serde::{Deserialize, Serialize};

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
