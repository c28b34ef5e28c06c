#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| credhelper_fuzz::ecr_host(data));
