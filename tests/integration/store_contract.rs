//! The storage contract: the same cases against SQLite and PostgreSQL.

use crate::common::relais_test_audit;
use relais::domain::principal::*;
use relais::store::{SharedStore, StoreError, StoredCrl};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::common::PgDatabase;

const T0: OffsetDateTime = datetime!(2026-03-01 08:00:00 UTC);

async fn sqlite() -> (tempfile::TempDir, SharedStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = relais::store::open("sqlite://contract.db", dir.path(), 4)
        .await
        .unwrap();
    (dir, store)
}

async fn postgres() -> Option<(PgDatabase, SharedStore)> {
    let db = PgDatabase::create().await?;
    let store = relais::store::open(&db.url, std::path::Path::new("."), 4)
        .await
        .unwrap();
    Some((db, store))
}

/// Defines one test per backend for a contract case.
macro_rules! contract {
    ($($case:ident),+ $(,)?) => {
        mod sqlite_backend {
            $(
                #[tokio::test]
                async fn $case() {
                    let (_dir, store) = super::sqlite().await;
                    super::$case(&store).await;
                    store.close().await;
                }
            )+
        }
        mod postgres_backend {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some((_db, store)) = super::postgres().await else { return };
                    super::$case(&store).await;
                    store.close().await;
                }
            )+
        }
    };
}

contract!(
    organisations_round_trip,
    principals_round_trip,
    bindings_and_registry_record,
    revocation,
    crls_are_numbered,
    status_belongs_to_its_poster,
);

fn org(name: &str, kind: OrganisationKind) -> Organisation {
    Organisation {
        id: OrganisationId::generate(),
        name: name.into(),
        kind,
        status: OrganisationStatus::Referenced,
        created_at: T0,
    }
}

fn principal(org: &Organisation, name: &str) -> Principal {
    Principal {
        id: PrincipalId::generate(),
        organisation_id: org.id.clone(),
        kind: PrincipalKind::Provider,
        name: name.into(),
        status: PrincipalStatus::Active,
        created_at: T0,
    }
}

fn binding(p: &Principal, key: u8) -> CertificateBinding {
    CertificateBinding {
        fingerprint: SpkiFingerprint::from_bytes([key; 32]),
        principal_id: p.id.clone(),
        serial: format!("{key:02x}aa"),
        subject: format!("CN={}", p.name),
        issuer: "CN=relais test CA".into(),
        not_before: T0,
        not_after: T0 + Duration::days(365),
        issued_by_hub: true,
        revoked_at: None,
        revocation_reason: None,
        created_at: T0,
    }
}

async fn organisations_round_trip(store: &SharedStore) {
    let a = org("Provider A", OrganisationKind::Provider);
    store
        .insert_organisation(&a, &relais_test_audit())
        .await
        .unwrap();
    assert_eq!(store.organisation(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.organisation_by_name("Provider A").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.organisation_by_name("provider a").await.unwrap(),
        None
    );

    let dup = org("Provider A", OrganisationKind::Provider);
    assert!(matches!(
        store.insert_organisation(&dup, &relais_test_audit()).await,
        Err(StoreError::Conflict(_))
    ));

    store
        .set_organisation_status(
            &a.id,
            OrganisationStatus::Suspended,
            T0 + Duration::hours(1),
            &relais_test_audit(),
        )
        .await
        .unwrap();
    assert_eq!(
        store.organisation(&a.id).await.unwrap().unwrap().status,
        OrganisationStatus::Suspended
    );
    assert!(matches!(
        store
            .set_organisation_status(
                &OrganisationId::generate(),
                OrganisationStatus::Active,
                T0,
                &relais_test_audit()
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    let b = org("Beta CSIRT", OrganisationKind::Peer);
    store
        .insert_organisation(&b, &relais_test_audit())
        .await
        .unwrap();
    let names: Vec<_> = store
        .organisations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["Beta CSIRT", "Provider A"]);
}

async fn principals_round_trip(store: &SharedStore) {
    let a = org("Provider A", OrganisationKind::Provider);
    store
        .insert_organisation(&a, &relais_test_audit())
        .await
        .unwrap();
    let p = principal(&a, "alice");
    store
        .insert_principal(&p, &relais_test_audit())
        .await
        .unwrap();
    assert_eq!(store.principal(&p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        store.principal_by_name(&a.id, "alice").await.unwrap(),
        Some(p.clone())
    );
    assert!(matches!(
        store
            .insert_principal(&principal(&a, "alice"), &relais_test_audit())
            .await,
        Err(StoreError::Conflict(_))
    ));
    // A principal must belong to an existing organisation.
    let orphan = principal(&org("Nowhere", OrganisationKind::Provider), "bob");
    assert!(matches!(
        store.insert_principal(&orphan, &relais_test_audit()).await,
        Err(StoreError::NotFound(_))
    ));
    store
        .set_principal_status(&p.id, PrincipalStatus::Suspended, T0, &relais_test_audit())
        .await
        .unwrap();
    assert_eq!(
        store.principal(&p.id).await.unwrap().unwrap().status,
        PrincipalStatus::Suspended
    );
    assert_eq!(store.principals().await.unwrap().len(), 1);
}

async fn bindings_and_registry_record(store: &SharedStore) {
    let a = org("Provider A", OrganisationKind::Provider);
    store
        .insert_organisation(&a, &relais_test_audit())
        .await
        .unwrap();
    let p = principal(&a, "alice");
    store
        .insert_principal(&p, &relais_test_audit())
        .await
        .unwrap();
    let b = binding(&p, 1);
    store
        .insert_binding(&b, &relais_test_audit())
        .await
        .unwrap();
    assert_eq!(
        store.binding(&b.fingerprint).await.unwrap(),
        Some(b.clone())
    );
    // A key is bound once.
    let mut again = binding(&p, 1);
    again.serial = "ffff".into();
    assert!(matches!(
        store.insert_binding(&again, &relais_test_audit()).await,
        Err(StoreError::Conflict(_))
    ));

    let record = store
        .registry_record(&b.fingerprint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.binding, b);
    assert_eq!(record.principal, p);
    assert_eq!(record.organisation, a);
    assert!(
        store
            .registry_record(&SpkiFingerprint::from_bytes([9; 32]))
            .await
            .unwrap()
            .is_none()
    );
    store
        .insert_binding(&binding(&p, 2), &relais_test_audit())
        .await
        .unwrap();
    assert_eq!(store.bindings().await.unwrap().len(), 2);
}

async fn revocation(store: &SharedStore) {
    let a = org("Provider A", OrganisationKind::Provider);
    store
        .insert_organisation(&a, &relais_test_audit())
        .await
        .unwrap();
    let p = principal(&a, "alice");
    store
        .insert_principal(&p, &relais_test_audit())
        .await
        .unwrap();
    let b = binding(&p, 3);
    store
        .insert_binding(&b, &relais_test_audit())
        .await
        .unwrap();
    let at = T0 + Duration::days(2);
    assert!(
        store
            .revoke_binding(&b.fingerprint, at, "key compromise", &relais_test_audit())
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_binding(&b.fingerprint, at, "again", &relais_test_audit())
            .await
            .unwrap()
    );
    let stored = store.binding(&b.fingerprint).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(at));
    assert_eq!(stored.revocation_reason.as_deref(), Some("key compromise"));
    assert!(matches!(
        store
            .revoke_binding(
                &SpkiFingerprint::from_bytes([8; 32]),
                at,
                "x",
                &relais_test_audit()
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn crls_are_numbered(store: &SharedStore) {
    assert_eq!(store.latest_crl().await.unwrap(), None);
    assert_eq!(store.latest_crl_number().await.unwrap(), None);
    for n in 1..=3 {
        store
            .insert_crl(
                &StoredCrl {
                    number: n,
                    der: vec![n as u8; 4],
                    this_update: T0,
                },
                &relais_test_audit(),
            )
            .await
            .unwrap();
    }
    let taken = StoredCrl {
        number: 2,
        der: vec![0],
        this_update: T0,
    };
    assert!(matches!(
        store.insert_crl(&taken, &relais_test_audit()).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.latest_crl_number().await.unwrap(), Some(3));
    assert_eq!(store.latest_crl().await.unwrap().unwrap().der, vec![3; 4]);
}

/// Opening a database again (a restart, a second instance) applies no migration twice and
/// keeps the data.
async fn reopen_keeps_data(url: &str, dir: &std::path::Path) {
    let first = relais::store::open(url, dir, 2).await.unwrap();
    let a = org("Provider A", OrganisationKind::Provider);
    first
        .insert_organisation(&a, &relais_test_audit())
        .await
        .unwrap();
    let second = relais::store::open(url, dir, 2).await.unwrap();
    assert_eq!(second.organisation(&a.id).await.unwrap(), Some(a));
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn sqlite_reopen_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    reopen_keeps_data("sqlite://r.db", dir.path()).await;
}

#[tokio::test]
async fn postgres_reopen_keeps_data() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    reopen_keeps_data(&db.url, std::path::Path::new(".")).await;
}

async fn status_belongs_to_its_poster(store: &SharedStore) {
    let a = org("Provider A", OrganisationKind::Provider);
    store
        .insert_organisation(&a, &relais_test_audit())
        .await
        .unwrap();
    let alice = principal(&a, "alice");
    let bob = principal(&a, "bob");
    store
        .insert_principal(&alice, &relais_test_audit())
        .await
        .unwrap();
    store
        .insert_principal(&bob, &relais_test_audit())
        .await
        .unwrap();
    let body = r#"{"id":"s1","status":"complete"}"#;
    store
        .insert_status("s1", &alice.id, T0, body)
        .await
        .unwrap();
    assert_eq!(
        store.status("s1", &alice.id).await.unwrap().as_deref(),
        Some(body)
    );
    assert_eq!(store.status("s1", &bob.id).await.unwrap(), None);
    assert_eq!(store.status("s2", &alice.id).await.unwrap(), None);
    assert!(matches!(
        store.insert_status("s1", &alice.id, T0, body).await,
        Err(StoreError::Conflict(_))
    ));
}
