//! The .npy feature and label decoders, and the .npz reader, on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = std::path::Path::new("fuzz.npy");
    let _ = decscope::data::npy::decode_2d(data, p);
    let _ = decscope::data::npy::decode_labels(data, p);
    let _ = decscope::data::npy::parse_npz(std::io::Cursor::new(data), std::path::Path::new("fuzz.npz"));
});
