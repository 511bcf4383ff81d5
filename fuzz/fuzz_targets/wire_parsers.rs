//! libFuzzer entry point; the target itself is in `fuzz/targets/wire_parsers.rs`.
#![no_main]

#[path = "../targets/wire_parsers.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
