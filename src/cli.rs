//! Every command-line definition, in one place. Help text lives in the doc comments; man pages and
//! shell completions are generated from these definitions (see `tests/man.rs`).

use crate::render::{Format, Range};
use crate::units::{Duration, Size};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  toolkit check                          one line per check, worst first
  toolkit zombies                        who is not reaping their children, and what to restart
  toolkit --root fixtures/fakeroot zombies --format json
  toolkit check --format nagios          for Nagios/Icinga (exit 0/1/2/3)

Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage error, unreadable input).";

/// Remediation toolkit for shared hosting servers: mail queues, zombies, memory.
///
/// Finds the problem, explains it in a few lines, and fixes it safely or says exactly how. Every
/// command also runs against a fake root (--root DIR), where nothing is signalled and no program is run.
#[derive(Debug, Parser)]
#[command(name = "toolkit", version, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Treat DIR as `/`: read proc, etc, home/virtual and var/spool under it
    #[arg(
        long,
        global = true,
        env = "TOOLKIT_ROOT",
        value_name = "DIR",
        default_value = "/"
    )]
    pub root: PathBuf,
    /// The root came from TOOLKIT_ROOT (not --root): errors about it name the variable.
    #[arg(skip)]
    pub root_from_env: bool,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
    pub format: Format,
    /// Shorthand for --format json
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,
    /// Write the document to FILE instead of stdout: to a temp file beside it, renamed over FILE, so a
    /// reader (node_exporter's textfile collector) never sees half a file; on failure the failure
    /// document (e.g. `toolkit_up 0`) is what lands
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colour in text output (auto: only when stdout is a terminal, NO_COLOR is unset and TERM is not dumb)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// No progress bar or spinner
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Apply changes without asking for confirmation
    #[arg(long, global = true)]
    pub yes: bool,
    /// Show what would be changed, change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Zombies(ZombiesArgs),
    Mem(MemArgs),
    Mqueue(MqueueArgs),
    // Boxed: every check's thresholds make the arguments large.
    Check(Box<CheckArgs>),
}

const ZOMBIES_EXAMPLES: &str = "\
Examples:
  toolkit zombies                      zombies by parent, D-state and traced processes
  toolkit zombies --min-age 10m        ignore zombies younger than 10 minutes
  toolkit zombies --reap               resume stopped parents, nudge those with a handler
  toolkit zombies --restart            then restart services or end parents, each confirmed
  toolkit zombies --format nagios -w 5 -c 100";

const ZOMBIES_JSON: &str = "\
JSON fields (--format json):
  status            OK, WARNING, CRITICAL or UNKNOWN
  zombies           zombies at least --min-age old (the thresholds apply to it)
  transient         younger zombies, only counted
  oldest_age        seconds; min_age, warning, critical: the options in force
  host              {systemd, init_evidence, runtime}: systemd is the init
                    (run/systemd/system and PID 1), the root's container runtime
  parents[]         pid, comm, cmdline, state, started (Unix s), zombie_count,
                    oldest_age, zombies[] {pid, comm, age, started}, cgroup,
                    service {manager, name, restart, main_pid, kill_mode,
                    restart_removes_parent}, adopter {pid, comm, role, why,
                    reaps, evidence}, diagnosis[] {code, likely, evidence,
                    text}, suggestions[] {kind, command, note, clears},
                    gentlest first
  dstate[]          pid, ppid, comm, state, age, wchan
  traced[]          pid, comm, state, tracer, tracer_comm
  processes         processes read; skipped {count, unreadable, first[] {path,
                    reason}, vanished, reader}: anything unreadable (hidepid
                    included) makes the status UNKNOWN unless CRITICAL
  With --reap/--restart: {status, dry_run, fake_root, before, actions[] {pid,
  comm, action, command, outcome, detail, zombies_before, zombies_cleared,
  remaining[] {pid, zombies}}, after}; action is continue, nudge, restart or
  end_parent; outcome is done, would_do, declined, skipped, no_effect, failed.
Adopter: who inherits the zombies if the parent ends: the nearest child
  subreaper ancestor (a known one, or one holding a reparented process), else
  PID 1 of its namespace; role init, container_init or subreaper; reaps yes,
  likely, unknown or no (no: zombies at least --min-age old already under it).
Diagnosis codes: handler_not_reaping, never_waits, sigchld_ignored,
  sigchld_blocked, stopped, uninterruptible, traced, parent_zombie, subreaper,
  init_not_reaping, pid1_not_init, parent_gone, parent_unreadable; likely:
  inferred from signal masks and ages, with the evidence.
Suggestion kinds: continue, detach, nudge (only for a SIGCHLD handler),
  restart, kill, reexec, init, wait; clears: yes, likely, maybe or no.
D state: the kernel does not record since when a task sleeps; listed are the
  processes in D when read that have lived at least --min-age.";

/// Zombie processes grouped by the parent that is not reaping them, why, and what to restart.
///
/// For each parent: pid, command, state, zombie count and oldest age, the owning service, who would
/// adopt its zombies and whether that one reaps, a diagnosis ("likely" when inferred), and suggestions
/// gentlest first (resume, SIGCHLD nudge, service restart, ending the parent).
/// Also lists processes in uninterruptible sleep (D) and traced processes. --reap and --restart
/// re-check each parent's identity (pid and start time) before signalling; PID 1 is never sent
/// anything but SIGCHLD; under a fake root nothing is signalled or run.
#[derive(Debug, Args)]
#[command(after_help = ZOMBIES_EXAMPLES, after_long_help = format!("{ZOMBIES_EXAMPLES}\n\n{ZOMBIES_JSON}"))]
pub struct ZombiesArgs {
    /// Zombies younger than this are only counted, as transient
    #[arg(
        allow_hyphen_values = true,
        long,
        default_value = "60s",
        value_name = "DURATION"
    )]
    pub min_age: Duration,
    /// Only zombies of this parent
    #[arg(long, value_name = "PID")]
    pub parent: Option<i32>,
    /// Show the D-state and traced sections even when empty
    #[arg(long)]
    pub all: bool,
    /// Gentle steps: resume stopped parents, then send SIGCHLD to those with a handler; after
    /// each, re-read and report which zombies were cleared
    #[arg(long)]
    pub reap: bool,
    /// After the gentle steps, offer (each confirmed) to restart the owning service of each parent
    /// still holding zombies, or to end the parent alone where a restart would leave it running
    #[arg(long)]
    pub restart: bool,
    #[command(flatten)]
    pub thresholds: ZombieThresholds,
}

#[derive(Debug, Args, Clone)]
pub struct ZombieThresholds {
    /// Warning range on the number of zombies at least --min-age old (Nagios range syntax)
    #[arg(
        short = 'w',
        long = "warning",
        default_value = "0",
        value_name = "RANGE"
    )]
    pub warning: Range,
    /// Critical range on the number of zombies at least --min-age old
    #[arg(
        short = 'c',
        long = "critical",
        default_value = "49",
        value_name = "RANGE"
    )]
    pub critical: Range,
}

const MEM_EXAMPLES: &str = "\
Examples:
  toolkit mem verdict                  is memory healthy, who is eating it, what to do
  toolkit mem verdict --interval 5s    measure swapping over five seconds
  toolkit mem verdict --interval 0     one reading (PSI stands in for the rates)
  toolkit mem verdict --format nagios -w 15: -c 5:
  toolkit mem record                   append one sample to the history (run it from cron)
  toolkit mem record --every 10s --for 1h
  toolkit mem report --svg mem.svg     the history as charts, in the terminal and as SVG
  toolkit mem fence 31048 --dry-run    how the leaker would be fenced in on this host";

/// Memory and swap: a verdict that explains itself.
#[derive(Debug, Args)]
#[command(after_help = MEM_EXAMPLES)]
pub struct MemArgs {
    #[command(subcommand)]
    pub command: MemCommand,
}

#[derive(Debug, Subcommand)]
pub enum MemCommand {
    // Boxed: the thresholds make the arguments large, and `Command` holds every command's.
    Verdict(Box<MemVerdictArgs>),
    Record(MemRecordArgs),
    Report(MemReportArgs),
    Fence(MemFenceArgs),
}

const MEM_FENCE_EXAMPLES: &str = "\
Examples:
  toolkit mem fence 31048 --dry-run        the plan for this host, changing nothing
  toolkit mem fence 31048                  show the plan, ask, apply
  toolkit mem fence 31048 --max 3G --yes   a hard limit of 3 GiB, without asking
  toolkit mem fence 31048 --undo           lift it again (restores the previous limits)";

/// Fences a process in with a memory limit, on whatever kind of host this is.
///
/// The memory controller is found from the mount table and the process's cgroup file: a systemd
/// unit gets `systemctl set-property UNIT MemoryHigh= MemoryMax=` (cgroup v1: MemoryLimit=), a
/// systemd scope the same with --runtime, any other process a cgroup of its own
/// (toolkit-fence-PID, at the top of the v2 hierarchy or of the v1 memory hierarchy, with
/// memory.high/memory.max, or memory.soft_limit_in_bytes/memory.limit_in_bytes and
/// memory.memsw.limit_in_bytes when swap is accounted) into which the pid is moved; without any
/// memory controller, `prlimit --as` caps its address space. Limits default to its resident size
/// (the whole unit's or scope's usage when the limit covers them) rounded up to 64 MiB, and a
/// quarter more for the hard limit. Shows the plan, asks (or --yes, --dry-run), checks the pid's
/// start time again, records the inverse steps and journals every file's old content under
/// ROOT/var/lib/toolkit/mem-fence, then applies; a second run changes nothing. Under a fake root
/// no program runs: the cgroup files under the root are written as the kernel or systemd would.
/// JSON: status, pid, undo, dry_run, fake_root, declined, fence (as in mem verdict), steps[]
/// (command, outcome, note), record, note.
#[derive(Debug, Args)]
#[command(after_help = MEM_FENCE_EXAMPLES)]
pub struct MemFenceArgs {
    /// The process to fence in
    pub pid: i32,
    /// Soft limit: above it the kernel reclaims from the process, slowing it (MemoryHigh)
    #[arg(long, value_name = "SIZE")]
    pub high: Option<Size>,
    /// Hard limit: above it the OOM killer acts inside the fence only (MemoryMax)
    #[arg(long, value_name = "SIZE")]
    pub max: Option<Size>,
    /// Lift the fences recorded for PID, restoring the previous limits and cgroup
    #[arg(long, conflicts_with_all = ["high", "max"])]
    pub undo: bool,
}

/// Appends samples of the system memory and of the largest processes to the history file.
///
/// Without --every or --for, one sample and exit: run it from cron (say every minute) to build the
/// history that `mem verdict` judges leaks from. Each sample is one JSON line: t (Unix seconds),
/// host (hostname, boot, boot_id), mem (total, used, free, buffers, cache, available, swap_total,
/// swap_used), oom_kills, procs[] (pid, start, comm, rss, anon, vsize, swap, major_faults) for the
/// 50 largest processes by resident size. Each time the file grows past another MiB, samples older
/// than an hour are consolidated (one a minute up to six hours back, one per ten minutes before:
/// n, dt, means in mem, minima and maxima in mem_lo and mem_hi, and the 12 largest processes in p[]
/// as [pid, start, comm, rss, rss_min, rss_max, anon, vsize, swap, major_faults, floor, peak], floor
/// and peak being the min and max of anon + swap), so that a month fits in 16 MiB; past 16 MiB the
/// oldest lines are pruned. Writers lock FILE.lock, so concurrent recorders never interleave.
/// Reports what it recorded in every format (JSON: status, path, samples, processes, last, bytes);
/// in text, --quiet prints nothing (the cron form).
#[derive(Debug, Args)]
#[command(after_help = MEM_EXAMPLES)]
pub struct MemRecordArgs {
    /// Sample every DURATION (default 10s when only --for is given)
    #[arg(allow_hyphen_values = true, long, value_name = "DURATION")]
    pub every: Option<Duration>,
    /// Stop after DURATION (without it, --every samples until killed)
    #[arg(allow_hyphen_values = true, long = "for", value_name = "DURATION")]
    pub for_: Option<Duration>,
    /// History file [default: ROOT/var/lib/toolkit/mem-history.jsonl]
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

/// Draws the recorded history: memory used, used minus buffers/cache and swap used over time, and
/// RSS and VSIZE for each process that went above 10% of RAM.
///
/// Charts fit 80 columns. Lines from another host or boot, garbage and torn lines are skipped and
/// counted. JSON fields: status, path, samples, from, to, hostname, skipped (malformed, other_run,
/// out_of_order), latest, leaks[] (pid, start, comm, rate, rate_low, rate_high, rising,
/// largest_step, samples, windows, span, first, last), grew[] (pid, start, comm, grew, until,
/// flat_for, first, last), forecast, charts[] (title, points[[t, bytes]], ceiling), svg.
#[derive(Debug, Args)]
#[command(after_help = MEM_EXAMPLES)]
pub struct MemReportArgs {
    /// History file [default: ROOT/var/lib/toolkit/mem-history.jsonl]
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Also write the charts as an SVG document to FILE (`-`: the SVG alone, on stdout)
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

/// OK, WARNING or CRITICAL for memory and swap, with the reasons, the top consumers and what to do.
///
/// Figures as `free` computes them (used = total - available), the share of application memory,
/// swap use and activity, page scanning, pressure (PSI), overcommit, unreclaimable slab and OOM
/// kills. Each reason names its figure and threshold. Thresholds are Nagios ranges: `10:` alerts
/// below 10, `40` alerts above 40. With a history recorded by `mem record`, a process whose memory
/// grows steadily is a leak suspect: the lowest point of its anonymous + swapped memory in each of
/// 24 windows (a garbage collector's floor) rising by a Theil-Sen slope whose 95% confidence bound
/// is above zero, in several rises (not one jump), and still rising in the last third (else it
/// "grew" and stopped, which is shown but not a leak). A leak suspect is a warning or
/// critical when available memory would run out within --leak-warn or --leak-crit, and OOM kills
/// since the last recorded sample are a warning. Under a fake root nothing is waited for: rates come from an earlier
/// snapshot in ROOT/proc.before (vmstat, uptime and PID directories) when there is one.
///
/// JSON fields (sizes in bytes, rates per second, shares in percent): status, headline, reasons[]
/// (code, status, value, threshold, short, text), not_judged[], memory (total, used, free, shared,
/// buffers, cache, available, available_source, available_percent, application,
/// application_percent, swap_total, swap_used, swap_used_percent, committed, commit_limit,
/// commit_percent, slab, slab_unreclaimable, unreclaimable_percent), rates (seconds, swap_in,
/// swap_out, pages_scanned, major_faults, oom_kills; null for one reading), psi (some_avg10,
/// some_avg60, full_avg10, full_avg60; null without PSI), oom_kills_since_boot, processes, top[]
/// (pid, comm, rss, anon, vsize, peak, swap, major_faults, uid, cgroup, ram_percent, growth),
/// groups[] (by: command, user or cgroup; name, count, rss, anon, swap, ram_percent, largest),
/// group_fence (by, name, count, rss, ram_percent, unit, memory_high, memory_max, command, undo,
/// note; when memory is short, no single process is the culprit and one group is), swapping[],
/// slab_caches[] (name, bytes, objects, object_size), slab_caches_unreadable, fence (pid, comm,
/// rss, swap, sized_from, memory_high, memory_max, method: systemd-unit, systemd-scope,
/// cgroup-v2, cgroup-v1 or prlimit, unit, controller (version, mount, swap_accounting,
/// procs_file, subtree_memory), cgroup, commands[], steps[], next_run, undo[], note), skipped,
/// history (path, samples, readings, span, skipped, leaks[] (pid, start, comm, rate, rate_low, rate_high,
/// rising, largest_step, samples, windows, span, first, last), grew[], forecast,
/// oom_kills_since_last_sample, note; null without a history file).
#[derive(Debug, Args)]
#[command(after_help = MEM_EXAMPLES)]
pub struct MemVerdictArgs {
    /// Time between the two readings for swap, scan and fault rates and process growth (0: one reading)
    #[arg(
        allow_hyphen_values = true,
        long,
        default_value = "1s",
        value_name = "DURATION"
    )]
    pub interval: Duration,
    /// How many of the largest processes to list (every process above 10% of RAM is listed anyway)
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// History recorded by `mem record` [default: ROOT/var/lib/toolkit/mem-history.jsonl; none is fine]
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Warn when a leak suspect would exhaust available memory within DURATION
    #[arg(
        allow_hyphen_values = true,
        long,
        default_value = "24h",
        value_name = "DURATION"
    )]
    pub leak_warn: Duration,
    /// Critical when a leak suspect would exhaust available memory within DURATION
    #[arg(
        allow_hyphen_values = true,
        long,
        default_value = "4h",
        value_name = "DURATION"
    )]
    pub leak_crit: Duration,
    #[command(flatten)]
    pub thresholds: MemThresholds,
}

#[derive(Debug, Args, Clone)]
pub struct MemThresholds {
    /// Warning range on available memory, percent of RAM
    #[arg(
        short = 'w',
        long = "warning",
        default_value = "20:",
        value_name = "RANGE"
    )]
    pub available_warning: Range,
    /// Critical range on available memory, percent of RAM
    #[arg(
        short = 'c',
        long = "critical",
        default_value = "10:",
        value_name = "RANGE"
    )]
    pub available_critical: Range,
    /// Warning range on pages swapped out per second over the interval
    #[arg(long, default_value = "0", value_name = "RANGE")]
    pub swap_out_warning: Range,
    /// Critical range on pages swapped out per second over the interval
    #[arg(long, default_value = "10", value_name = "RANGE")]
    pub swap_out_critical: Range,
    /// Warning range on PSI memory full avg10, percent
    #[arg(long, default_value = "10", value_name = "RANGE")]
    pub psi_warning: Range,
    /// Critical range on PSI memory full avg10, percent
    #[arg(long, default_value = "40", value_name = "RANGE")]
    pub psi_critical: Range,
    /// Warning range on swap used, percent of swap
    #[arg(long, default_value = "80", value_name = "RANGE")]
    pub swap_used_warning: Range,
    /// Warning range on unreclaimable slab (SUnreclaim), percent of RAM
    #[arg(long, default_value = "10", value_name = "RANGE")]
    pub unreclaimable_warning: Range,
    /// Warning range on Committed_AS, percent of CommitLimit
    #[arg(long, default_value = "100", value_name = "RANGE")]
    pub commit_warning: Range,
}

const MQUEUE_EXAMPLES: &str = "\
Examples:
  toolkit mqueue scan                  every site's queue, oversized mail, quota binding
  toolkit mqueue scan --min 10M --top 5
  toolkit mqueue scan --site example.com --site admin12
  toolkit mqueue scan --spool '/var/spool/mqueue*' --spool-only
  toolkit mqueue scan --spool /var/spool/exim --spool-only   one Exim spool, per account
  toolkit mqueue scan --format nagios -w 2G -c 20G";

/// Mail queues: sendmail's per site (how big, what is oversized and why it is stuck, whether queued
/// mail counts against the site's quota), Exim's and Postfix's per hosting account.
#[derive(Debug, Args)]
#[command(after_help = MQUEUE_EXAMPLES)]
pub struct MqueueArgs {
    #[command(subcommand)]
    pub command: MqueueCommand,
}

#[derive(Debug, Subcommand)]
pub enum MqueueCommand {
    Scan(MqueueScanArgs),
    Fix(MqueueFixArgs),
    Purge(MqueuePurgeArgs),
}

/// Every queue's size, its oversized mail and why it is stuck, and whether it counts against the
/// site's quota.
///
/// Finds every queue (each site's fst/var/spool/mqueue, the host's var/spool/mqueue and
/// var/spool/clientmqueue) and reports, per queue: messages, apparent and on-disk bytes, oversized
/// messages, files not charged to the site's quota, anomalies, and whether the queue is bound to the
/// site's quota (directory group, setgid, DefaultUser) with the `mqueue fix` command to run if not.
/// Oversized messages are listed largest first, identical copies grouped, with their last delivery
/// status classified. Symlinks inside a site are reported, never followed.
///
/// Exim's spool (var/spool/exim4, or var/spool/exim on cPanel and DirectAdmin; split or not) and
/// Postfix's queue (var/spool/postfix) are read too, each message charged to a hosting account: by the
/// uid that submitted it, else by its sender's domain in the panel's maps (cPanel etc/userdomains and
/// etc/trueuserdomains, DirectAdmin etc/virtual/domainowners, Plesk var/www/vhosts), with the reason.
/// Per account: messages, bytes, oversized, oldest, frozen or held, mail queued by the account's own
/// scripts, delivery status classified (from Exim's msglog, Postfix's defer and bounce logs).
///
/// The exit status judges the largest queue's (or account's) apparent size against -w/-c. Ages are taken from the
/// clock on the live system; under a fake root from its proc/stat and proc/uptime, else from the
/// newest queue file.
///
/// JSON fields: status, now {unix, source}, min_bytes, top, warning, critical, totals {queues, messages,
/// bytes, disk_bytes, oversized, oversized_bytes, unbound_sites}, queues[] {label, name, site {name,
/// domains, admin, uid, gid, login, admin_sources, refused, notes}, path, state (ok, missing, symlink, unreadable), problem,
/// messages, files, bytes, disk_bytes, oversized, oversized_bytes, foreign_files, foreign_bytes,
/// oldest, oldest_age, anomalies {df_without_qf, df_without_qf_bytes, lost_qf, quarantined,
/// other_files}, stale_tf, subdirs, symlinks, matching_incomplete, binding {bound, owner, mode, setgid, world_writable,
/// default_user, default_user_file, reasons, fix}}, oversized[] {queue, site_domain, count, size,
/// bytes, sender, subject, ids, created, age, owners, recipient_count, recipients, attempts,
/// status_class (over_quota, unknown_user, host_unknown, refused_or_timeout, other, none), status,
/// quarantine,
/// classes, damaged, problem}, oversized_not_listed, skipped {count, unreadable, first[] {path,
/// reason}, vanished, reader}. Sizes in bytes, times in Unix seconds, ages in seconds. A queue or site
/// tree that cannot be opened is unreadable: the status is then UNKNOWN unless what was read is
/// already CRITICAL (the reason names the path and the reader). recipient_count and recipients are
/// the distinct recipients of all the copies in a group (the first five listed). Names from outside
/// (ids, senders, subjects, recipients) are the exact text, with bytes that are not UTF-8 as the text
/// \xNN. On Exim/Postfix hosts also mta {status, panels, spools[] {mta, path, state, problem,
/// messages, bytes, disk_bytes, damaged, other_files, being_written, symlinks}, totals {messages,
/// bytes, disk_bytes, oversized, oversized_bytes, accounts}, accounts[] {account, attributed, mtas,
/// messages, bytes, file_bytes, disk_bytes, oversized, oversized_bytes, oldest, oldest_age, held,
/// by_scripts, by_scripts_bytes, classes, reasons[] {reason, messages}, damaged}, oversized[] (as
/// above, queue = the account), oversized_not_listed, unreadable}.
#[derive(Debug, Args)]
#[command(after_help = MQUEUE_EXAMPLES)]
pub struct MqueueScanArgs {
    /// Messages at least this large are oversized (20M = 20 MiB, 20MB = 20,000,000 bytes)
    #[arg(
        allow_hyphen_values = true,
        long,
        default_value = "20M",
        value_name = "SIZE"
    )]
    pub min: Size,
    /// How many oversized messages (groups of identical copies count once) to list, and queues to
    /// show in text
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// Only this site: siteN, one of its domains or its adminN user (repeatable; host queues are skipped)
    #[arg(long, value_name = "SITE")]
    pub site: Vec<String>,
    /// Also scan this queue directory under the root, or every directory matching a glob (* and ?):
    /// a sendmail queue, an Exim spool (holding input/) or a Postfix queue (holding maildrop/ or
    /// deferred/) (repeatable)
    #[arg(long, value_name = "PATH_OR_GLOB")]
    pub spool: Vec<String>,
    /// Scan only the --spool queues, instead of adding them to the site and host queues
    #[arg(long, requires = "spool")]
    pub spool_only: bool,
    #[command(flatten)]
    pub thresholds: MqueueThresholds,
}

#[derive(Debug, Args, Clone)]
pub struct MqueueThresholds {
    /// Warning range on the largest queue's apparent size (Nagios range syntax, sizes like 1G allowed)
    #[arg(short = 'w', long = "warning", default_value = "1G", value_name = "RANGE", value_parser = size_range)]
    pub warning: Range,
    /// Critical range on the largest queue's apparent size
    #[arg(short = 'c', long = "critical", default_value = "10G", value_name = "RANGE", value_parser = size_range)]
    pub critical: Range,
}

/// A Nagios range whose bounds may be sizes (`1G`, `500M:`, `@1G:2G`): converted to bytes.
pub fn size_range(s: &str) -> Result<Range, String> {
    let (at, body) = match s.strip_prefix('@') {
        Some(rest) => ("@", rest),
        None => ("", s),
    };
    let bad = || format!("invalid threshold range '{s}' (e.g. 1G, 500M:, ~:2G, @1G:2G)");
    let bound = |b: &str| -> Result<String, String> {
        if b.is_empty() || b == "~" {
            Ok(b.to_string())
        } else {
            b.parse::<Size>()
                .map(|v| v.0.to_string())
                .map_err(|_| bad())
        }
    };
    let converted = match body.split_once(':') {
        Some((a, b)) => format!("{at}{}:{}", bound(a)?, bound(b)?),
        None => format!("{at}{}", bound(body)?),
    };
    converted.parse().map_err(|_| bad())
}

const CHECK_EXAMPLES: &str = "\
Examples:
  toolkit check                        one line per check, worst first
  toolkit check --format nagios        one status line and all perfdata, for Nagios/Icinga
  toolkit check --format nagios --mqueue-warning 2G --zombies-critical 20 --timeout 8s
  toolkit check --format prometheus --output /var/lib/prometheus/node-exporter/toolkit.prom";

/// Runs every read-only check and prints one combined verdict, worst first.
///
/// The exit status is the worst of the checks (CRITICAL > WARNING > UNKNOWN > OK, as
/// monitoring-plugins' max_state_alt). This is the command to run first from an ssh session, and
/// the one to wire into monitoring. Each check takes its thresholds under its own name, in the same
/// syntax as the command itself; the checks run side by side, and one that has not finished within
/// --timeout is abandoned and reported UNKNOWN, naming it.
///
/// JSON fields: status, timeout (seconds), checks[] {name, status, summary, report (the check's own
/// --format json document, null when it could not run), command}.
#[derive(Debug, Args, Clone)]
#[command(after_help = CHECK_EXAMPLES)]
pub struct CheckArgs {
    /// A check still running after DURATION is abandoned and UNKNOWN (under Icinga's 10s)
    #[arg(long, default_value = "8s", value_name = "DURATION", value_parser = positive_duration)]
    pub timeout: Duration,
    /// zombies: warning range on zombies at least --zombies-min-age old [default: 0]
    #[arg(long, value_name = "RANGE")]
    pub zombies_warning: Option<Range>,
    /// zombies: critical range on zombies at least --zombies-min-age old [default: 49]
    #[arg(long, value_name = "RANGE")]
    pub zombies_critical: Option<Range>,
    /// zombies: younger zombies are only counted, as transient [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub zombies_min_age: Option<Duration>,
    /// mqueue: warning range on the largest queue's apparent size [default: 1G]
    #[arg(long, value_name = "RANGE", value_parser = size_range)]
    pub mqueue_warning: Option<Range>,
    /// mqueue: critical range on the largest queue's apparent size [default: 10G]
    #[arg(long, value_name = "RANGE", value_parser = size_range)]
    pub mqueue_critical: Option<Range>,
    /// mqueue: messages at least this large are oversized [default: 20M]
    #[arg(long, value_name = "SIZE")]
    pub mqueue_min: Option<Size>,
    /// mem: warning range on available memory, percent of RAM [default: 20:]
    #[arg(long, value_name = "RANGE")]
    pub mem_available_warning: Option<Range>,
    /// mem: critical range on available memory, percent of RAM [default: 10:]
    #[arg(long, value_name = "RANGE")]
    pub mem_available_critical: Option<Range>,
    /// mem: warning range on pages swapped out per second [default: 0]
    #[arg(long, value_name = "RANGE")]
    pub mem_swap_out_warning: Option<Range>,
    /// mem: critical range on pages swapped out per second [default: 10]
    #[arg(long, value_name = "RANGE")]
    pub mem_swap_out_critical: Option<Range>,
    /// mem: time between the two readings for the rates (0: one reading) [default: 1s]
    #[arg(long, value_name = "DURATION")]
    pub mem_interval: Option<Duration>,
}

/// A duration above zero (a timeout of 0 would abandon every check).
fn positive_duration(s: &str) -> Result<Duration, String> {
    match s.parse::<Duration>()? {
        Duration(0) => Err(format!("invalid duration '{s}': must be more than 0s")),
        d => Ok(d),
    }
}

const MQUEUE_FIX_EXAMPLES: &str = "\
Examples:
  toolkit mqueue fix --site example.com --dry-run   the plan, nothing changed
  toolkit mqueue fix --site example.com             show the plan, ask, apply
  toolkit mqueue fix --all --yes                    every site with local-host-names
  toolkit mqueue fix --site site11 --chgrp-queued   also charge mail already queued
  toolkit mqueue fix --site example.com --undo      restore what the fixes changed";

/// Binds each site's mail queue to the site's own disk quota, safely and undoably.
///
/// Steps, each reported ok, changed, would change, refused (with the reason) or failed:
/// 1. the queue directory owned root:adminN, setgid, mode 2770: what sendmail run as root accepts
///    (with an adminN-owned 2770 queue it fails "Cannot write ./df...: Permission denied"); queued
///    files then get group adminN and count against the site's quota. --owner admin gives
///    adminN:adminN, for a sendmail that runs as the site's user. --mode must keep setgid and group
///    rwx; a world-writable mode (the old recipe's 2777) is accepted with a warning;
/// 2. etc/smrsh (recursively) and etc/aliases adminN:adminN, etc/aliases.db root:adminN;
/// 3. backups of sendmail.cf and etc/mail/sendmail.mc (NAME.zorig first, never overwritten; later
///    ones timestamped);
/// 4. DefaultUser set to the admin's uid:gid in the mc (confDEF_USER_ID) and the cf (O DefaultUser=),
///    or with --m4 the cf regenerated from the mc;
/// 5. with --chgrp-queued, queued files get the site's group (one line per outcome, with counts and
///    the first paths).
///
/// --m4 never runs the site's mc as root: m4 runs chrooted in the root, in the site's etc/mail, as
/// the site's adminN uid and gid with no other groups, a clean environment and time, memory and
/// output limits; its output replaces the cf only when it is a sendmail.cf with the new DefaultUser.
/// A site admin that is root, or m4 or its cf macros not root's alone, is refused. A fake root runs
/// m4 only when it carries its own usr/bin/m4 and sendmail cf macros (a chroot tree).
///
/// Never follows a symlink inside a site, never changes a file with other hard links, writes files
/// atomically, journals every change under var/lib/toolkit/mqueue-fix (for --undo); a second run
/// changes nothing. The two DefaultUser edits are one step: both are made or neither.
///
/// The site's admin is the host's adminN (siteinfo admin/wp_user, the home/virtual/adminN link, the
/// group owning fst, checked against etc/passwd and etc/group; siteinfo's admin_user is the site's own
/// login, shown only). A site whose sources disagree, name another site's admin or a missing user or
/// group is refused with the disagreement spelled out, and the run goes on with the other sites.
/// --all also lists the sites it left out and why. With -q, a run that found everything already
/// right prints nothing (quiet from cron).
///
/// JSON fields: status, dry_run, undo, sites[] {site, domain, admin, login, admin_sources, notes,
/// declined, steps[] {step, path, change, outcome (ok, would_change, changed, refused, failed),
/// note}}, left_out[] {site, domain, reason, unreadable}. Step 0 is the whole site (its identity,
/// its journal) or, with --undo, a restored entry.
#[derive(Debug, Args)]
#[command(after_help = MQUEUE_FIX_EXAMPLES)]
pub struct MqueueFixArgs {
    /// Site to fix: siteN, one of its domains or its adminN user (repeatable)
    #[arg(long, value_name = "SITE", required_unless_present = "all")]
    pub site: Vec<String>,
    /// Every site whose etc/mail/local-host-names is not empty
    #[arg(long, conflicts_with_all = ["site", "undo"])]
    pub all: bool,
    /// Owner of the queue directory (its group is always the site's): root (what a root-run sendmail
    /// can queue in) or admin (adminN, for a sendmail that runs as the site's user)
    #[arg(long, value_enum, default_value_t = QueueOwner::Root, value_name = "WHO")]
    pub owner: QueueOwner,
    /// Queue directory mode, octal; must keep setgid and group rwx (2777 is accepted with a warning:
    /// it lets every local user delete queued mail)
    #[arg(long, default_value = "2770", value_parser = parse_queue_mode, value_name = "MODE")]
    pub mode: u32,
    /// Regenerate sendmail.cf from the edited sendmail.mc with m4 (run as the site admin, chrooted)
    /// instead of editing the cf
    #[arg(long)]
    pub m4: bool,
    /// Also give mail already queued the site's group, so it counts against the quota
    #[arg(long)]
    pub chgrp_queued: bool,
    /// Restore what earlier fixes of these sites changed (owners, modes, contents)
    #[arg(long)]
    pub undo: bool,
    /// With --undo: also restore a file edited since the fix, after keeping its current content as
    /// NAME.zundo-YYYYMMDD-HHMMSS beside it
    #[arg(long, requires = "undo")]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueOwner {
    /// root:adminN (the default): a root-run sendmail can queue in it
    Root,
    /// adminN:adminN: only for a sendmail that runs as the site's user (a root-run one cannot queue)
    Admin,
}

/// An octal permission mode such as 2770 (at most 4 digits, setgid allowed, no setuid).
fn parse_mode(s: &str) -> Result<u32, String> {
    let bad = || format!("invalid mode '{s}' (octal, e.g. 2770)");
    if s.is_empty() || s.len() > 4 {
        return Err(bad());
    }
    let m = u32::from_str_radix(s, 8).map_err(|_| bad())?;
    if m & 0o4000 != 0 {
        return Err(format!(
            "mode '{s}': setuid makes no sense on a queue directory"
        ));
    }
    Ok(m)
}

/// A queue directory mode: what the binding needs (setgid, so queued files get the site's group; group
/// rwx, so the site's group can work the queue) must be there.
fn parse_queue_mode(s: &str) -> Result<u32, String> {
    let m = parse_mode(s)?;
    let mut missing = Vec::new();
    if m & 0o2000 == 0 {
        missing.push(
            "setgid (2000: queued files get the site's group, so they count against its quota)",
        );
    }
    if m & 0o070 != 0o070 {
        missing.push("group rwx (0070)");
    }
    if missing.is_empty() {
        Ok(m)
    } else {
        Err(format!(
            "mode '{s}' lacks {}; e.g. 2770",
            missing.join(" and ")
        ))
    }
}

const MQUEUE_PURGE_EXAMPLES: &str = "\
Examples:
  toolkit mqueue purge --site example.com --min 20M --dry-run
  toolkit mqueue purge --site site11 --min 30M --older 2d          quarantined, asked first
  toolkit mqueue purge --site site11 --min 30M --sender bob@example.com --yes
  toolkit mqueue purge --site site11 --min 30M --delete
  toolkit mqueue purge --account jdoe --min 20M --hold          Exim/Postfix: freeze or hold
  toolkit mqueue purge --account jdoe --min 0 --older 2d --yes   Exim/Postfix: quarantine";

/// Removes oversized queued messages of a site: whole messages only (qf, df and xf together), never
/// one that sendmail holds locked.
///
/// By default messages are moved to a quarantine directory outside the site tree
/// (var/lib/toolkit/quarantine/SITE/TIME under the root, or --quarantine DIR), so nothing is lost;
/// --delete deletes them. The plan is shown and confirmed; --dry-run changes nothing. In text,
/// identical copies (same sender, subject and size, with the same outcome) are one entry with their
/// count and total, as in scan.
///
/// JSON fields: status, dry_run, delete, min, sites[] {site, domain, quarantine, messages[] {id,
/// size, age, sender, subject, files, outcome (would_purge, quarantined, deleted, skipped, failed),
/// detail}}: every message, one by one.
///
/// Each batch of moves is journaled first (var/lib/toolkit/mqueue-purge/SITE), so a purge killed at
/// any point leaves no message split: the next run completes in the quarantine every message whose
/// qf got there and puts back the rest, and reports them.
///
/// On Exim and Postfix hosts (cPanel, DirectAdmin, Plesk) --account selects a hosting account's
/// messages instead (attributed as `mqueue scan` does: by the submitting uid, else the sender's
/// domain in the panel's maps). On the live system the MTA's own commands do it (exim -Mrm, exim -Mf,
/// postsuper -d, postsuper -h); under a fake root the files are moved whole into the quarantine
/// (var/lib/toolkit/quarantine/ACCOUNT/TIME/MTA-ID/, each under its spool directory's name), and --hold freezes (a -frozen line in the -H
/// file) or holds (the queue file moved to hold/) under the MTA's lock.
#[derive(Debug, Args)]
#[command(after_help = MQUEUE_PURGE_EXAMPLES)]
pub struct MqueuePurgeArgs {
    /// Site whose queue to purge: siteN, one of its domains or its adminN user (repeatable)
    #[arg(
        long,
        value_name = "SITE",
        required_unless_present = "account",
        conflicts_with = "account"
    )]
    pub site: Vec<String>,
    /// Hosting account whose Exim or Postfix mail to purge: its Unix user name (repeatable)
    #[arg(long, value_name = "NAME")]
    pub account: Vec<String>,
    /// Freeze (Exim) or hold (Postfix) the messages instead of removing them (with --account)
    #[arg(long, requires = "account", conflicts_with_all = ["delete", "quarantine"])]
    pub hold: bool,
    /// Only messages at least this large
    #[arg(allow_hyphen_values = true, long, value_name = "SIZE", required = true)]
    pub min: Size,
    /// Only messages queued at least this long ago (qf T line)
    #[arg(allow_hyphen_values = true, long, value_name = "DURATION")]
    pub older: Option<Duration>,
    /// Only messages from this sender (an address, or @domain)
    #[arg(long, value_name = "ADDR")]
    pub sender: Option<String>,
    /// Quarantine directory under the root (opened without following links; refused under
    /// home/virtual, outside the root, or writable by anyone but root)
    #[arg(long, value_name = "DIR", conflicts_with = "delete")]
    pub quarantine: Option<PathBuf>,
    /// Delete instead of quarantining
    #[arg(long)]
    pub delete: bool,
}
