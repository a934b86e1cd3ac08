#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credential_helper_fuzz::google_credentials(data));
