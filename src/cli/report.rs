//! `relais report annual YEAR --out FILE`: the CSIRT's annual statistics, computed on the
//! hub's host from its database, for the annual meeting with the providers (art. 3).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use super::context::{CliError, Context};
use crate::clock::{Clock, SystemClock};
use crate::domain::reports::statistics::Audience;
use crate::services::reports::{StatisticsFormat, annual, render};

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The annual statistics of YEAR as an HTML page with charts, CSV or JSON (by --format,
    /// else by the file's extension).
    Annual(AnnualArgs),
}

#[derive(Debug, Args)]
pub struct AnnualArgs {
    /// The calendar year (the hub's time zone).
    pub year: i32,
    /// Where to write the report.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// `providers`: the aggregates-only form shown to providers.
    #[arg(long, value_enum, default_value = "csirt")]
    pub audience: AudienceArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Json,
    Csv,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AudienceArg {
    Csirt,
    Providers,
}

pub async fn run(cmd: ReportCommand, data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let ReportCommand::Annual(args) = cmd;
    let format = match args.format {
        Some(FormatArg::Json) => StatisticsFormat::Json,
        Some(FormatArg::Csv) => StatisticsFormat::Csv,
        Some(FormatArg::Html) => StatisticsFormat::Html,
        None => StatisticsFormat::of_path(&args.out).ok_or_else(|| {
            CliError::Usage(format!(
                "{}: say --format json|csv|html, or name the file .json, .csv or .html",
                args.out.display()
            ))
        })?,
    };
    let audience = match args.audience {
        AudienceArg::Csirt => Audience::Csirt,
        AudienceArg::Providers => Audience::Providers,
    };
    let ctx = Context::load(data, config, false)?;
    let store = ctx.open_store().await?;
    let now = SystemClock.now();
    // Drawn on standard error, and only on a terminal: a script's output stays clean.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} cases")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("annual statistics {}", args.year));
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let stats = annual(
        store.as_ref(),
        ctx.config.statistics.min_group,
        args.year,
        audience,
        now,
        &progress,
    )
    .await;
    store.close().await;
    bar.finish_and_clear();
    let stats = stats.map_err(|e| CliError::Usage(e.to_string()))?;
    let text = render(&stats, format, &ctx.config.hub.organisation, now)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    std::fs::write(&args.out, text).map_err(|source| CliError::Io {
        path: args.out.clone(),
        source,
    })?;
    println!(
        "{}: {} missions, {} beneficiaries ({})",
        args.out.display(),
        stats.missions,
        stats.beneficiaries,
        match audience {
            Audience::Csirt => "for the CSIRT",
            Audience::Providers => "for the providers",
        }
    );
    Ok(())
}
