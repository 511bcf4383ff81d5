//! libFuzzer entry point; the target itself is in `fuzz/targets/c_api.rs`.
//! Run it under AddressSanitizer (`--sanitizer address`): the C API is the
//! only part of lwsec with `unsafe` code.
#![no_main]

#[path = "../targets/c_api.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
