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
    let mut out = format!("data directory ready: {}\n", ctx.data_dir.display());
    credentials_text(&mut out, &prepared);
    emit(&out);
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

    // Handlers are installed before the first screen: a supervisor (or a test) that reads the
    // screen and sends SIGTERM at once must get a graceful stop, not the default kill.
    let shutdown = CancellationToken::new();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|source| CliError::Io {
        path: "SIGTERM handler".into(),
        source,
    })?;
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        trigger.cancel();
    });

    emit(&first_screen(&ctx, &hub, &prepared));
    hub.run(shutdown).await;
    Ok(())
}

/// `writeln!` into a `String`, which cannot fail.
macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// Writes to stdout, ignoring a closed stdout: a hub started by a supervisor that stopped
/// reading its output must keep serving, not panic on a broken pipe.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn credentials_text(out: &mut String, prepared: &Prepared) {
    if prepared.demo.is_empty() {
        return;
    }
    line!(
        out,
        "demo certificates (PKCS#12 files have an empty password):"
    );
    for (principal, files) in &prepared.demo {
        line!(
            out,
            "  {:<14} {:<9} {}  {}  {}",
            principal.name,
            principal.kind.as_str(),
            files.cert.display(),
            files.key.display(),
            files.p12.display()
        );
    }
}

fn first_screen(ctx: &Context, hub: &Hub, prepared: &Prepared) -> String {
    let mut out = String::new();
    let main = hub.main_addr();
    let public = hub.public_addr();
    out.push('\n');
    line!(out, "relais {} is serving", env!("CARGO_PKG_VERSION"));
    line!(
        out,
        "  main listener (client certificate required)  https://{main}"
    );
    line!(
        out,
        "  public listener                              https://{public}/health"
    );
    line!(
        out,
        "  provider directory (public)                  https://{public}/directory"
    );
    line!(
        out,
        "  data directory                               {}",
        ctx.data_dir.display()
    );
    line!(
        out,
        "  CA certificate                               {}",
        prepared.ca_cert.display()
    );
    if prepared.created_ca {
        line!(
            out,
            "  (a development CA and demo principals were created on this first run)"
        );
    }
    out.push('\n');
    credentials_text(&mut out, prepared);
    if let Some((_, files)) = prepared.demo.first() {
        out.push('\n');
        line!(out, "Try it:");
        line!(
            out,
            "  curl --cacert {} --cert {} --key {} https://{main}/api/v1/whoami",
            prepared.ca_cert.display(),
            files.cert.display(),
            files.key.display()
        );
    }
    out.push('\n');
    line!(
        out,
        "Issue a certificate:  relais pki issue --kind provider --org \"Provider A (demo)\" --name soc-tool"
    );
    line!(out, "Stop with ctrl-c.");
    out.push('\n');
    out
}
