//! The exported audit log on disk, and its offline verification (`relais audit verify`).
//!
//! An export is a directory:
//!
//! ```text
//! DIR/entries.log                 every entry from seq 0, in order: its canonical bytes
//!                                 (domain::audit::entry) and `\n`, one entry per line
//! DIR/checkpoints/<size>.checkpoint
//!                                 signed checkpoints (domain::audit::checkpoint), the file
//!                                 named by the tree size, zero-padded to 20 digits, e.g.
//!                                 00000000000000001000.checkpoint
//! DIR/public-key.asc              the hub's audit key (armored OpenPGP certificate)
//! ```
//!
//! Line `n` (from 1) of `entries.log` is leaf `n - 1` of the Merkle tree, and its entry has
//! seq `n - 1`. A checkpoint of size `s` commits to the first `s` lines.
//!
//! Verification reads `entries.log` once, front to back, keeping only the tree's frontier
//! (O(log n) hashes), and checks:
//! - every checkpoint's signature against the key, and its root against the root recomputed
//!   from the first `size` entries; a checkpoint beyond the last entry means a truncated tail;
//! - that checkpoints signed later never have a smaller size (the log never shrinks) and that
//!   two checkpoints of one size have one root;
//! - that every line is an entry in canonical form, that seqs run from 0 without gap or
//!   repetition, and that time never goes back;
//! - given a checkpoint kept outside the hub, that it is signed by the key and that the log
//!   still extends it: the first `size` entries have its root.
//!
//! The key in the directory is whatever the directory says. Against someone who can rewrite
//! the whole export, the trust anchor must come from elsewhere: a trusted copy of the key
//! (`--key`), or a checkpoint kept outside the hub (`--checkpoint`) — the forger cannot sign
//! it with the hub's key, and cannot produce entries that match its root.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::crypto::openpgp::{OpenPgpError, PublicKey};
use crate::domain::audit::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::domain::audit::entry::{AuditEntry, EntryError, canonical_time, parse_canonical};
use crate::domain::audit::merkle::{CompactRange, Hash, LeafHasher};

pub const ENTRIES_FILE: &str = "entries.log";
pub const CHECKPOINTS_DIR: &str = "checkpoints";
pub const PUBLIC_KEY_FILE: &str = "public-key.asc";
const CHECKPOINT_SUFFIX: &str = ".checkpoint";

/// No entry the hub writes comes near this; a longer line is reported, not held in memory.
const MAX_LINE: usize = 1 << 20;
/// A signed checkpoint is well under 1 KiB.
const MAX_CHECKPOINT_FILE: u64 = 64 * 1024;
const MAX_KEY_FILE: u64 = 1024 * 1024;
/// Past this many problems in `entries.log`, only their number is reported: a file of garbage
/// must not print a million lines.
const MAX_ENTRY_PROBLEMS: usize = 1000;

/// The file name of the checkpoint of tree size `size`.
pub fn checkpoint_file_name(size: u64) -> String {
    format!("{size:020}{CHECKPOINT_SUFFIX}")
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("entry {seq} is not one line")]
    NotOneLine { seq: u64 },
    #[error(transparent)]
    Key(#[from] OpenPgpError),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes an export as the entries come, holding none of them: the caller streams entries in
/// seq order and adds the checkpoints it has. Files are created new; an existing export is
/// never overwritten.
#[derive(Debug)]
pub struct ExportWriter {
    dir: PathBuf,
    entries_path: PathBuf,
    entries: BufWriter<File>,
    count: u64,
}

impl ExportWriter {
    /// Creates `dir` (if needed), `entries.log`, `checkpoints/` and `public-key.asc`.
    pub fn create(dir: &Path, public_key: &PublicKey) -> Result<Self, ExportError> {
        fs::create_dir_all(dir.join(CHECKPOINTS_DIR)).map_err(io_error(dir))?;
        let key_path = dir.join(PUBLIC_KEY_FILE);
        let mut key_file = File::create_new(&key_path).map_err(io_error(&key_path))?;
        key_file
            .write_all(public_key.to_armored()?.as_bytes())
            .map_err(io_error(&key_path))?;
        let entries_path = dir.join(ENTRIES_FILE);
        let entries = File::create_new(&entries_path).map_err(io_error(&entries_path))?;
        Ok(Self {
            dir: dir.to_owned(),
            entries: BufWriter::with_capacity(1 << 20, entries),
            entries_path,
            count: 0,
        })
    }

    /// Appends the next entry.
    pub fn append(&mut self, entry: &AuditEntry) -> Result<(), ExportError> {
        self.append_canonical(&entry.to_canonical())
    }

    /// Appends the next entry's canonical bytes as stored (the leaf the tree hashed).
    pub fn append_canonical(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        // Canonical bytes never hold a newline; stored bytes that do would shift every line
        // after them.
        if bytes.contains(&b'\n') {
            return Err(ExportError::NotOneLine { seq: self.count });
        }
        self.entries
            .write_all(bytes)
            .and_then(|()| self.entries.write_all(b"\n"))
            .map_err(io_error(&self.entries_path))?;
        self.count += 1;
        Ok(())
    }

    pub fn add_checkpoint(&mut self, signed: &SignedCheckpoint) -> Result<(), ExportError> {
        let path = self
            .dir
            .join(CHECKPOINTS_DIR)
            .join(checkpoint_file_name(signed.checkpoint.size));
        let mut file = File::create_new(&path).map_err(io_error(&path))?;
        file.write_all(signed.to_text().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io_error(&path))
    }

    /// Flushes and syncs `entries.log`; the number of entries written.
    pub fn finish(self) -> Result<u64, ExportError> {
        let file = self.entries.into_inner().map_err(|e| ExportError::Io {
            path: self.entries_path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io_error(&self.entries_path))?;
        Ok(self.count)
    }
}

/// Writes a whole export in one call: the entries (in seq order) streamed to `entries.log`,
/// then the checkpoints. Returns the number of entries.
pub fn write_export(
    dir: &Path,
    entries: impl IntoIterator<Item = AuditEntry>,
    checkpoints: &[SignedCheckpoint],
    public_key: &PublicKey,
) -> Result<u64, ExportError> {
    let mut writer = ExportWriter::create(dir, public_key)?;
    for entry in entries {
        writer.append(&entry)?;
    }
    for signed in checkpoints {
        writer.add_checkpoint(signed)?;
    }
    writer.finish()
}

/// Where a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A line of `entries.log`, from 1.
    Line(u64),
    EntriesFile,
    /// A checkpoint file, by its name without `.checkpoint`.
    Checkpoint(String),
    CheckpointsDir,
    /// The checkpoint given with `--checkpoint`.
    External,
    /// A key file, by its path as given.
    Key(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    Unreadable(String),
    Entry(EntryError),
    LineTooLong,
    NoFinalNewline,
    SeqGap { seq: u64, expected: u64 },
    SeqBack { seq: u64, expected: u64 },
    TimeBack { time: String, previous: String },
    Format(CheckpointError),
    BadFileName(String),
    NameNotSize { size: u64 },
    BadSignature(String),
    NotChecked,
    OriginDiffers { origin: String, expected: String },
    RootMismatch { size: u64 },
    BeyondEntries { size: u64, entries: u64 },
    Shrank { size: u64, previous: u64 },
    Fork { other: String },
    NotExtended { size: u64 },
    NotExtendedBeyond { size: u64, entries: u64 },
    KeyNotTrusted { found: String, trusted: String },
    NoCheckpoint,
    MoreNotShown(u64),
}

/// One thing wrong with an export; displayed as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub place: Place,
    pub kind: ProblemKind,
}

/// Text from the files under verification, safe to print: control and formatting characters
/// (terminal escapes, line separators, bidirectional overrides) become `\u{..}`.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let format_char = matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' | '\u{feff}');
        if c.is_control() || format_char {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "{ENTRIES_FILE} line {n}"),
            Place::EntriesFile => f.write_str(ENTRIES_FILE),
            Place::Checkpoint(name) => write!(f, "checkpoint {}", printable(name)),
            Place::CheckpointsDir => write!(f, "{CHECKPOINTS_DIR}/"),
            Place::External => f.write_str("external checkpoint"),
            Place::Key(path) => write!(f, "key {}", printable(path)),
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Unreadable(e) => write!(f, "cannot read: {}", printable(e)),
            ProblemKind::Entry(e) => f.write_str(&printable(&e.to_string())),
            ProblemKind::LineTooLong => write!(f, "longer than {MAX_LINE} bytes"),
            ProblemKind::NoFinalNewline => f.write_str("no newline at the end (cut short?)"),
            ProblemKind::SeqGap { seq, expected } => {
                write!(f, "seq {seq} where {expected} is expected (entry missing)")
            }
            ProblemKind::SeqBack { seq, expected } => write!(
                f,
                "seq {seq} where {expected} is expected (out of order or repeated)"
            ),
            ProblemKind::TimeBack { time, previous } => {
                write!(f, "time goes back ({time} after {previous})")
            }
            ProblemKind::Format(e) => write!(f, "not a signed checkpoint: {e}"),
            ProblemKind::BadFileName(name) => write!(
                f,
                "unexpected file {} (checkpoints are named like {})",
                printable(name),
                checkpoint_file_name(1000)
            ),
            ProblemKind::NameNotSize { size } => {
                write!(f, "the file name does not match its size {size}")
            }
            ProblemKind::BadSignature(e) => write!(f, "bad signature: {}", printable(e)),
            ProblemKind::NotChecked => f.write_str("signature not checked: no usable key"),
            ProblemKind::OriginDiffers { origin, expected } => write!(
                f,
                "origin {} differs from {}",
                printable(origin),
                printable(expected)
            ),
            ProblemKind::RootMismatch { size } => {
                write!(f, "root does not match the first {size} entries")
            }
            ProblemKind::BeyondEntries { size, entries } => write!(
                f,
                "size {size} but {ENTRIES_FILE} has only {entries} entries (tail truncated)"
            ),
            ProblemKind::Shrank { size, previous } => {
                write!(f, "size {size} signed after size {previous} (log shrank)")
            }
            ProblemKind::Fork { other } => write!(
                f,
                "same size as checkpoint {} but another root (fork)",
                printable(other)
            ),
            ProblemKind::NotExtended { size } => write!(
                f,
                "the log does not extend it (the first {size} entries have another root)"
            ),
            ProblemKind::NotExtendedBeyond { size, entries } => write!(
                f,
                "the log does not extend it (size {size}, but the log has only {entries} \
                 entries)"
            ),
            ProblemKind::KeyNotTrusted { found, trusted } => write!(
                f,
                "fingerprint {}, not the trusted key {}",
                printable(found),
                printable(trusted)
            ),
            ProblemKind::NoCheckpoint => {
                f.write_str("no checkpoint: nothing in the export is signed")
            }
            ProblemKind::MoreNotShown(n) => write!(f, "{n} more problems not shown"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.kind)
    }
}

/// What to verify an export against, besides itself.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The time as of which signatures are checked: a signature dated later is refused.
    pub now: OffsetDateTime,
    /// A signed checkpoint kept outside the hub, which the log must still extend.
    pub external_checkpoint: Option<&'a Path>,
    /// A trusted copy of the hub's audit key; without it, `public-key.asc` is used.
    pub trusted_key: Option<&'a Path>,
}

/// The outcome: problems (none when the export is intact) and what was checked.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    pub problems: Vec<Problem>,
    pub entries: u64,
    pub checkpoints: usize,
    /// The checkpoint of the largest size in the directory.
    pub latest: Option<Checkpoint>,
    /// Fingerprint of the key signatures were checked against.
    pub key: Option<String>,
    /// Whether that key was given as trusted (`--key`) rather than taken from the export.
    pub key_trusted: bool,
    /// Size of the external checkpoint, when one was given and parsed.
    pub external_size: Option<u64>,
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A checkpoint whose root is compared when the tree reaches its size.
struct Claim {
    place: Place,
    checkpoint: Checkpoint,
    external: bool,
}

struct Verifier {
    problems: Vec<Problem>,
}

impl<'a> VerifyOptions<'a> {
    /// The export checked against itself only, as of `now`.
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            now,
            external_checkpoint: None,
            trusted_key: None,
        }
    }
}

impl Verifier {
    fn report(&mut self, place: Place, kind: ProblemKind) {
        self.problems.push(Problem { place, kind });
    }
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(bytes)
}

fn load_key(path: &Path, place: Place, v: &mut Verifier) -> Option<PublicKey> {
    match read_limited(path, MAX_KEY_FILE)
        .and_then(|bytes| PublicKey::from_bytes(&bytes).map_err(|e| e.to_string()))
    {
        Ok(key) => Some(key),
        Err(e) => {
            v.report(place, ProblemKind::Unreadable(e));
            None
        }
    }
}

fn read_signed(path: &Path, place: &Place, v: &mut Verifier) -> Option<SignedCheckpoint> {
    let text = match read_limited(path, MAX_CHECKPOINT_FILE)
        .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8".to_owned()))
    {
        Ok(text) => text,
        Err(e) => {
            v.report(place.clone(), ProblemKind::Unreadable(e));
            return None;
        }
    };
    match SignedCheckpoint::parse(&text) {
        Ok(signed) => Some(signed),
        Err(e) => {
            v.report(place.clone(), ProblemKind::Format(e));
            None
        }
    }
}

/// Checks a signature; its time when good.
fn check_signature(
    signed: &SignedCheckpoint,
    key: Option<&PublicKey>,
    now: OffsetDateTime,
    place: &Place,
    v: &mut Verifier,
) -> Option<OffsetDateTime> {
    let Some(key) = key else {
        v.report(place.clone(), ProblemKind::NotChecked);
        return None;
    };
    match signed.verify(key, now) {
        Ok(verified) => Some(verified.signed_at),
        Err(e) => {
            let detail = match e {
                OpenPgpError::BadSignature(d) => d,
                other => other.to_string(),
            };
            v.report(place.clone(), ProblemKind::BadSignature(detail));
            None
        }
    }
}

/// The signed checkpoints of the directory, by name, with the names that are not checkpoints
/// reported.
fn list_checkpoints(dir: &Path, v: &mut Verifier) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) => {
            v.report(
                Place::CheckpointsDir,
                ProblemKind::Unreadable(e.to_string()),
            );
            return found;
        }
    };
    for item in listing {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                v.report(
                    Place::CheckpointsDir,
                    ProblemKind::Unreadable(e.to_string()),
                );
                continue;
            }
        };
        let name = item.file_name().to_string_lossy().into_owned();
        let stem = name.strip_suffix(CHECKPOINT_SUFFIX).unwrap_or_default();
        if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) {
            found.insert(stem.to_owned(), item.path());
        } else {
            v.report(Place::CheckpointsDir, ProblemKind::BadFileName(name));
        }
    }
    found
}

/// Verifies the export in `dir` (module documentation); never stops at the first problem.
pub fn verify_export(dir: &Path, options: &VerifyOptions<'_>) -> Verification {
    let mut v = Verifier {
        problems: Vec::new(),
    };
    let mut out = Verification::default();

    // The key: the trusted one if given, and the export's own must then be the same.
    let shipped_path = dir.join(PUBLIC_KEY_FILE);
    let key = match options.trusted_key {
        Some(path) => {
            let trusted = load_key(path, Place::Key(path.display().to_string()), &mut v);
            if let Some(trusted) = &trusted
                && shipped_path.exists()
                && let Some(shipped) = load_key(
                    &shipped_path,
                    Place::Key(PUBLIC_KEY_FILE.to_owned()),
                    &mut v,
                )
                && shipped.fingerprint() != trusted.fingerprint()
            {
                v.report(
                    Place::Key(PUBLIC_KEY_FILE.to_owned()),
                    ProblemKind::KeyNotTrusted {
                        found: shipped.fingerprint(),
                        trusted: trusted.fingerprint(),
                    },
                );
            }
            out.key_trusted = trusted.is_some();
            trusted
        }
        None => load_key(
            &shipped_path,
            Place::Key(PUBLIC_KEY_FILE.to_owned()),
            &mut v,
        ),
    };
    out.key = key.as_ref().map(PublicKey::fingerprint);

    let mut claims: Vec<Claim> = Vec::new();
    // Signed time and size of each checkpoint with a good signature, to see the log shrink.
    let mut signed_sizes: Vec<(OffsetDateTime, u64, Place)> = Vec::new();

    if let Some(path) = options.external_checkpoint
        && let Some(signed) = read_signed(path, &Place::External, &mut v)
    {
        if let Some(at) =
            check_signature(&signed, key.as_ref(), options.now, &Place::External, &mut v)
        {
            signed_sizes.push((at, signed.checkpoint.size, Place::External));
        }
        out.external_size = Some(signed.checkpoint.size);
        claims.push(Claim {
            place: Place::External,
            checkpoint: signed.checkpoint,
            external: true,
        });
    }

    let checkpoints_dir = dir.join(CHECKPOINTS_DIR);
    let mut by_size: BTreeMap<u64, (String, Hash)> = BTreeMap::new();
    for (name, path) in list_checkpoints(&checkpoints_dir, &mut v) {
        let place = Place::Checkpoint(name.clone());
        let Some(signed) = read_signed(&path, &place, &mut v) else {
            continue;
        };
        out.checkpoints += 1;
        let size = signed.checkpoint.size;
        if name != format!("{size:020}") {
            v.report(place.clone(), ProblemKind::NameNotSize { size });
        }
        if let Some(at) = check_signature(&signed, key.as_ref(), options.now, &place, &mut v) {
            signed_sizes.push((at, size, place.clone()));
        }
        match by_size.get(&size) {
            Some((other, root)) if *root != signed.checkpoint.root => v.report(
                place.clone(),
                ProblemKind::Fork {
                    other: other.clone(),
                },
            ),
            Some(_) => {}
            None => {
                by_size.insert(size, (name.clone(), signed.checkpoint.root));
            }
        }
        if out.latest.as_ref().is_none_or(|latest| latest.size < size) {
            out.latest = Some(signed.checkpoint.clone());
        }
        claims.push(Claim {
            place,
            checkpoint: signed.checkpoint,
            external: false,
        });
    }
    if out.checkpoints == 0 {
        v.report(Place::CheckpointsDir, ProblemKind::NoCheckpoint);
    }

    // One log, one origin: the external checkpoint's if given, else the first one's.
    let expected_origin = claims.first().map(|c| c.checkpoint.origin.clone());
    if let Some(expected) = expected_origin {
        for claim in &claims {
            if claim.checkpoint.origin != expected {
                v.report(
                    claim.place.clone(),
                    ProblemKind::OriginDiffers {
                        origin: claim.checkpoint.origin.clone(),
                        expected: expected.clone(),
                    },
                );
            }
        }
    }

    // A checkpoint signed after another never has a smaller size.
    signed_sizes.sort_by_key(|(at, size, _)| (*at, *size));
    let mut largest: Option<u64> = None;
    for (_, size, place) in &signed_sizes {
        match largest {
            Some(previous) if *size < previous => v.report(
                place.clone(),
                ProblemKind::Shrank {
                    size: *size,
                    previous,
                },
            ),
            _ => largest = Some(largest.map_or(*size, |l| l.max(*size))),
        }
    }

    out.entries = read_entries(&dir.join(ENTRIES_FILE), &claims, &mut v);
    for claim in &claims {
        if claim.checkpoint.size > out.entries {
            let (size, entries) = (claim.checkpoint.size, out.entries);
            let kind = if claim.external {
                ProblemKind::NotExtendedBeyond { size, entries }
            } else {
                ProblemKind::BeyondEntries { size, entries }
            };
            v.report(claim.place.clone(), kind);
        }
    }
    out.problems = v.problems;
    out
}

/// Streams `entries.log`: checks each line and compares the root with every claim when the
/// tree reaches its size. The number of lines.
fn read_entries(path: &Path, claims: &[Claim], v: &mut Verifier) -> u64 {
    let mut at_size: BTreeMap<u64, Vec<&Claim>> = BTreeMap::new();
    for claim in claims {
        at_size
            .entry(claim.checkpoint.size)
            .or_default()
            .push(claim);
    }
    let mut tree = CompactRange::new();
    let check = |tree: &CompactRange, v: &mut Verifier| {
        for claim in at_size.get(&tree.size()).into_iter().flatten() {
            if claim.checkpoint.root != tree.root() {
                let size = tree.size();
                let kind = if claim.external {
                    ProblemKind::NotExtended { size }
                } else {
                    ProblemKind::RootMismatch { size }
                };
                v.report(claim.place.clone(), kind);
            }
        }
    };
    check(&tree, v);

    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            v.report(Place::EntriesFile, ProblemKind::Unreadable(e.to_string()));
            return 0;
        }
    };
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut lines = LineChecks::default();
    let mut line = Vec::with_capacity(1024);
    loop {
        let read = match read_line(&mut reader, &mut line) {
            Ok(read) => read,
            Err(e) => {
                lines.report(
                    v,
                    Place::EntriesFile,
                    ProblemKind::Unreadable(e.to_string()),
                );
                break;
            }
        };
        let Some(read) = read else { break };
        let number = tree.size() + 1;
        tree.push(read.leaf);
        if read.too_long {
            lines.report(v, Place::Line(number), ProblemKind::LineTooLong);
        } else {
            lines.check(number, &line, v);
        }
        if !read.newline {
            lines.report(v, Place::Line(number), ProblemKind::NoFinalNewline);
        }
        check(&tree, v);
    }
    if lines.hidden > 0 {
        v.report(Place::EntriesFile, ProblemKind::MoreNotShown(lines.hidden));
    }
    tree.size()
}

struct ReadLine {
    leaf: Hash,
    newline: bool,
    too_long: bool,
}

/// Reads one line (without its `\n`) into `line`, hashing it as a leaf as it goes; `None` at
/// the end of the file. A line longer than [`MAX_LINE`] is hashed but not kept.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<ReadLine>> {
    line.clear();
    let mut hasher = LeafHasher::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(any.then(|| ReadLine {
                leaf: hasher.finish(),
                newline: false,
                too_long,
            }));
        }
        any = true;
        let (piece, newline) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (buf.get(..i).unwrap_or_default(), true),
            None => (buf, false),
        };
        hasher.update(piece);
        if !too_long {
            if line.len() + piece.len() > MAX_LINE {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(piece);
            }
        }
        let consumed = piece.len() + usize::from(newline);
        reader.consume(consumed);
        if newline {
            return Ok(Some(ReadLine {
                leaf: hasher.finish(),
                newline: true,
                too_long,
            }));
        }
    }
}

/// The per-line rules: canonical entry, seqs from 0 without gap, time never going back.
#[derive(Default)]
struct LineChecks {
    /// The seq the next line should hold: one past the largest seen, counting a line that
    /// did not parse as holding the seq expected of it, so that one problem is reported once
    /// (a swap is one gap and one step back, not a gap after it too).
    next_seq: u64,
    last_time: Option<OffsetDateTime>,
    shown: usize,
    hidden: u64,
}

impl LineChecks {
    fn report(&mut self, v: &mut Verifier, place: Place, kind: ProblemKind) {
        if self.shown < MAX_ENTRY_PROBLEMS {
            self.shown += 1;
            v.report(place, kind);
        } else {
            self.hidden += 1;
        }
    }

    fn check(&mut self, number: u64, line: &[u8], v: &mut Verifier) {
        let entry = match parse_canonical(line) {
            Ok(entry) => entry,
            Err(e) => {
                self.report(v, Place::Line(number), ProblemKind::Entry(e));
                self.next_seq = self.next_seq.saturating_add(1);
                return;
            }
        };
        let (seq, expected) = (entry.seq, self.next_seq);
        if seq > expected {
            self.report(
                v,
                Place::Line(number),
                ProblemKind::SeqGap { seq, expected },
            );
        } else if seq < expected {
            self.report(
                v,
                Place::Line(number),
                ProblemKind::SeqBack { seq, expected },
            );
        }
        self.next_seq = expected.max(seq.saturating_add(1));
        if let Some(previous) = self.last_time
            && entry.time < previous
        {
            self.report(
                v,
                Place::Line(number),
                ProblemKind::TimeBack {
                    time: canonical_time(entry.time),
                    previous: canonical_time(previous),
                },
            );
        }
        self.last_time = Some(entry.time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_hashed_whole_and_long_ones_not_kept() {
        let long = vec![b'x'; MAX_LINE + 10];
        let mut data = b"one\n".to_vec();
        data.extend_from_slice(&long);
        data.extend_from_slice(b"\nlast");
        // A small buffer, so that lines span several reads.
        let mut reader = BufReader::with_capacity(7, data.as_slice());
        let mut line = Vec::new();
        let first = read_line(&mut reader, &mut line).unwrap().unwrap();
        assert_eq!(line, b"one");
        assert_eq!(first.leaf, crate::domain::audit::merkle::leaf_hash(b"one"));
        assert!(first.newline && !first.too_long);
        let second = read_line(&mut reader, &mut line).unwrap().unwrap();
        assert!(second.too_long && second.newline);
        assert!(line.is_empty());
        assert_eq!(second.leaf, crate::domain::audit::merkle::leaf_hash(&long));
        let third = read_line(&mut reader, &mut line).unwrap().unwrap();
        assert_eq!(line, b"last");
        assert!(!third.newline);
        assert!(read_line(&mut reader, &mut line).unwrap().is_none());
    }

    #[test]
    fn printed_text_carries_no_control_or_format_character() {
        assert_eq!(
            printable("a\u{1b}[2Jb\nc\u{202e}d\u{2028}é"),
            "a\\u{1b}[2Jb\\u{a}c\\u{202e}d\\u{2028}é"
        );
    }

    #[test]
    fn a_file_of_garbage_reports_a_bounded_number_of_lines() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = "garbage\n".repeat(MAX_ENTRY_PROBLEMS + 50);
        fs::write(dir.path().join(ENTRIES_FILE), garbage).unwrap();
        let outcome = verify_export(dir.path(), &VerifyOptions::new(OffsetDateTime::UNIX_EPOCH));
        let entry_lines = outcome
            .problems
            .iter()
            .filter(|p| matches!(p.place, Place::Line(_)))
            .count();
        assert_eq!(entry_lines, MAX_ENTRY_PROBLEMS);
        assert!(
            outcome
                .problems
                .iter()
                .any(|p| p.kind == ProblemKind::MoreNotShown(50))
        );
        assert_eq!(outcome.entries, (MAX_ENTRY_PROBLEMS + 50) as u64);
    }
}
