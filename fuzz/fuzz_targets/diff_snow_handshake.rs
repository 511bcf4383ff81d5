//! libFuzzer entry point; the target itself is in `fuzz/targets/diff_snow_handshake.rs`.
#![no_main]

#[path = "../targets/diff_snow_handshake.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
