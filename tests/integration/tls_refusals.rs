//! Handshakes the main listener refuses are in the audit log, not only in the service log:
//! source address, reason, and the certificate presented, if any; and a flood of them writes
//! a bounded number of entries, the rest counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use relais::clock::FixedClock;
use relais::domain::audit::entry::{AuditEntry, Decision, parse_canonical};
use relais::domain::audit::refusal_budget::{PER_SOURCE, WINDOW};
use relais::domain::principal::PrincipalKind;
use relais::pki::CertificateAuthority;
use relais::pki::ca::ClientUsage;
use serde_json::Value;
use time::OffsetDateTime;

use crate::common::{Credential, HubOptions, TestHub, spawn_hub_with, subject};

async fn refusals(hub: &TestHub, action: &str) -> Vec<AuditEntry> {
    hub.store
        .audit_entries(0, 1000, None)
        .await
        .unwrap()
        .iter()
        .map(|e| parse_canonical(&e.entry).unwrap())
        .filter(|e| e.action == action)
        .collect()
}

/// Waits until `n` entries of `action` are in the log (the writer runs beside the listener).
async fn wait_for(hub: &TestHub, action: &str, n: usize) -> Vec<AuditEntry> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = refusals(hub, action).await;
        if found.len() >= n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} {action} entries after 20 s: {found:?}",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn refused(hub: &TestHub, client: &reqwest::Client) {
    let result = client.get(hub.url("/api/v1/whoami")).send().await;
    assert!(result.is_err(), "the handshake must fail: {result:?}");
}

/// Point 10 of issue 11: TLS refusals were only in serve.log.
#[tokio::test]
async fn tls_refusals_are_in_the_audit_log_bounded_per_source() {
    let clock = FixedClock::new(OffsetDateTime::now_utc());
    let hub = spawn_hub_with(HubOptions {
        clock: Some(Arc::new(clock.clone())),
        ..Default::default()
    })
    .await;
    let now = OffsetDateTime::now_utc();
    let rogue = CertificateAuthority::generate("rogue CA", now, time::Duration::days(3)).unwrap();
    let foreign = rogue
        .issue_client(
            &subject(PrincipalKind::Analyst, "CSIRT La Réunion", "csirt-analyst"),
            ClientUsage::ClientAuth,
            now,
            time::Duration::days(1),
        )
        .unwrap();
    let expired = hub.issue_unbound(
        &subject(PrincipalKind::Provider, "Provider A (demo)", "old-laptop"),
        ClientUsage::ClientAuth,
        time::Duration::days(-30),
        time::Duration::days(2),
    );
    // Bound: the organisation it belongs to may read the refusal.
    hub.bind_raw(&expired, "provider-a").await;
    let no_eku = hub.issue_unbound(
        &subject(PrincipalKind::Provider, "Provider B (demo)", "no-eku"),
        ClientUsage::NoExtendedKeyUsage,
        time::Duration::ZERO,
        time::Duration::days(2),
    );

    refused(&hub, &hub.client_with(None)).await;
    for issued in [&foreign, &expired, &no_eku] {
        refused(
            &hub,
            &hub.client_with(Some(&Credential::from_issued(issued))),
        )
        .await;
    }
    let entries = wait_for(&hub, "tls.refused", 4).await;
    let reasons: Vec<&str> = entries.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "no client certificate",
            "issued by a CA the hub does not trust",
            "expired",
            "no clientAuth extended key usage",
        ]
    );
    for entry in &entries {
        assert_eq!(entry.decision, Decision::Deny);
        assert_eq!(entry.objects[0], "addr:127.0.0.1");
    }
    assert_eq!(entries[0].objects.len(), 1);
    assert_eq!(entries[0].actor.fingerprint, "");
    for (entry, issued) in entries[1..].iter().zip([&foreign, &expired, &no_eku]) {
        assert_eq!(entry.actor.fingerprint, issued.info.fingerprint.to_hex());
        assert_eq!(entry.objects[1], format!("serial:{}", issued.info.serial));
        assert_eq!(entry.objects[2], format!("subject:{}", issued.info.subject));
    }
    let provider_a = hub.principal_named("provider-a").await;
    assert_eq!(entries[2].actor.principal, provider_a.id.as_str());
    assert_eq!(entries[1].actor.principal, "");
    let own: Value = hub
        .client("provider-a")
        .get(hub.url("/api/v1/audit/entries?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own: Vec<&str> = own["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"].as_str().unwrap())
        .filter(|e| e.contains("tls.refused"))
        .collect();
    assert_eq!(own.len(), 1, "{own:?}");
    assert!(own[0].contains("\"expired\""), "{own:?}");

    // A flood from the same address: its share of the window, then counted only.
    let anonymous = hub.client_with(None);
    let flood = 30;
    for _ in 0..flood {
        refused(&hub, &anonymous).await;
    }
    wait_for(&hub, "tls.refused", PER_SOURCE as usize).await;
    // Give the writer time to write what it should not.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let entries = refusals(&hub, "tls.refused").await;
    assert_eq!(entries.len(), PER_SOURCE as usize);
    let unrecorded = flood - (PER_SOURCE as usize - 4);

    // The next window: the next refusal from that address carries the count.
    clock.advance(WINDOW + time::Duration::seconds(1));
    refused(&hub, &anonymous).await;
    let entries = wait_for(&hub, "tls.refused", PER_SOURCE as usize + 1).await;
    assert_eq!(
        entries.last().unwrap().reason,
        format!(
            "no client certificate; {unrecorded} earlier refusals from this source not recorded"
        )
    );

    // Counted refusals whose source does not come back go into a summary after a window.
    for _ in 0..PER_SOURCE + 3 {
        refused(&hub, &anonymous).await;
    }
    let recorded = wait_for(&hub, "tls.refused", 2 * PER_SOURCE as usize)
        .await
        .len();
    assert_eq!(recorded, 2 * PER_SOURCE as usize);
    clock.advance(WINDOW + time::Duration::seconds(1));
    // The writer closes one window (the source was seen in it), then the next, on its timer.
    tokio::time::sleep(Duration::from_secs(6)).await;
    clock.advance(WINDOW + time::Duration::seconds(1));
    let summary = wait_for(&hub, "tls.refused.unrecorded", 1).await;
    assert_eq!(summary.len(), 1);
    assert!(
        summary[0].reason.starts_with("4 refused TLS handshakes"),
        "{}",
        summary[0].reason
    );
    assert_eq!(summary[0].actor.principal, "hub");
    hub.shutdown().await;
}
