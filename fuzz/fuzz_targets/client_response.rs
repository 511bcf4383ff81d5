//! libFuzzer entry point; the target itself is in `fuzz/targets/client_response.rs`.
#![no_main]

#[path = "../targets/client_response.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
