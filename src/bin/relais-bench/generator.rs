//! Generated load: distinct, valid STIX 2.1 indicators, and a small pseudo-random generator.

use std::fmt::Write as _;

use relais::domain::stix::stored::utc_timestamp;
use time::OffsetDateTime;

const TLP2_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP2_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const PAP_GREEN: &str = "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9";

/// A small, fast pseudo-random generator (SplitMix64); good enough to spread load.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn seeded() -> Self {
        Self(uuid::Uuid::new_v4().as_u64_pair().0)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), near enough.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Generates distinct, valid STIX 2.1 indicators: a random UUID each, one of three pattern
/// kinds (IPv4 address, domain name, file SHA-256), TLP 2.0 GREEN or AMBER and PAP GREEN.
pub struct Generator {
    /// Differs between runs, so that two runs never post the same observable values.
    salt: u64,
    /// `created` / `modified` / `valid_from` of the run.
    created: String,
}

impl Generator {
    pub fn new() -> Self {
        Self {
            salt: SplitMix::seeded().next(),
            created: utc_timestamp(OffsetDateTime::now_utc(), 3),
        }
    }

    fn indicator(&self, n: u64, out: &mut String) -> uuid::Uuid {
        let mut mix = SplitMix(self.salt ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let h = mix.next();
        let (name, pattern) = match n % 3 {
            0 => {
                let [a, b, c, d, ..] = h.to_be_bytes();
                // Public first octets only: private, reserved and documentation ranges would
                // be refused when the bench targets the submissions collection (anonymiser).
                const PUBLIC: [u8; 12] = [5, 23, 31, 45, 62, 77, 85, 91, 109, 185, 193, 212];
                let first = PUBLIC[usize::from(a) % PUBLIC.len()];
                let ip = format!("{first}.{b}.{c}.{}", 1 + d % 254);
                (
                    format!("Scanning host {ip}"),
                    format!("[ipv4-addr:value = '{ip}']"),
                )
            }
            1 => {
                let domain = format!("cdn-{h:016x}.badsite{}.com", n % 97);
                (
                    format!("Phishing domain {domain}"),
                    format!("[domain-name:value = '{domain}']"),
                )
            }
            _ => {
                let mut seed = [0u8; 16];
                seed[..8].copy_from_slice(&self.salt.to_be_bytes());
                seed[8..].copy_from_slice(&n.to_be_bytes());
                let digest = ring::digest::digest(&ring::digest::SHA256, &seed);
                let sha = hex::encode(digest.as_ref());
                (
                    format!("Dropper sample {}", &sha[..12]),
                    format!("[file:hashes.'SHA-256' = '{sha}']"),
                )
            }
        };
        let tlp = if h.is_multiple_of(4) {
            TLP2_AMBER
        } else {
            TLP2_GREEN
        };
        let created = &self.created;
        let id = uuid::Uuid::new_v4();
        let _ = write!(
            out,
            "{{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--{id}\",\
             \"created\":\"{created}\",\"modified\":\"{created}\",\"name\":\"{name}\",\
             \"indicator_types\":[\"malicious-activity\"],\"pattern\":\"{pattern}\",\
             \"pattern_type\":\"stix\",\"valid_from\":\"{created}\",\
             \"object_marking_refs\":[\"{tlp}\",\"{PAP_GREEN}\"]}}",
        );
        id
    }

    /// `{"objects":[…]}` with objects number `from..to`, and their ids.
    pub fn envelope(&self, from: u64, to: u64) -> (String, Vec<uuid::Uuid>) {
        let mut ids = Vec::with_capacity((to - from) as usize);
        let mut out = String::with_capacity(((to - from) as usize) * 450 + 16);
        out.push_str("{\"objects\":[");
        for n in from..to {
            if n > from {
                out.push(',');
            }
            ids.push(self.indicator(n, &mut out));
        }
        out.push_str("]}");
        (out, ids)
    }
}

#[cfg(test)]
mod tests {
    use super::Generator;

    #[test]
    fn generated_indicators_are_valid_and_distinct() {
        let generator = Generator::new();
        let (envelope, generated) = generator.envelope(0, 30);
        assert_eq!(generated.len(), 30);
        let value: serde_json::Value = serde_json::from_str(&envelope).unwrap();
        let objects = value["objects"].as_array().unwrap();
        assert_eq!(objects.len(), 30);
        let mut ids = std::collections::HashSet::new();
        for object in objects {
            let raw = object.to_string();
            let stix = relais::domain::stix::validate::validate(&raw, object)
                .unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert!(ids.insert(stix.id.as_str().to_owned()));
        }
    }
}
