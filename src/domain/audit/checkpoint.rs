//! Checkpoints (signed tree heads) in the C2SP `checkpoint` body format, and the file that
//! carries one with its OpenPGP signature.
//!
//! The body is exactly three lines, each ending in `\n`:
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zero>
//! <root hash, standard base64 with padding>
//! ```
//!
//! The origin names the log (the hub's, e.g. `relais.example.org/audit`); it is non-empty and
//! holds no control character. C2SP allows extension lines after the root; this log writes
//! none and refuses them, so that one checkpoint has exactly one body.
//!
//! A signed checkpoint file is the body, one empty line, then the ASCII-armored OpenPGP
//! detached signature over exactly the body bytes (the hub's audit key, not its TLS key), one
//! signature packet in one armor block, and nothing after it but the final newline:
//!
//! ```text
//! relais.example.org/audit
//! 1000
//! 3q2+7w...=
//!
//! -----BEGIN PGP SIGNATURE-----
//! ...
//! -----END PGP SIGNATURE-----
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

use super::merkle::Hash;
use crate::crypto::openpgp::{AuditKey, OpenPgpError, PublicKey, Verified};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("a checkpoint body is three lines, each ending in a newline")]
    Lines,
    #[error("the origin is empty or holds a control character")]
    Origin,
    #[error("the tree size is not a decimal number without leading zeros")]
    Size,
    #[error("the root is not 32 bytes in standard base64")]
    Root,
    #[error("no empty line and armored signature after the body")]
    NoSignature,
    #[error("after the body, one armored signature and nothing else")]
    NotOneSignature,
}

const SIGNATURE_BEGIN: &str = "-----BEGIN PGP SIGNATURE-----\n";
const SIGNATURE_END: &str = "-----END PGP SIGNATURE-----";

fn valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && !origin
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

impl Checkpoint {
    /// The body as signed (module documentation).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// The root in the body's encoding (standard base64), for messages.
    pub fn root_base64(&self) -> String {
        STANDARD.encode(self.root)
    }

    /// Parses a body; anything but the canonical three lines is refused.
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        let rest = body.strip_suffix('\n').ok_or(CheckpointError::Lines)?;
        let mut lines = rest.split('\n');
        let (Some(origin), Some(size), Some(root_line), None) =
            (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Lines);
        };
        if !valid_origin(origin) {
            return Err(CheckpointError::Origin);
        }
        let canonical_size = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        if !canonical_size {
            return Err(CheckpointError::Size);
        }
        let size = size.parse::<u64>().map_err(|_| CheckpointError::Size)?;
        let decoded = STANDARD
            .decode(root_line)
            .map_err(|_| CheckpointError::Root)?;
        let root: Hash = decoded.try_into().map_err(|_| CheckpointError::Root)?;
        // The engine is strict about padding and trailing bits already; be explicit anyway:
        // one encoding per root.
        if STANDARD.encode(root) != root_line {
            return Err(CheckpointError::Root);
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// A checkpoint and the armored detached signature over its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub signature: String,
}

impl SignedCheckpoint {
    /// Signs the body with the hub's audit key; `at` is the signature's creation time.
    pub fn sign(
        checkpoint: Checkpoint,
        key: &AuditKey,
        at: OffsetDateTime,
    ) -> Result<Self, OpenPgpError> {
        let signature = key.sign_detached(checkpoint.body().as_bytes(), at)?;
        Ok(Self {
            checkpoint,
            signature,
        })
    }

    /// The file text: body, empty line, armored signature.
    pub fn to_text(&self) -> String {
        let mut text = self.checkpoint.body();
        text.push('\n');
        text.push_str(&self.signature);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// Splits a file into body and signature and parses the body strictly; the signature is
    /// only checked by [`SignedCheckpoint::verify`]. Whatever follows the signature (text, a
    /// second signature block, a second packet in the block) is refused: the verifier would
    /// skip it, and a file must say one thing.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let (body, signature) = text
            .split_once("\n\n")
            .ok_or(CheckpointError::NoSignature)?;
        let mut body = body.to_owned();
        body.push('\n');
        let checkpoint = Checkpoint::parse(&body)?;
        let block = signature
            .strip_prefix(SIGNATURE_BEGIN)
            .ok_or(CheckpointError::NoSignature)?;
        let (inside, after) = block
            .split_once(SIGNATURE_END)
            .ok_or(CheckpointError::NotOneSignature)?;
        if !matches!(after, "" | "\n")
            || inside.contains("-----")
            || !crate::crypto::openpgp::is_single_signature(signature.as_bytes())
        {
            return Err(CheckpointError::NotOneSignature);
        }
        Ok(Self {
            checkpoint,
            signature: signature.to_owned(),
        })
    }

    /// Checks the signature over the body against `key`, as of `at` (normally now).
    pub fn verify(&self, key: &PublicKey, at: OffsetDateTime) -> Result<Verified, OpenPgpError> {
        crate::crypto::openpgp::verify_detached(
            key,
            self.checkpoint.body().as_bytes(),
            self.signature.as_bytes(),
            at,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            origin: "relais.example.org/audit".into(),
            size: 1000,
            root: [7; 32],
        }
    }

    #[test]
    fn body_round_trips() {
        let c = sample();
        let body = c.body();
        assert_eq!(
            body,
            "relais.example.org/audit\n1000\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
        );
        assert_eq!(Checkpoint::parse(&body), Ok(c));
        let zero = Checkpoint {
            size: 0,
            ..sample()
        };
        assert_eq!(Checkpoint::parse(&zero.body()), Ok(zero));
    }

    #[test]
    fn non_canonical_bodies_are_refused() {
        let root = STANDARD.encode([7u8; 32]);
        let cases = [
            (format!("o\n1000\n{root}"), CheckpointError::Lines),
            (format!("o\n1000\n{root}\n\n"), CheckpointError::Lines),
            (
                format!("o\n1000\n{root}\nextension\n"),
                CheckpointError::Lines,
            ),
            ("o\n1000\n".to_owned(), CheckpointError::Lines),
            (format!("\n1000\n{root}\n"), CheckpointError::Origin),
            (format!("o\u{1b}\n1000\n{root}\n"), CheckpointError::Origin),
            (format!("o\r\n1000\n{root}\n"), CheckpointError::Origin),
            (format!("o\n01000\n{root}\n"), CheckpointError::Size),
            (format!("o\n+1000\n{root}\n"), CheckpointError::Size),
            (format!("o\n\n{root}\n"), CheckpointError::Size),
            (format!("o\n1e3\n{root}\n"), CheckpointError::Size),
            (
                format!("o\n99999999999999999999\n{root}\n"),
                CheckpointError::Size,
            ),
            (
                format!("o\n1000\n{}\n", root.trim_end_matches('=')),
                CheckpointError::Root,
            ),
            (
                format!("o\n1000\n{}\n", STANDARD.encode([7u8; 31])),
                CheckpointError::Root,
            ),
            (
                // The URL-safe alphabet.
                format!(
                    "o\n1000\n{}\n",
                    STANDARD.encode([0xfb; 32]).replace('+', "-")
                ),
                CheckpointError::Root,
            ),
            (format!("o\n1000\n {root}\n"), CheckpointError::Root),
        ];
        for (body, error) in cases {
            assert_eq!(Checkpoint::parse(&body), Err(error), "{body:?}");
        }
    }

    fn signed_sample() -> SignedCheckpoint {
        use time::macros::datetime;
        let key = AuditKey::generate("relais audit test", datetime!(2026-01-01 00:00 UTC)).unwrap();
        SignedCheckpoint::sign(sample(), &key, datetime!(2026-03-01 00:00 UTC)).unwrap()
    }

    #[test]
    fn signed_file_splits_into_body_and_signature() {
        let text = signed_sample().to_text();
        let signed = SignedCheckpoint::parse(&text).unwrap();
        assert_eq!(signed.checkpoint, sample());
        assert_eq!(signed.to_text(), text);
        assert_eq!(
            SignedCheckpoint::parse(&sample().body()),
            Err(CheckpointError::NoSignature)
        );
        assert_eq!(
            SignedCheckpoint::parse(&format!("{}\nnot a signature\n", sample().body())),
            Err(CheckpointError::NoSignature)
        );
        // An extension line before the empty line is part of the body, and refused.
        let extended = text.replacen("=\n\n", "=\nextra\n\n", 1);
        assert_eq!(
            SignedCheckpoint::parse(&extended),
            Err(CheckpointError::Lines)
        );
    }

    #[test]
    fn only_the_note_and_its_one_signature_are_taken() {
        let text = signed_sample().to_text();
        let other = signed_sample().signature;
        let refused = [
            format!("{text}trailing\n"),
            format!("{text}\n"),
            format!("{text}{other}"),
            text.trim_end().replacen(SIGNATURE_END, "", 1),
            text.replacen(SIGNATURE_END, &format!("{SIGNATURE_END}\n{other}"), 1),
        ];
        for bad in refused {
            assert!(
                matches!(
                    SignedCheckpoint::parse(&bad),
                    Err(CheckpointError::NotOneSignature)
                ),
                "{bad:?}"
            );
        }
        // Without its final newline the file still says the same, once.
        assert!(SignedCheckpoint::parse(text.trim_end()).is_ok());
    }

    #[test]
    fn signed_checkpoints_verify_against_their_key_only() {
        use time::macros::datetime;
        let key = AuditKey::generate("relais audit test", datetime!(2026-01-01 00:00 UTC)).unwrap();
        let signed =
            SignedCheckpoint::sign(sample(), &key, datetime!(2026-03-01 00:00 UTC)).unwrap();
        let parsed = SignedCheckpoint::parse(&signed.to_text()).unwrap();
        assert_eq!(parsed, signed);
        let now = datetime!(2026-06-01 00:00 UTC);
        let verified = parsed.verify(&key.public_key(), now).unwrap();
        assert_eq!(verified.signed_at, datetime!(2026-03-01 00:00 UTC));
        // Same signature, another body.
        let mut moved = parsed.clone();
        moved.checkpoint.size += 1;
        assert!(moved.verify(&key.public_key(), now).is_err());
        let other =
            AuditKey::generate("relais audit test", datetime!(2026-01-01 00:00 UTC)).unwrap();
        assert!(parsed.verify(&other.public_key(), now).is_err());
        // Not yet signed as of an earlier time.
        assert!(
            parsed
                .verify(&key.public_key(), datetime!(2026-02-01 00:00 UTC))
                .is_err()
        );
    }
}
