//! `relais serve` and `relais init`.

use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::CliError;
use super::context::Context;
use crate::app::Hub;
use crate::clock::{Clock, SystemClock};
use crate::services::bootstrap::{self, Prepared};

pub async fn init(data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let ctx = Context::load(data, config, true)?;
    crate::telemetry::init(&ctx.config.log);
    let store = ctx.open_store().await?;
    let prepared = bootstrap::prepare(
        &ctx.data_dir,
        &ctx.config,
        store.as_ref(),
        SystemClock.now(),
    )
    .await?;
    store.close().await;
    println!("data directory ready: {}", ctx.data_dir.display());
    print_credentials(&prepared);
    Ok(())
}

pub async fn serve(data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let ctx = Context::load(data, config, true)?;
    crate::telemetry::init(&ctx.config.log);
    let clock = Arc::new(SystemClock);
    let store = ctx.open_store().await?;
    tracing::info!(backend = store.backend().as_str(), "database ready");
    let prepared =
        bootstrap::prepare(&ctx.data_dir, &ctx.config, store.as_ref(), clock.now()).await?;
    let hub = Hub::build(&ctx.config, &ctx.data_dir, store, clock).await?;
    print_first_screen(&ctx, &hub, &prepared);

    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        trigger.cancel();
    });
    hub.run(shutdown).await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}

fn print_credentials(prepared: &Prepared) {
    if prepared.demo.is_empty() {
        return;
    }
    println!("demo certificates (PKCS#12 files have an empty password):");
    for (principal, files) in &prepared.demo {
        println!(
            "  {:<14} {:<9} {}  {}  {}",
            principal.name,
            principal.kind.as_str(),
            files.cert.display(),
            files.key.display(),
            files.p12.display()
        );
    }
}

fn print_first_screen(ctx: &Context, hub: &Hub, prepared: &Prepared) {
    let main = hub.main_addr();
    let public = hub.public_addr();
    println!();
    println!("relais {} is serving", env!("CARGO_PKG_VERSION"));
    println!("  main listener (client certificate required)  https://{main}");
    println!("  public listener                              https://{public}/health");
    println!(
        "  data directory                               {}",
        ctx.data_dir.display()
    );
    println!(
        "  CA certificate                               {}",
        prepared.ca_cert.display()
    );
    if prepared.created_ca {
        println!("  (a development CA and demo principals were created on this first run)");
    }
    println!();
    print_credentials(prepared);
    if let Some((_, files)) = prepared.demo.first() {
        println!();
        println!("Try it:");
        println!(
            "  curl --cacert {} --cert {} --key {} https://{main}/api/v1/whoami",
            prepared.ca_cert.display(),
            files.cert.display(),
            files.key.display()
        );
    }
    println!();
    println!(
        "Issue a certificate:  relais pki issue --kind provider --org \"Provider C\" --name soc-tool"
    );
    println!("Stop with ctrl-c.");
    println!();
}
