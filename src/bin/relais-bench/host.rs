//! The hub's CPU time and memory, from /proc, when it runs on this machine (`--hub-pid`).

/// CPU time (clock ticks) and memory (kB) of a local process.
#[derive(Debug, Clone, Copy)]
pub struct HubStats {
    cpu_ticks: u64,
    rss_kb: u64,
    hwm_kb: u64,
}

pub fn hub_stats(pid: u32) -> Option<HubStats> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let cpu_ticks = ticks(11)? + ticks(12)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(HubStats {
        cpu_ticks,
        rss_kb: status_kb(&status, "VmRSS:")?,
        hwm_kb: status_kb(&status, "VmHWM:")?,
    })
}

/// A `Name:  N kB` line of a /proc/PID/status text.
pub fn status_kb(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
}

/// The hub's CPU time since `before` and its memory now.
pub fn print_hub(pid: u32, before: Option<HubStats>) {
    match hub_stats(pid) {
        Some(after) => {
            if let Some(before) = before {
                // USER_HZ is 100 on Linux.
                let cpu = after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / 100.0;
                println!("hub cpu      {cpu:.2} s (user + system, during this run)");
            }
            println!(
                "hub memory   VmRSS {:.1} MB, VmHWM {:.1} MB",
                after.rss_kb as f64 / 1024.0,
                after.hwm_kb as f64 / 1024.0
            );
        }
        None => println!("hub          /proc/{pid} not readable"),
    }
}
