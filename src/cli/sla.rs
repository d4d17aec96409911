//! `relais sla due`: when an alert's take-in delay runs out, on a calendar of the hub, for
//! people checking a case and for scripts. Read from the data directory's `policies/` if there
//! is one, else from the policies shipped with relais.

use std::path::Path;

use clap::{Args, Subcommand};
use time::format_description::well_known::Rfc3339;

use super::context::{CliError, Context};
use crate::domain::sla::calendar::{Calendar, SHIPPED_REUNION};
use crate::domain::sla::levels::{Coverage, Level, counting};
use crate::domain::sla::policy::{SHIPPED, SlaPolicy, valid_calendar_name};
use crate::domain::sla::timer::Timer;

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Prints the due time of an alert: local time (`YYYY-MM-DD HH:MM` and the zone) on the
    /// first line, UTC (RFC 3339) on the second.
    Due(DueArgs),
}

#[derive(Debug, Args)]
pub struct DueArgs {
    /// A calendar of policies/calendars/ (its file name without .toml) [default: the
    /// `default_calendar` of policies/sla.toml].
    #[arg(long)]
    pub calendar: Option<String>,
    /// 1 (low) to 4 (critical).
    #[arg(long)]
    pub level: u8,
    /// When the alert was detected, in the calendar's local time: YYYY-MM-DDTHH:MM.
    #[arg(long)]
    pub at: String,
    /// `business-hours` (default) or `24x7`.
    #[arg(long, default_value = "business-hours")]
    pub coverage: String,
    /// Print one JSON object instead.
    #[arg(long)]
    pub json: bool,
}

fn read(path: &Path) -> Result<Option<String>, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CliError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

pub async fn run(cmd: SlaCommand, data: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let SlaCommand::Due(args) = cmd;
    let level = Level::try_from(args.level).map_err(CliError::Usage)?;
    let coverage: Coverage = args.coverage.parse().map_err(CliError::Usage)?;
    let (policy_text, dirs) = if data.is_dir() {
        let ctx = Context::load(data, config, false)?;
        let policy = ctx.config.resolve(data, &ctx.config.policies.sla);
        let dir = ctx.config.resolve(data, &ctx.config.policies.calendars);
        (read(&policy)?, Some(dir))
    } else {
        (None, None)
    };
    let policy = SlaPolicy::parse(policy_text.as_deref().unwrap_or(SHIPPED))
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let name = args.calendar.unwrap_or(policy.default_calendar.clone());
    if !valid_calendar_name(&name) {
        return Err(CliError::Usage(format!(
            "--calendar {name:?} is not a calendar name"
        )));
    }
    let calendar_text = match &dirs {
        Some(dir) => read(&dir.join(format!("{name}.toml")))?,
        None => None,
    };
    let calendar_text = match calendar_text {
        Some(t) => t,
        None if name == "reunion" => SHIPPED_REUNION.to_owned(),
        None => {
            return Err(CliError::Usage(format!(
                "no calendar {name:?} in policies/calendars/"
            )));
        }
    };
    let calendar =
        Calendar::parse(&name, &calendar_text).map_err(|e| CliError::Usage(e.to_string()))?;
    let start = calendar
        .parse_local(&args.at)
        .map_err(|e| CliError::Usage(format!("--at: {e}")))?;
    let delay = policy.delays.of(level);
    let timer = Timer::start(start, delay);
    let due = timer
        .read(counting(level, coverage, &calendar), start)
        .map_err(|e| CliError::Usage(e.to_string()))?
        .due
        .ok_or_else(|| CliError::Usage("no due time".to_owned()))?;
    let utc = due
        .format(&Rfc3339)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if args.json {
        let value = serde_json::json!({
            "calendar": calendar.name(),
            "time_zone": calendar.zone(),
            "level": level.number(),
            "coverage": coverage.as_str(),
            "delay_minutes": delay.whole_minutes(),
            "detected_local": calendar.local_text(start),
            "due_local": calendar.local_text(due),
            "due_utc": utc,
        });
        println!("{value}");
    } else {
        println!("{} {}", calendar.local_text(due), calendar.zone());
        println!("{utc}");
    }
    Ok(())
}
