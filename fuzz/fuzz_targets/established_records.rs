//! libFuzzer entry point; the target itself is in `fuzz/targets/established_records.rs`.
#![no_main]

#[path = "../targets/established_records.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
