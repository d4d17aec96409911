//! `mirror`: watches a hub that pulls from a peer (hub B, `--peer-data`) until the policy
//! entry `--peer-entry` reports `--expect` objects in, then prints the time it took, the rate,
//! and the CPU time and memory of both hub processes (`--pid-a`, the peer served from; `--pid-b`,
//! the puller). It connects to nothing and starts nothing: it reads B's database through the
//! `relais` library (the same status as `relais federation status`), and /proc.
//!
//! The clock starts when the mode starts: start it, then have B load the policy
//! (`relais --data B federation reload`); B's supervisor notices within two seconds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use relais::config::Config;
use relais::services::federation::status::{PeerStatus, status};
use relais::services::federation::{read_policy, resolve};
use relais::store::SharedStore;
use time::OffsetDateTime;

use crate::Args;
use crate::host::status_kb;

/// CPU time (clock ticks) and memory (kB) of a local process.
#[derive(Debug, Clone, Copy, Default)]
struct Proc {
    ticks: u64,
    rss_kb: u64,
    hwm_kb: u64,
}

fn proc_stats(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: utime is field 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Proc {
        ticks: tick(11)? + tick(12)?,
        rss_kb: status_kb(&status, "VmRSS:")?,
        hwm_kb: status_kb(&status, "VmHWM:")?,
    })
}

/// One hub process being watched: its figures at the start, the last sample, the highest
/// VmRSS sampled.
struct Watched {
    label: &'static str,
    pid: u32,
    first: Proc,
    last: Proc,
    /// The last sample of the previous progress line.
    line: Proc,
    max_rss_kb: u64,
}

impl Watched {
    fn new(label: &'static str, pid: Option<u32>) -> Result<Option<Self>, String> {
        let Some(pid) = pid else { return Ok(None) };
        let now = proc_stats(pid).ok_or_else(|| format!("/proc/{pid} not readable"))?;
        Ok(Some(Self {
            label,
            pid,
            first: now,
            last: now,
            line: now,
            max_rss_kb: now.rss_kb,
        }))
    }

    fn sample(&mut self) {
        if let Some(now) = proc_stats(self.pid) {
            self.max_rss_kb = self.max_rss_kb.max(now.rss_kb);
            self.last = now;
        }
    }
}

/// USER_HZ is 100 on Linux.
fn cpu_secs(ticks: u64) -> f64 {
    ticks as f64 / 100.0
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The SQLite file of a `sqlite:` URL, as the store resolves it; `None` for another backend.
fn sqlite_file(url: &str, data_dir: &Path) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = PathBuf::from(rest);
    Some(if path.is_absolute() {
        path
    } else {
        data_dir.join(path)
    })
}

/// `FILE N MB (+ WAL M MB)` for a hub's SQLite database, from its data directory.
fn database_size(data_dir: &Path) -> Option<String> {
    let config = Config::load(&data_dir.join("relais.toml"), std::env::vars()).ok()?;
    let file = sqlite_file(&config.database.url, data_dir)?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = file.clone().into_os_string();
    wal.push("-wal");
    Some(format!(
        "{} {:.1} MB (+ WAL {:.1} MB)",
        file.display(),
        size(&file) as f64 / 1e6,
        size(Path::new(&wal)) as f64 / 1e6
    ))
}

/// B's database and policy, read as `relais federation status` reads them.
struct PeerView {
    store: SharedStore,
    policy_path: PathBuf,
    entry: String,
}

impl PeerView {
    async fn open(data_dir: &Path, entry: &str) -> Result<Self, String> {
        let config = Config::load(&data_dir.join("relais.toml"), std::env::vars())
            .map_err(|e| e.to_string())?;
        let store = relais::store::open(&config.database.url, data_dir, 1)
            .await
            .map_err(|e| format!("{}: {e}", data_dir.display()))?;
        Ok(Self {
            store,
            policy_path: config.resolve(data_dir, &config.policies.federation),
            entry: entry.to_owned(),
        })
    }

    /// The entry's status now. The policy is read again each time: it may be rewritten
    /// (and reloaded) while the mode watches.
    async fn status(&self) -> Result<PeerStatus, String> {
        let policy = read_policy(&self.policy_path).map_err(|e| e.to_string())?;
        let policy = resolve(self.store.as_ref(), policy)
            .await
            .map_err(|e| e.to_string())?;
        status(self.store.as_ref(), &policy, OffsetDateTime::now_utc())
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|p| p.name == self.entry)
            .ok_or_else(|| {
                format!(
                    "no entry {:?} in {}",
                    self.entry,
                    self.policy_path.display()
                )
            })
    }
}

pub async fn run(args: &Args) -> Result<(), String> {
    let (Some(data), Some(entry), Some(expect)) = (&args.peer_data, &args.peer_entry, args.expect)
    else {
        return Err("mirror needs --peer-data, --peer-entry and --expect".into());
    };
    let view = PeerView::open(data, entry).await?;
    let mut hubs: Vec<Watched> = [
        Watched::new("A", args.pid_a)?,
        Watched::new("B", args.pid_b)?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let started = Instant::now();
    let first = view.status().await?;
    let baseline = first.objects_in;
    println!(
        "mode         mirror (watching {} in {}, until {expect} objects in)",
        entry,
        data.display()
    );
    match &first.principal {
        Some(p) => println!("peer         {p}"),
        None => println!("peer         (not in the registry yet)"),
    }
    if baseline > 0 {
        println!("warning      {baseline} objects in already at the start");
    }
    let interval = Duration::from_millis(args.interval_ms.max(50));
    let every = Duration::from_secs(args.report_every.max(1));
    let give_up = Duration::from_secs(args.max_wait);
    println!(
        "progress     {:>8} {:>10} {:>10} {}",
        "t (s)",
        "objects",
        "objects/s",
        hubs.iter()
            .map(|h| format!("{0} RSS MB  {0} CPU %", h.label))
            .collect::<Vec<_>>()
            .join("  ")
    );
    let mut line_at = started;
    let mut line_objects = baseline;
    // When the first and the last objects were seen, for the rate of the pull itself.
    let mut first_seen: Option<(Duration, i64)> = None;
    let mut errors_seen = first.failures;
    let (done, last) = loop {
        tokio::time::sleep(interval).await;
        let now = view.status().await?;
        for h in &mut hubs {
            h.sample();
        }
        let t = started.elapsed();
        if first_seen.is_none() && now.objects_in > baseline {
            first_seen = Some((t, now.objects_in));
        }
        if now.failures > errors_seen {
            println!(
                "error        at {:.1} s, {} in a row: {} (next poll {})",
                t.as_secs_f64(),
                now.failures,
                now.last_error.as_deref().unwrap_or(""),
                now.next_poll
                    .map(|t| relais::domain::stix::stored::utc_timestamp(t, 0))
                    .unwrap_or_default()
            );
        }
        errors_seen = now.failures;
        let finished = now.objects_in - baseline >= i64::try_from(expect).unwrap_or(i64::MAX);
        if finished || line_at.elapsed() >= every {
            let span = line_at.elapsed().as_secs_f64().max(1e-9);
            let cpu: Vec<String> = hubs
                .iter_mut()
                .map(|h| {
                    let used = cpu_secs(h.last.ticks.saturating_sub(h.line.ticks));
                    h.line = h.last;
                    format!("{:>8.1}  {:>8.0}", mb(h.last.rss_kb), 100.0 * used / span)
                })
                .collect();
            println!(
                "progress     {:>8.1} {:>10} {:>10.0} {}",
                t.as_secs_f64(),
                now.objects_in,
                (now.objects_in - line_objects) as f64 / span,
                cpu.join("  ")
            );
            line_at = Instant::now();
            line_objects = now.objects_in;
        }
        if finished || t >= give_up {
            break (finished, now);
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let mirrored = last.objects_in - baseline;
    println!("duration     {elapsed:.2} s (from the start of the watch)");
    println!("objects      {mirrored} in, {} refused", last.refused_in);
    println!("rate         {:.1} objects/s", mirrored as f64 / elapsed);
    if let Some((t, n)) = first_seen {
        let span = elapsed - t.as_secs_f64();
        if span > 0.0 {
            println!(
                "pull rate    {:.1} objects/s (first page seen at {:.2} s)",
                (last.objects_in - n) as f64 / span,
                t.as_secs_f64()
            );
        }
    }
    for c in &last.cursors {
        println!(
            "cursor       {}: {} pages, added_after {}{}",
            c.collection,
            c.pages,
            c.added_after.as_deref().unwrap_or("(start)"),
            if c.next { " (inside a run)" } else { "" }
        );
    }
    if let Some(e) = &last.last_error {
        println!("last error   {e} ({} failures in a row)", last.failures);
    }
    for h in &hubs {
        println!(
            "hub {}        pid {}: cpu {:.1} s ({:.0} % of one core), VmRSS {:.1} MB now, \
             {:.1} MB at most while watched, VmHWM {:.1} MB (since the process started)",
            h.label,
            h.pid,
            cpu_secs(h.last.ticks.saturating_sub(h.first.ticks)),
            100.0 * cpu_secs(h.last.ticks.saturating_sub(h.first.ticks)) / elapsed,
            mb(h.last.rss_kb),
            mb(h.max_rss_kb),
            mb(h.last.hwm_kb)
        );
    }
    if let Some(size) = database_size(data) {
        println!("database B   {size}");
    }
    if args.data.join("relais.toml").is_file()
        && let Some(size) = database_size(&args.data)
    {
        println!("database A   {size}");
    }
    view.store.close().await;
    if done {
        Ok(())
    } else {
        Err(format!(
            "gave up after {} s with {mirrored} of {expect} objects in",
            args.max_wait
        ))
    }
}
