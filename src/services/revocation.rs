//! The certificate revocation list the main listener enforces, as the PKI commands stored it.
//! The TLS layer polls it here so that it never holds the store.

use crate::services::Failure;
use crate::store::SharedStore;

/// A stored CRL: its number (to tell a newer one) and its DER bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    pub number: i64,
    pub der: Vec<u8>,
}

/// Reads the newest CRL; cheap to clone, for the refresh job.
#[derive(Debug, Clone)]
pub struct Revocations {
    store: SharedStore,
}

impl Revocations {
    pub fn new(store: SharedStore) -> Self {
        Self { store }
    }

    /// The number of the newest CRL, without its bytes: what the poll compares.
    pub async fn latest_number(&self) -> Result<Option<i64>, Failure> {
        Ok(self.store.latest_crl_number().await?)
    }

    pub async fn latest(&self) -> Result<Option<Crl>, Failure> {
        Ok(self.store.latest_crl().await?.map(|c| Crl {
            number: c.number,
            der: c.der,
        }))
    }
}
