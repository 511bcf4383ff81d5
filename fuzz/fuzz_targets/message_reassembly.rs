//! libFuzzer entry point; the target itself is in `fuzz/targets/message_reassembly.rs`.
#![no_main]

#[path = "../targets/message_reassembly.rs"]
mod target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| target::run(data));
