//! The strict JSON reader on arbitrary bytes: as a TAXII envelope and as one JSON value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relais::domain::stix::json::{JsonLimits, envelope_objects, parse_strict};

fuzz_target!(|data: &[u8]| {
    if let Ok(objects) = envelope_objects(data, &JsonLimits::default()) {
        for object in &objects {
            // Each object's text is a slice of the input at the offset it reports.
            let end = object.offset + object.raw.len();
            assert_eq!(data.get(object.offset..end), Some(object.raw.as_bytes()));
        }
    }
    if let Ok(value) = parse_strict(data, &JsonLimits::DEFAULT) {
        // Whatever the strict reader accepts, serde_json can read back to the same value, up to
        // the representation of numbers (serde_json reads `-0` as a float, and its float
        // parsing may differ in the last bit).
        let text = std::str::from_utf8(data).unwrap_or_default();
        let again: Result<serde_json::Value, _> = serde_json::from_str(text);
        assert!(
            again.as_ref().is_ok_and(|v| same_shape(v, &value)),
            "{again:?}"
        );
    }
});

fn same_shape(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_shape(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (Value::Number(a), Value::Number(b)) => {
            a == b
                || match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()),
                    _ => false,
                }
        }
        _ => a == b,
    }
}
