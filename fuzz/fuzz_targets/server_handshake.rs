//! libFuzzer entry point; the target itself is in `fuzz/targets/server_handshake.rs`.
#![no_main]

#[path = "../targets/server_handshake.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
