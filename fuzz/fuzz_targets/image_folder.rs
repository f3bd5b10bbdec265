//! The image-folder loader on an arbitrary file placed in a class folder.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("decscope-fuzz-img-{}", std::process::id()));
    let class = dir.join("a");
    let _ = std::fs::create_dir_all(&class);
    if std::fs::write(class.join("x.png"), data).is_ok() {
        let _ = decscope::data::images::load(&dir, None);
        let _ = decscope::data::images::load(&dir, Some((8, 8)));
    }
});
