//! The svmlight/libsvm reader on arbitrary text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decscope::data::svmlight::parse(text, std::path::Path::new("fuzz.svm"));
    }
});
