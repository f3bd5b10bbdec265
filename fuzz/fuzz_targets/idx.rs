//! The IDX parser on arbitrary bytes: errors are fine, panics and huge allocations are not.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decscope::data::idx::parse(&mut &data[..], std::path::Path::new("fuzz.idx"));
});
