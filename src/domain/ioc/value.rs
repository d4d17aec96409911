//! Checking and normalising the value of one IOC according to its type, and the ATT&CK
//! technique ids that come with it.
//!
//! Values are normalised only where the normal form is unambiguous, so that the same indicator
//! sent twice converges: addresses in their canonical text, domain names and hashes in lower
//! case. URLs, e-mail local parts and file names are kept as sent, because a pattern matches
//! by string equality and any rewriting could make the indicator miss what the logs recorded.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::exports::{NetworkBounds, NetworkTooWide};

/// Longest domain name, without the trailing dot (RFC 1035 § 2.3.4).
pub const MAX_DOMAIN_LEN: usize = 253;
/// Longest label of a domain name (RFC 1035 § 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Longest local part of an e-mail address (RFC 5321 § 4.5.3.1.1).
pub const MAX_LOCAL_PART_LEN: usize = 64;
/// Longest e-mail address (RFC 5321 forward-path, less the angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// The kinds of IOC the simple API takes.
///
/// On the wire: `ipv4`, `ipv6`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`,
/// `file_name`; `file name` (as the issue wrote it) is accepted for `file_name`. Names are
/// case-sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum IocType {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    FileName,
}

impl IocType {
    pub const ALL: [IocType; 9] = [
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Domain,
        IocType::Url,
        IocType::Email,
        IocType::Md5,
        IocType::Sha1,
        IocType::Sha256,
        IocType::FileName,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Domain => "domain",
            IocType::Url => "url",
            IocType::Email => "email",
            IocType::Md5 => "md5",
            IocType::Sha1 => "sha1",
            IocType::Sha256 => "sha256",
            IocType::FileName => "file_name",
        }
    }

    /// What a person calls it (used in the indicator's name).
    pub fn label(self) -> &'static str {
        match self {
            IocType::Ipv4 => "IPv4 address",
            IocType::Ipv6 => "IPv6 address",
            IocType::Domain => "Domain name",
            IocType::Url => "URL",
            IocType::Email => "E-mail address",
            IocType::Md5 => "MD5",
            IocType::Sha1 => "SHA-1",
            IocType::Sha256 => "SHA-256",
            IocType::FileName => "File name",
        }
    }
}

impl fmt::Display for IocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown IOC type {0:?}; expected one of ipv4, ipv6, domain, url, email, md5, sha1, sha256, file_name"
)]
pub struct UnknownType(pub String);

impl FromStr for IocType {
    type Err = UnknownType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "file name" {
            return Ok(IocType::FileName);
        }
        IocType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownType(shorten(s)))
    }
}

impl TryFrom<String> for IocType {
    type Error = UnknownType;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<IocType> for &'static str {
    fn from(t: IocType) -> Self {
        t.as_str()
    }
}

/// Longest piece of client input quoted back in an error message.
const MAX_QUOTED_CHARS: usize = 64;

/// `s`, cut to [`MAX_QUOTED_CHARS`] characters, for an error message.
pub(super) fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Why a domain name (alone, or the host of a URL, or the domain of an e-mail address) is
/// not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error(
        "must be ASCII: send an internationalised name in its punycode form (xn--…), as DNS \
         carries it"
    )]
    NotAscii,
    #[error("is longer than {MAX_DOMAIN_LEN} characters")]
    TooLong,
    #[error("has an empty label (two dots in a row, or a dot at the start)")]
    EmptyLabel,
    #[error("has a label longer than {MAX_LABEL_LEN} characters")]
    LabelTooLong,
    #[error("labels may hold only letters, digits, '-' and '_'")]
    LabelCharacters,
    #[error("a label may not start or end with '-'")]
    LabelHyphen,
    #[error("needs at least two labels (a single name such as \"localhost\" is not shared)")]
    SingleLabel,
    #[error("its last label is all digits: not a domain name (an address goes in type ipv4)")]
    NumericTld,
}

/// Why a value is not a valid IOC of its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("must not be empty")]
    Empty,
    #[error("looks defanged (hxxp://, [.], [@], …): send the real value")]
    Defanged,
    #[error("is not an IPv4 address (a.b.c.d) or network (a.b.c.d/n)")]
    Ipv4,
    #[error("is not an IPv6 address or network (…/n)")]
    Ipv6,
    #[error("the network prefix must be a number from 0 to {max}")]
    Prefix { max: u8 },
    /// Wider than the export policy's bound (`policies/exports.toml`): it would take whole
    /// providers' networks into every blocklist fed from the hub.
    #[error("the network {0}: too broad to be an indicator")]
    PrefixTooWide(NetworkTooWide),
    #[error("the address has host bits set for its prefix: the network is {network}")]
    HostBits { network: String },
    #[error("domain name {0}")]
    Domain(DomainError),
    #[error("a URL may not contain spaces or control characters")]
    UrlCharacters,
    #[error("a URL must start with a scheme and \"://\" (e.g. https://)")]
    UrlScheme,
    #[error("the URL has no host")]
    UrlNoHost,
    #[error("the URL's host {0}")]
    UrlHost(DomainError),
    #[error("the URL's host is not a valid IPv6 address in brackets")]
    UrlIpv6,
    #[error("the URL's port must be a number from 0 to 65535")]
    UrlPort,
    #[error("is not an e-mail address (local-part@domain)")]
    EmailShape,
    #[error(
        "the local part of the e-mail address must be 1 to {MAX_LOCAL_PART_LEN} characters of \
         A-Z a-z 0-9 and !#$%&'*+-/=?^_`{{|}}~, with single dots between them (quoted local \
         parts and non-ASCII addresses are not taken)"
    )]
    EmailLocal,
    #[error("the e-mail address is longer than {MAX_EMAIL_LEN} characters")]
    EmailTooLong,
    #[error("the e-mail domain {0}")]
    EmailDomain(DomainError),
    #[error("{algorithm} needs {expected} hexadecimal digits, found {found} characters")]
    HashLength {
        algorithm: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("a hash holds only hexadecimal digits (0-9, a-f)")]
    HashDigits,
    #[error("a file name may not contain '/' or control characters")]
    FileNameCharacters,
    #[error("\".\", \"..\" and blank names are not file names")]
    FileNameReserved,
    #[error("is a Windows path, not a file name: send its last component")]
    FileNamePath,
}

/// Checks `value` as an IOC of type `kind` and returns its normal form. A network may be no
/// wider than `bounds` allow.
///
/// Surrounding whitespace is dropped except for file names, where it may be part of the name
/// (a trailing space hides an extension on some systems).
pub fn normalise(kind: IocType, value: &str, bounds: &NetworkBounds) -> Result<String, ValueError> {
    let trimmed = match kind {
        IocType::FileName => value,
        _ => value.trim(),
    };
    if trimmed.is_empty() {
        return Err(ValueError::Empty);
    }
    if !matches!(
        kind,
        IocType::FileName | IocType::Md5 | IocType::Sha1 | IocType::Sha256
    ) && looks_defanged(trimmed)
    {
        return Err(ValueError::Defanged);
    }
    match kind {
        IocType::Ipv4 => network::<Ipv4Addr>(trimmed, 32, bounds, ValueError::Ipv4),
        IocType::Ipv6 => network::<Ipv6Addr>(trimmed, 128, bounds, ValueError::Ipv6),
        IocType::Domain => {
            // The root's dot ("example.com.") names the same domain.
            let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
            domain(name, 2).map_err(ValueError::Domain)
        }
        IocType::Url => url(trimmed),
        IocType::Email => email(trimmed),
        IocType::Md5 => hash(trimmed, "MD5", 32),
        IocType::Sha1 => hash(trimmed, "SHA-1", 40),
        IocType::Sha256 => hash(trimmed, "SHA-256", 64),
        IocType::FileName => file_name(trimmed),
    }
}

/// Defanging marks that make a value unusable by any tool; a provider that pasted them from a
/// report should learn it now rather than share an indicator that never matches.
fn looks_defanged(value: &str) -> bool {
    const MARKS: [&str; 10] = [
        "[.]", "(.)", "{.}", "[dot]", "(dot)", "[@]", "[at]", "(at)", "[:]", "[://]",
    ];
    let lower = value.to_ascii_lowercase();
    lower.starts_with("hxxp://")
        || lower.starts_with("hxxps://")
        || MARKS.iter().any(|m| lower.contains(m))
}

/// The two address types, so one function handles both networks.
trait Address: FromStr + fmt::Display + Copy {
    fn to_u128(self) -> u128;
    fn from_u128(bits: u128) -> Self;
    /// The export policy's bound on `self/prefix`.
    fn bounded(self, bounds: &NetworkBounds, prefix: u8) -> Result<(), NetworkTooWide>;
}

impl Address for Ipv4Addr {
    fn to_u128(self) -> u128 {
        u128::from(u32::from(self))
    }

    fn bounded(self, bounds: &NetworkBounds, prefix: u8) -> Result<(), NetworkTooWide> {
        bounds.check_ipv4(prefix)
    }

    fn from_u128(bits: u128) -> Self {
        // Only ever called with bits that came from an IPv4 address.
        Ipv4Addr::from(u32::try_from(bits).unwrap_or(0))
    }
}

impl Address for Ipv6Addr {
    fn to_u128(self) -> u128 {
        u128::from(self)
    }

    fn from_u128(bits: u128) -> Self {
        Ipv6Addr::from(bits)
    }

    fn bounded(self, bounds: &NetworkBounds, prefix: u8) -> Result<(), NetworkTooWide> {
        bounds.check_ipv6(Some(self), prefix)
    }
}

/// An address, or a network in CIDR notation (STIX allows both in `ipv4-addr` and
/// `ipv6-addr`). The address is written in its canonical form (for IPv6, RFC 5952: lower case,
/// longest zero run compressed); a full-length prefix is dropped, since `a/32` is `a`; a
/// network must be written with its host bits clear, so that `10.1.2.3/24` is not silently
/// read as `10.1.2.0/24`.
fn network<A: Address>(
    value: &str,
    max: u8,
    bounds: &NetworkBounds,
    invalid: ValueError,
) -> Result<String, ValueError> {
    let (addr, prefix) = match value.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (value, None),
    };
    let addr: A = addr.parse().map_err(|_| invalid)?;
    let Some(prefix) = prefix else {
        return Ok(addr.to_string());
    };
    // `u8::from_str` would take "+8"; only plain digits are CIDR.
    let prefix = Some(prefix)
        .filter(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u8>().ok())
        .filter(|p| *p <= max)
        .ok_or(ValueError::Prefix { max })?;
    if prefix == max {
        return Ok(addr.to_string());
    }
    addr.bounded(bounds, prefix)
        .map_err(ValueError::PrefixTooWide)?;
    let host_bits = u32::from(max - prefix);
    let mask = 1u128
        .checked_shl(host_bits)
        .map_or(u128::MAX, |bit| bit - 1);
    if addr.to_u128() & mask != 0 {
        let network = A::from_u128(addr.to_u128() & !mask);
        return Err(ValueError::HostBits {
            network: format!("{network}/{prefix}"),
        });
    }
    Ok(format!("{addr}/{prefix}"))
}

/// A domain name of at least `min_labels` labels, in lower case. Labels are letters, digits
/// and hyphens, plus `_`: DNS itself allows it, and names such as `_dmarc.example.com` or
/// hosts set up by attackers do carry it (the blocklist export takes it too). Non-ASCII
/// names are refused rather than converted: without the UTS 46 mapping tables we could not
/// convert them the way resolvers do. The blocklist export applies the same rules.
pub(crate) fn domain(name: &str, min_labels: usize) -> Result<String, DomainError> {
    if !name.is_ascii() {
        return Err(DomainError::NotAscii);
    }
    if name.len() > MAX_DOMAIN_LEN {
        return Err(DomainError::TooLong);
    }
    let mut labels = 0;
    let mut last = "";
    for label in name.split('.') {
        if label.is_empty() {
            return Err(DomainError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(DomainError::LabelTooLong);
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(DomainError::LabelCharacters);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainError::LabelHyphen);
        }
        labels += 1;
        last = label;
    }
    if labels < min_labels {
        return Err(DomainError::SingleLabel);
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::NumericTld);
    }
    Ok(name.to_ascii_lowercase())
}

/// A URL with an authority: `scheme://[userinfo@]host[:port][/path][?query][#fragment]`,
/// where the host is a domain name (one label allowed: `http://intranet/` is a real URL), an
/// IPv4 address or an IPv6 address in brackets. Kept exactly as sent. The blocklist export
/// applies the same rules.
pub(crate) fn url(value: &str) -> Result<String, ValueError> {
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ValueError::UrlCharacters);
    }
    let (scheme, rest) = value.split_once("://").ok_or(ValueError::UrlScheme)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return Err(ValueError::UrlScheme);
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_userinfo, hp)| hp);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (v6, after) = bracketed.split_once(']').ok_or(ValueError::UrlIpv6)?;
            v6.parse::<Ipv6Addr>().map_err(|_| ValueError::UrlIpv6)?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(ValueError::UrlPort)?),
            };
            (None, port)
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(host_port), None),
        },
    };
    if let Some(port) = port {
        let ok = (1..=5).contains(&port.len())
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok();
        if !ok {
            return Err(ValueError::UrlPort);
        }
    }
    if let Some(host) = host {
        if host.is_empty() {
            return Err(ValueError::UrlNoHost);
        }
        if host.parse::<Ipv4Addr>().is_err() {
            let name = host.strip_suffix('.').unwrap_or(host);
            domain(name, 1).map_err(ValueError::UrlHost)?;
        }
    }
    Ok(value.to_owned())
}

/// `local@domain`, the local part a dot-atom (RFC 5322 § 3.2.3), kept as sent; the domain in
/// lower case.
fn email(value: &str) -> Result<String, ValueError> {
    if value.len() > MAX_EMAIL_LEN {
        return Err(ValueError::EmailTooLong);
    }
    let (local, domain_part) = value.rsplit_once('@').ok_or(ValueError::EmailShape)?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    let local_ok = (1..=MAX_LOCAL_PART_LEN).contains(&local.len())
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(atext));
    if !local_ok {
        return Err(ValueError::EmailLocal);
    }
    let domain_part = domain(domain_part, 2).map_err(ValueError::EmailDomain)?;
    Ok(format!("{local}@{domain_part}"))
}

/// Hex digits of exactly the algorithm's length, in lower case.
fn hash(value: &str, algorithm: &'static str, expected: usize) -> Result<String, ValueError> {
    let found = value.chars().count();
    if found != expected {
        return Err(ValueError::HashLength {
            algorithm,
            expected,
            found,
        });
    }
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ValueError::HashDigits);
    }
    Ok(value.to_ascii_lowercase())
}

/// The name of one file, as a file system stores it, kept exactly as sent: anything but `/`
/// and control characters. A backslash is allowed (POSIX names may hold it, and malware
/// uses odd names), as are format characters such as U+202E (the right-to-left override that
/// disguises `exe` as `gpj`): they are the very thing to detect. A Windows path is refused
/// because a `file:name` comparison would never match it.
fn file_name(value: &str) -> Result<String, ValueError> {
    if value.chars().any(|c| c == '/' || c.is_control()) {
        return Err(ValueError::FileNameCharacters);
    }
    if value == "." || value == ".." || value.chars().all(char::is_whitespace) {
        return Err(ValueError::FileNameReserved);
    }
    let b = value.as_bytes();
    let drive = b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\';
    if drive || value.starts_with("\\\\") {
        return Err(ValueError::FileNamePath);
    }
    Ok(value.to_owned())
}

/// A MITRE ATT&CK technique or sub-technique id: `T` and four digits, optionally `.` and
/// three digits (`T1059`, `T1059.001`). Written exactly so: ids are case-sensitive in ATT&CK.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Technique(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ATT&CK technique id (T1234 or T1234.001)")]
pub struct TechniqueError(pub String);

impl Technique {
    pub fn parse(s: &str) -> Result<Self, TechniqueError> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let ok = match b.len() {
            5 => b[0] == b'T' && digits(1..5),
            9 => b[0] == b'T' && digits(1..5) && b[5] == b'.' && digits(6..9),
            _ => false,
        };
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(TechniqueError(shorten(s)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its page on attack.mitre.org (`/techniques/T1059/001/` for a sub-technique).
    pub fn url(&self) -> String {
        match self.0.split_once('.') {
            Some((parent, sub)) => format!("https://attack.mitre.org/techniques/{parent}/{sub}/"),
            None => format!("https://attack.mitre.org/techniques/{}/", self.0),
        }
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(kind: IocType, v: &str) -> String {
        normalise(kind, v, &NetworkBounds::default())
            .unwrap_or_else(|e| panic!("{kind} {v:?}: {e}"))
    }

    fn err(kind: IocType, v: &str) -> ValueError {
        match normalise(kind, v, &NetworkBounds::default()) {
            Ok(n) => panic!("{kind} {v:?} accepted as {n:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn type_names_on_the_wire() {
        for t in IocType::ALL {
            assert_eq!(t.as_str().parse::<IocType>(), Ok(t));
        }
        assert_eq!("file name".parse::<IocType>(), Ok(IocType::FileName));
        for bad in ["IPv4", "ip", "file-name", "sha-256", "", "hash"] {
            assert!(bad.parse::<IocType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv4_addresses_and_networks() {
        assert_eq!(ok(IocType::Ipv4, " 198.51.100.7\n"), "198.51.100.7");
        assert_eq!(ok(IocType::Ipv4, "198.51.100.7/32"), "198.51.100.7");
        assert_eq!(ok(IocType::Ipv4, "198.51.0.0/16"), "198.51.0.0/16");
        assert_eq!(ok(IocType::Ipv4, "198.51.100.0/24"), "198.51.100.0/24");
        for bad in [
            "198.51.100",
            "198.51.100.256",
            "198.051.100.7",
            "0x7f.0.0.1",
            "198.51.100.7:80",
            "2001:db8::1",
            "198.51.100.7 198.51.100.8",
        ] {
            assert_eq!(err(IocType::Ipv4, bad), ValueError::Ipv4, "{bad}");
        }
        assert_eq!(
            err(IocType::Ipv4, "198.51.100.0/33"),
            ValueError::Prefix { max: 32 }
        );
        assert_eq!(
            err(IocType::Ipv4, "198.51.100.0/+24"),
            ValueError::Prefix { max: 32 }
        );
        assert_eq!(
            err(IocType::Ipv4, "10.0.0.0/8"),
            ValueError::PrefixTooWide(NetworkTooWide {
                prefix: 8,
                ipv4_prefix: None,
                min: 16
            })
        );
        assert_eq!(
            err(IocType::Ipv4, "0.0.0.0/0").to_string(),
            "the network /0 is wider than /16: too broad to be an indicator"
        );
        assert_eq!(
            err(IocType::Ipv4, "198.51.100.7/24"),
            ValueError::HostBits {
                network: "198.51.100.0/24".into()
            }
        );
        assert_eq!(err(IocType::Ipv4, "198[.]51.100.7"), ValueError::Defanged);
    }

    #[test]
    fn the_network_bound_is_the_export_policys() {
        let strict = NetworkBounds {
            ipv4_min_prefix: 24,
            ipv6_min_prefix: 48,
        };
        assert!(matches!(
            normalise(IocType::Ipv4, "198.51.0.0/16", &strict),
            Err(ValueError::PrefixTooWide(_))
        ));
        assert_eq!(
            normalise(IocType::Ipv4, "198.51.100.0/24", &strict),
            Ok("198.51.100.0/24".into())
        );
        assert!(normalise(IocType::Ipv6, "2001:db8::/32", &strict).is_err());
        let loose = NetworkBounds {
            ipv4_min_prefix: 8,
            ipv6_min_prefix: 16,
        };
        assert_eq!(
            normalise(IocType::Ipv4, "10.0.0.0/8", &loose),
            Ok("10.0.0.0/8".into())
        );
        assert!(normalise(IocType::Ipv4, "0.0.0.0/0", &loose).is_err());
    }

    #[test]
    fn ipv6_is_written_in_its_canonical_form() {
        assert_eq!(ok(IocType::Ipv6, "2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
        assert_eq!(ok(IocType::Ipv6, "2001:0db8::0001"), "2001:db8::1");
        assert_eq!(ok(IocType::Ipv6, "::1"), "::1");
        assert_eq!(
            ok(IocType::Ipv6, "2001:db8:0:0:1:0:0:1"),
            "2001:db8::1:0:0:1"
        );
        assert_eq!(
            ok(IocType::Ipv6, "::ffff:198.51.100.7"),
            "::ffff:198.51.100.7"
        );
        assert_eq!(ok(IocType::Ipv6, "2001:DB8::/32"), "2001:db8::/32");
        assert_eq!(ok(IocType::Ipv6, "2001:db8::1/128"), "2001:db8::1");
        assert_eq!(
            err(IocType::Ipv6, "2001:db8::1/64"),
            ValueError::HostBits {
                network: "2001:db8::/64".into()
            }
        );
        assert_eq!(
            err(IocType::Ipv6, "2001::/16"),
            ValueError::PrefixTooWide(NetworkTooWide {
                prefix: 16,
                ipv4_prefix: None,
                min: 32
            })
        );
        // All of IPv4, written the IPv6 way.
        assert_eq!(
            err(IocType::Ipv6, "::ffff:0.0.0.0/96"),
            ValueError::PrefixTooWide(NetworkTooWide {
                prefix: 96,
                ipv4_prefix: Some(0),
                min: 16
            })
        );
        assert_eq!(
            ok(IocType::Ipv6, "::ffff:198.51.100.0/120"),
            "::ffff:198.51.100.0/120"
        );
        for bad in [
            "2001:db8::1::2",
            "fe80::1%eth0",
            "198.51.100.7",
            "[2001:db8::1]",
            "g::1",
        ] {
            assert_eq!(err(IocType::Ipv6, bad), ValueError::Ipv6, "{bad}");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(ok(IocType::Domain, "Evil.Example.COM"), "evil.example.com");
        assert_eq!(ok(IocType::Domain, "evil.example.com."), "evil.example.com");
        assert_eq!(
            ok(IocType::Domain, "xn--bcher-kva.example"),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            ok(IocType::Domain, "_dmarc.example.com"),
            "_dmarc.example.com"
        );
        let d = |e| ValueError::Domain(e);
        assert_eq!(
            err(IocType::Domain, "bücher.example"),
            d(DomainError::NotAscii)
        );
        assert_eq!(
            err(IocType::Domain, "localhost"),
            d(DomainError::SingleLabel)
        );
        assert_eq!(
            err(IocType::Domain, "a..example"),
            d(DomainError::EmptyLabel)
        );
        assert_eq!(
            err(IocType::Domain, ".example.com"),
            d(DomainError::EmptyLabel)
        );
        assert_eq!(
            err(IocType::Domain, "example.com.."),
            d(DomainError::EmptyLabel)
        );
        assert_eq!(
            err(IocType::Domain, "-a.example"),
            d(DomainError::LabelHyphen)
        );
        assert_eq!(
            err(IocType::Domain, "a-.example"),
            d(DomainError::LabelHyphen)
        );
        assert_eq!(
            err(IocType::Domain, "a b.example"),
            d(DomainError::LabelCharacters)
        );
        assert_eq!(
            err(IocType::Domain, "a'b.example"),
            d(DomainError::LabelCharacters)
        );
        assert_eq!(
            err(IocType::Domain, "http://a.example"),
            d(DomainError::LabelCharacters)
        );
        assert_eq!(
            err(IocType::Domain, "198.51.100.7"),
            d(DomainError::NumericTld)
        );
        assert_eq!(err(IocType::Domain, "evil[.]example"), ValueError::Defanged);
        let long_label = format!("{}.example", "a".repeat(64));
        assert_eq!(
            err(IocType::Domain, &long_label),
            d(DomainError::LabelTooLong)
        );
        let long = format!("{}example", "abcdefghi.".repeat(25));
        assert_eq!(err(IocType::Domain, &long), d(DomainError::TooLong));
    }

    #[test]
    fn urls_are_kept_as_sent() {
        for good in [
            "http://evil.example/it's/a\\path?q=1#x",
            "HTTPS://Evil.Example:8443/",
            "https://user:pw@198.51.100.7/x",
            "http://[2001:db8::1]:8080/x",
            "ldap://evil.example/a",
            "http://intranet/wpad.dat",
            "http://evil.example./x",
            "https://evil.example/caf%C3%A9/é",
        ] {
            assert_eq!(ok(IocType::Url, good), good);
        }
        assert_eq!(
            ok(IocType::Url, " http://a.example/ \n"),
            "http://a.example/"
        );
        assert_eq!(err(IocType::Url, "evil.example/x"), ValueError::UrlScheme);
        assert_eq!(
            err(IocType::Url, "mailto:a@b.example"),
            ValueError::UrlScheme
        );
        assert_eq!(
            err(IocType::Url, "1http://a.example/"),
            ValueError::UrlScheme
        );
        assert_eq!(err(IocType::Url, "http:///x"), ValueError::UrlNoHost);
        assert_eq!(
            err(IocType::Url, "http://a.example/a b"),
            ValueError::UrlCharacters
        );
        assert_eq!(
            err(IocType::Url, "http://a.example/\u{0}"),
            ValueError::UrlCharacters
        );
        assert_eq!(
            err(IocType::Url, "http://a.example:99999/"),
            ValueError::UrlPort
        );
        assert_eq!(err(IocType::Url, "http://a.example:/"), ValueError::UrlPort);
        assert_eq!(err(IocType::Url, "http://[::1/"), ValueError::UrlIpv6);
        assert_eq!(err(IocType::Url, "http://[::1]x/"), ValueError::UrlPort);
        assert_eq!(
            err(IocType::Url, "http://bücher.example/"),
            ValueError::UrlHost(DomainError::NotAscii)
        );
        assert_eq!(
            err(IocType::Url, "http://198.51.100.300/"),
            ValueError::UrlHost(DomainError::NumericTld)
        );
        assert_eq!(
            err(IocType::Url, "hxxp://evil.example/"),
            ValueError::Defanged
        );
    }

    #[test]
    fn email_addresses() {
        assert_eq!(
            ok(IocType::Email, "O'Brien@Evil.Example"),
            "O'Brien@evil.example"
        );
        assert_eq!(ok(IocType::Email, "a.b+c@x.example"), "a.b+c@x.example");
        for bad in [
            "@x.example",
            ".a@x.example",
            "a..b@x.example",
            "a b@x.example",
            "é@x.example",
            "\"a\"@x.example",
        ] {
            assert_eq!(err(IocType::Email, bad), ValueError::EmailLocal, "{bad}");
        }
        assert_eq!(err(IocType::Email, "a.example"), ValueError::EmailShape);
        assert_eq!(
            err(IocType::Email, "a@localhost"),
            ValueError::EmailDomain(DomainError::SingleLabel)
        );
        assert_eq!(
            err(IocType::Email, "a@x.example."),
            ValueError::EmailDomain(DomainError::EmptyLabel)
        );
        assert_eq!(err(IocType::Email, "a[@]x.example"), ValueError::Defanged);
        let long = format!("a@{}.example", "b".repeat(250));
        assert_eq!(err(IocType::Email, &long), ValueError::EmailTooLong);
    }

    #[test]
    fn hashes_are_exact_hex_in_lower_case() {
        let md5 = "D41D8CD98F00B204E9800998ECF8427E";
        assert_eq!(ok(IocType::Md5, md5), md5.to_ascii_lowercase());
        assert_eq!(
            ok(IocType::Sha1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            err(IocType::Sha256, md5),
            ValueError::HashLength {
                algorithm: "SHA-256",
                expected: 64,
                found: 32
            }
        );
        assert_eq!(
            err(IocType::Md5, "z41d8cd98f00b204e9800998ecf8427e"),
            ValueError::HashDigits
        );
        assert_eq!(
            err(IocType::Md5, "0xd41d8cd98f00b204e9800998ecf842"),
            ValueError::HashDigits
        );
        assert!(matches!(
            err(IocType::Md5, "é1d8cd98f00b204e9800998ecf8427e"),
            ValueError::HashDigits | ValueError::HashLength { .. }
        ));
    }

    #[test]
    fn file_names() {
        for good in [
            "invoice.pdf.exe",
            "it's a \\ name.doc",
            " leading space",
            "cv\u{202e}fdp.exe",
            "C:evil.exe",
        ] {
            assert_eq!(ok(IocType::FileName, good), good);
        }
        assert_eq!(err(IocType::FileName, ""), ValueError::Empty);
        assert_eq!(
            err(IocType::FileName, "tmp/x"),
            ValueError::FileNameCharacters
        );
        assert_eq!(
            err(IocType::FileName, "a\nb"),
            ValueError::FileNameCharacters
        );
        assert_eq!(
            err(IocType::FileName, "a\u{85}b"),
            ValueError::FileNameCharacters
        );
        assert_eq!(err(IocType::FileName, ".."), ValueError::FileNameReserved);
        assert_eq!(err(IocType::FileName, "   "), ValueError::FileNameReserved);
        assert_eq!(
            err(IocType::FileName, "C:\\Windows\\evil.exe"),
            ValueError::FileNamePath
        );
        assert_eq!(
            err(IocType::FileName, "\\\\srv\\share\\x"),
            ValueError::FileNamePath
        );
    }

    #[test]
    fn technique_ids() {
        for good in ["T1059", "T1059.001", "T0000"] {
            assert_eq!(Technique::parse(good).map(|t| t.0), Ok(good.to_owned()));
        }
        for bad in [
            "t1059",
            "T105",
            "T10590",
            "T1059.01",
            "T1059.0001",
            "T1059.",
            "TA0001",
            "T1059 ",
            "1059",
            "",
            "T1059/001",
            "T１０５９",
        ] {
            assert!(Technique::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Technique::parse("T1059.001").map(|t| t.url()),
            Ok("https://attack.mitre.org/techniques/T1059/001/".to_owned())
        );
        assert_eq!(
            Technique::parse("T1566").map(|t| t.url()),
            Ok("https://attack.mitre.org/techniques/T1566/".to_owned())
        );
    }
}
