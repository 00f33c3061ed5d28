#![no_main]

use libfuzzer_sys::fuzz_target;

use ward_deid::{Mode, replace};
use ward_fuzz::deid::{check_spans, detector, surrogates};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let found = detector().find(&text);
    check_spans(&text, &found);
    for mode in [Mode::Tags, Mode::Mask, Mode::Surrogate] {
        let (out, counts) = replace(&text, &found, mode, "p1", surrogates());
        assert_eq!(
            counts.total(),
            found.len() as u64,
            "every span replaced once"
        );
        if mode == Mode::Mask {
            assert_eq!(
                out.chars().count(),
                text.chars().count(),
                "a mask keeps the length"
            );
        }
    }
});
