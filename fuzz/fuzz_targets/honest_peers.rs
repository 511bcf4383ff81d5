//! libFuzzer entry point; the target itself is in `fuzz/targets/honest_peers.rs`.
#![no_main]

#[path = "../targets/honest_peers.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
