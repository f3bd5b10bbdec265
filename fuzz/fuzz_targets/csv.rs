//! The CSV/TSV reader on arbitrary bytes, with each label-column mode.
#![no_main]
use decscope::data::csv::{LabelCol, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = std::path::Path::new("fuzz.csv");
    let _ = parse(data, p, &LabelCol::Auto);
    let _ = parse(data, p, &LabelCol::Last);
    let _ = parse(data, std::path::Path::new("fuzz.tsv"), &LabelCol::Index(1));
});
