//! Writing certificates and keys to disk. Private keys are created with mode 0600 from the
//! first byte: never written world-readable and tightened afterwards.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::PkiError;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PkiError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    // Write beside the target and rename, so that a reader (a running hub) never sees half a
    // file and an interrupted write never destroys the previous one.
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io_error(&tmp))?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(io_error(&tmp))?;
    file.write_all(bytes).map_err(io_error(&tmp))?;
    file.sync_all().map_err(io_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_error(path))
}

/// Writes a private key (or anything that contains one, like a PKCS#12 file): mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PkiError> {
    write_with_mode(path, bytes, 0o600)
}

/// Writes a certificate or CRL: mode 0644.
pub fn write_public(path: &Path, bytes: &[u8]) -> Result<(), PkiError> {
    write_with_mode(path, bytes, 0o644)
}

/// Refuses a private key file that group or others can read or write.
pub fn check_private_mode(what: &'static str, path: &Path) -> Result<(), PkiError> {
    let meta = std::fs::metadata(path).map_err(io_error(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(PkiError::KeyTooOpen {
            what,
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// A PKCS#12 bundle (key, certificate, CA) for browsers and tools that import one file.
/// Encrypted with PBES2/AES-256 and an HMAC-SHA-256 MAC under `password` (the demo
/// certificates use the empty password, as documented).
pub fn pkcs12(
    alias: &str,
    key_pkcs8_der: &[u8],
    cert_der: &[u8],
    ca_der: &[u8],
    password: &str,
) -> Result<Vec<u8>, PkiError> {
    use p12_keystore::{
        Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey,
        PrivateKeyChain,
    };
    let err = |e: p12_keystore::error::Error| PkiError::Pkcs12(e.to_string());
    let key = PrivateKey::from_der(key_pkcs8_der).map_err(err)?;
    let chain = vec![
        Certificate::from_der(cert_der).map_err(err)?,
        Certificate::from_der(ca_der).map_err(err)?,
    ];
    let local_key_id = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
    let mut store = KeyStore::new();
    store.add_entry(
        alias,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(
            local_key_id.as_ref().to_vec(),
            key,
            chain,
        )),
    );
    store
        .writer(password)
        .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
        .mac_algorithm(MacAlgorithm::HmacSha256)
        .write()
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.pem");
        write_private(&key, b"secret").unwrap();
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(check_private_mode("key", &key).is_ok());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = check_private_mode("key", &key).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
