//! Witness cosignatures of checkpoints, as C2SP `tlog-cosignature` v1 defines them: a witness
//! that checked a checkpoint against the last one it saw signs, with Ed25519,
//!
//! ```text
//! cosignature/v1
//! time <seconds since the epoch>
//! <the checkpoint body>
//! ```
//!
//! and publishes the signature as a note signature line,
//! `— <witness name> <base64(key id ‖ time, 8 bytes big-endian ‖ signature)>`. The key id is
//! the first four bytes of SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key), and the verifier key a
//! partner pastes into its policy is `<name>+<key id, hex>+<base64(0x04 ‖ public key)>`.
//! Anyone with the verifier key checks a cosignature offline; the format is the one other
//! transparency logs' witnesses speak, so a relais hub can be witnessed by them too.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use super::checkpoint::Checkpoint;

/// The signature type byte of `cosignature/v1`.
const ALGORITHM: u8 = 0x04;
/// The em dash and space that start a note signature line.
const LINE_START: &str = "\u{2014} ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("a witness name is non-empty, without spaces or '+'")]
    Name,
    #[error("the witness seed is not 32 bytes")]
    Seed,
    #[error("a verifier key is name+keyid(8 hex)+base64(0x04 || 32-byte Ed25519 key)")]
    Vkey,
    #[error("the verifier key's id does not match its name and key")]
    VkeyId,
    #[error("a cosignature line is '\u{2014} name base64(keyid || time || signature)'")]
    Line,
    #[error("the cosignature is by another witness or key")]
    OtherWitness,
    #[error("the cosignature does not verify for this checkpoint")]
    BadSignature,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(&[0x0a, ALGORITHM]);
    ctx.update(public);
    let digest = ctx.finish();
    let mut id = [0u8; 4];
    id.copy_from_slice(&digest.as_ref()[..4]);
    id
}

/// The signed message (module documentation).
fn message(checkpoint: &Checkpoint, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{}", checkpoint.body())
}

/// This hub's witness key.
#[derive(Debug)]
pub struct WitnessKey {
    name: String,
    pair: Ed25519KeyPair,
}

/// A cosignature, parsed from or made for a note signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    pub name: String,
    pub key_id: [u8; 4],
    /// Seconds since the epoch at which the witness signed.
    pub time: u64,
    pub signature: [u8; 64],
}

/// A witness's public key, as partners configure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessVerifier {
    pub name: String,
    key_id: [u8; 4],
    public: [u8; 32],
}

impl WitnessKey {
    /// The key from its 32-byte Ed25519 seed (a hub secret).
    pub fn from_seed(name: &str, seed: &[u8]) -> Result<Self, CosignatureError> {
        if !valid_name(name) {
            return Err(CosignatureError::Name);
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| CosignatureError::Seed)?;
        Ok(Self {
            name: name.to_owned(),
            pair,
        })
    }

    pub fn verifier(&self) -> WitnessVerifier {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        WitnessVerifier {
            name: self.name.clone(),
            key_id: key_id(&self.name, &public),
            public,
        }
    }

    pub fn cosign(&self, checkpoint: &Checkpoint, time: u64) -> Cosignature {
        let sig = self.pair.sign(message(checkpoint, time).as_bytes());
        let mut signature = [0u8; 64];
        signature.copy_from_slice(sig.as_ref());
        Cosignature {
            name: self.name.clone(),
            key_id: self.verifier().key_id,
            time,
            signature,
        }
    }
}

impl Cosignature {
    /// The note signature line, with its final newline.
    pub fn line(&self) -> String {
        let mut blob = Vec::with_capacity(76);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&self.time.to_be_bytes());
        blob.extend_from_slice(&self.signature);
        format!("{LINE_START}{} {}\n", self.name, STANDARD.encode(blob))
    }

    /// Parses one signature line (the final newline optional).
    pub fn parse_line(line: &str) -> Result<Self, CosignatureError> {
        let rest = line
            .strip_suffix('\n')
            .unwrap_or(line)
            .strip_prefix(LINE_START)
            .ok_or(CosignatureError::Line)?;
        let (name, blob) = rest.split_once(' ').ok_or(CosignatureError::Line)?;
        if !valid_name(name) {
            return Err(CosignatureError::Line);
        }
        let blob = STANDARD.decode(blob).map_err(|_| CosignatureError::Line)?;
        if blob.len() != 4 + 8 + 64 {
            return Err(CosignatureError::Line);
        }
        let mut key_id = [0u8; 4];
        key_id.copy_from_slice(&blob[..4]);
        let mut time = [0u8; 8];
        time.copy_from_slice(&blob[4..12]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&blob[12..]);
        Ok(Self {
            name: name.to_owned(),
            key_id,
            time: u64::from_be_bytes(time),
            signature,
        })
    }
}

impl WitnessVerifier {
    pub fn parse(vkey: &str) -> Result<Self, CosignatureError> {
        // The key's base64 may hold '+' itself: the name and id never do.
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CosignatureError::Vkey);
        };
        if !valid_name(name) || id.len() != 8 {
            return Err(CosignatureError::Vkey);
        }
        let id = u32::from_str_radix(id, 16)
            .map_err(|_| CosignatureError::Vkey)?
            .to_be_bytes();
        let key = STANDARD.decode(key).map_err(|_| CosignatureError::Vkey)?;
        let (Some(&ALGORITHM), Ok(public)) = (key.first(), <[u8; 32]>::try_from(&key[1..])) else {
            return Err(CosignatureError::Vkey);
        };
        if key_id(name, &public) != id {
            return Err(CosignatureError::VkeyId);
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: id,
            public,
        })
    }

    pub fn to_vkey(&self) -> String {
        let mut key = Vec::with_capacity(33);
        key.push(ALGORITHM);
        key.extend_from_slice(&self.public);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            STANDARD.encode(key)
        )
    }

    /// Whether `c` is this witness's cosignature of `checkpoint`.
    pub fn verify(&self, checkpoint: &Checkpoint, c: &Cosignature) -> Result<(), CosignatureError> {
        if c.name != self.name || c.key_id != self.key_id {
            return Err(CosignatureError::OtherWitness);
        }
        UnparsedPublicKey::new(&ED25519, self.public)
            .verify(message(checkpoint, c.time).as_bytes(), &c.signature)
            .map_err(|_| CosignatureError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(size: u64) -> Checkpoint {
        Checkpoint {
            origin: "hub-a.example/audit".into(),
            size,
            root: [7u8; 32],
        }
    }

    fn key() -> WitnessKey {
        WitnessKey::from_seed("hub-b.example/witness", &[42u8; 32]).unwrap()
    }

    #[test]
    fn a_cosignature_verifies_with_the_published_key_only() {
        let c = key().cosign(&checkpoint(10), 1_780_000_000);
        let line = c.line();
        assert!(line.starts_with("\u{2014} hub-b.example/witness "));
        assert!(line.ends_with('\n'));
        let parsed = Cosignature::parse_line(&line).unwrap();
        assert_eq!(parsed, c);
        let verifier = WitnessVerifier::parse(&key().verifier().to_vkey()).unwrap();
        assert_eq!(verifier.verify(&checkpoint(10), &parsed), Ok(()));
        // Another checkpoint, another time, another key: refused.
        assert_eq!(
            verifier.verify(&checkpoint(11), &parsed),
            Err(CosignatureError::BadSignature)
        );
        let mut later = parsed.clone();
        later.time += 1;
        assert_eq!(
            verifier.verify(&checkpoint(10), &later),
            Err(CosignatureError::BadSignature)
        );
        let other = WitnessKey::from_seed("hub-b.example/witness", &[43u8; 32]).unwrap();
        assert_eq!(
            other.verifier().verify(&checkpoint(10), &parsed),
            Err(CosignatureError::OtherWitness)
        );
    }

    /// The key id and message follow C2SP: recomputed here from the specification's
    /// definitions rather than from the code above.
    #[test]
    fn key_id_and_message_are_the_c2sp_ones() {
        let k = key();
        let vkey = k.verifier().to_vkey();
        let parts: Vec<&str> = vkey.splitn(3, '+').collect();
        let raw = STANDARD.decode(parts[2]).unwrap();
        assert_eq!(raw[0], 0x04);
        let mut input = b"hub-b.example/witness\n".to_vec();
        input.extend_from_slice(&raw);
        let digest = ring::digest::digest(&ring::digest::SHA256, &input);
        assert_eq!(parts[1], hex::encode(&digest.as_ref()[..4]));
        let c = k.cosign(&checkpoint(3), 5);
        let signed = format!(
            "cosignature/v1\ntime 5\nhub-a.example/audit\n3\n{}\n",
            STANDARD.encode([7u8; 32])
        );
        UnparsedPublicKey::new(&ED25519, &raw[1..])
            .verify(signed.as_bytes(), &c.signature)
            .unwrap();
    }

    #[test]
    fn malformed_keys_and_lines_are_refused() {
        let good = key().verifier().to_vkey();
        for bad in [
            "",
            "name+00000000",
            "name with space+00000000+AA==",
            &good.replacen('+', "+0", 1),
            &format!("other{good}"),
        ] {
            assert!(WitnessVerifier::parse(bad).is_err(), "{bad}");
        }
        for bad in ["", "- name AAAA", "\u{2014} name", "\u{2014} name AAAA"] {
            assert!(Cosignature::parse_line(bad).is_err(), "{bad}");
        }
        assert!(WitnessKey::from_seed("a+b", &[0u8; 32]).is_err());
        assert!(WitnessKey::from_seed("a", &[0u8; 31]).is_err());
    }
}
