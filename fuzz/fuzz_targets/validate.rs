//! STIX object validation of every object of a strictly read document (envelope, bundle or lone
//! object), and of the whole input read as one JSON value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relais::domain::stix::json::{JsonLimits, parse_strict, read_stix};
use relais::domain::stix::validate::validate;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = read_stix(data, &JsonLimits::DEFAULT) {
        for object in &doc.objects {
            if let Ok(value) = &object.value {
                let _ = validate(object.raw, value);
            }
        }
    }
    if let (Ok(value), Ok(raw)) = (
        parse_strict(data, &JsonLimits::DEFAULT),
        std::str::from_utf8(data),
    ) {
        let _ = validate(raw, &value);
    }
});
