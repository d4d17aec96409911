//! Strict JSON reading of untrusted input.
//!
//! `serde_json` accepts duplicate keys (the last one wins), recurses once per nesting level
//! (up to its own limit of [`SERDE_JSON_RECURSION_LIMIT`]) and quietly turns an integer too
//! large for 64 bits into a lossy float. Two parsers that disagree on such input can be made to
//! see two different objects, and the bytes relais stores are the bytes that were signed, so
//! relais reads untrusted JSON with this module instead. It refuses:
//!
//! - invalid UTF-8, a byte order mark, and anything but whitespace after the value;
//! - a duplicate key in any object, at any depth, compared after unescaping (`"a"` and
//!   `"\u0061"` are the same key);
//! - nesting deeper than [`JsonLimits::max_depth`] (default [`DEFAULT_MAX_DEPTH`]): the parser
//!   keeps its own explicit stack and never recurses, so no input can exhaust the thread's stack,
//!   and because the limit is below serde_json's, text accepted here can always be read back
//!   later with `serde_json::from_str`;
//! - an integer that fits neither `i64` nor `u64`, and a number whose value as an `f64` is not
//!   finite (`1e400`);
//! - lone UTF-16 surrogates in `\u` escapes, and unescaped control characters in strings.
//!
//! The STIX containers, a TAXII envelope (`{"objects":[…],"more":…,"next":…}`) and a STIX bundle
//! (`{"type":"bundle","id":…,"objects":[…]}`), are read with [`read_stix`], [`envelope_objects`]
//! and [`bundle_objects`]: each object comes back as its exact text, byte for byte as it appears
//! in the input (key order, whitespace and escapes untouched), with the parsed value beside it.
//! A strictness error inside one object (a duplicate key, a number out of range, an element that
//! is not an object) refuses that object only, so an envelope can be answered object by object;
//! an error in the JSON syntax or the nesting depth refuses the whole document.
//!
//! Nothing here performs I/O. The size of the input is bounded before it gets here (the ingest
//! path's body limit); the parser allocates no more than a small multiple of the input size.

use serde_json::{Map, Number, Value};

use super::id::StixId;
use super::pointer::push_pointer;

/// Default bound on nesting: an envelope (1) holding an `objects` array (2) leaves STIX objects
/// 62 levels, far more than any real object uses.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// serde_json's own recursion limit, for reference: [`JsonLimits::max_depth`] must stay below
/// it so that every document accepted here can be re-read with serde_json.
pub const SERDE_JSON_RECURSION_LIMIT: usize = 128;

/// Longest key or number literal quoted in an error message (the rest is cut).
pub const MAX_QUOTED_CHARS: usize = 64;

/// Bounds on what the strict reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLimits {
    /// Deepest nesting of arrays and objects; the outermost value is at depth 1. Values above
    /// [`SERDE_JSON_RECURSION_LIMIT`] are lowered to it.
    pub max_depth: usize,
}

impl JsonLimits {
    pub const DEFAULT: Self = Self {
        max_depth: DEFAULT_MAX_DEPTH,
    };

    fn effective_depth(&self) -> usize {
        self.max_depth.min(SERDE_JSON_RECURSION_LIMIT)
    }
}

impl Default for JsonLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a document (or one object of it) was refused. `offset` is a byte offset into the input;
/// `path` is a JSON pointer (RFC 6901) to the value being read, empty for the whole document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 { offset: usize },
    #[error("JSON syntax error at byte {offset} ({}): {reason}", at(.path))]
    Syntax {
        offset: usize,
        path: String,
        reason: &'static str,
    },
    #[error("duplicate key {key:?} at byte {offset} ({})", at(.path))]
    DuplicateKey {
        offset: usize,
        /// The object holding the key.
        path: String,
        /// The key, unescaped, cut to [`MAX_QUOTED_CHARS`].
        key: String,
    },
    #[error("nesting deeper than {max_depth} levels at byte {offset} ({})", at(.path))]
    TooDeep {
        offset: usize,
        path: String,
        max_depth: usize,
    },
    #[error("number out of range at byte {offset} ({}): {literal}", at(.path))]
    NumberOutOfRange {
        offset: usize,
        path: String,
        /// The literal, cut to [`MAX_QUOTED_CHARS`].
        literal: String,
    },
    #[error("unexpected data after the JSON value at byte {offset}")]
    TrailingData { offset: usize },
    #[error("unexpected document shape ({}): {reason}", at(.path))]
    Shape { path: String, reason: &'static str },
}

impl JsonError {
    /// The byte offset of the error, when it has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::InvalidUtf8 { offset }
            | Self::Syntax { offset, .. }
            | Self::DuplicateKey { offset, .. }
            | Self::TooDeep { offset, .. }
            | Self::NumberOutOfRange { offset, .. }
            | Self::TrailingData { offset } => Some(*offset),
            Self::Shape { .. } => None,
        }
    }

    /// The JSON pointer of the error, when it has one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Syntax { path, .. }
            | Self::DuplicateKey { path, .. }
            | Self::TooDeep { path, .. }
            | Self::NumberOutOfRange { path, .. }
            | Self::Shape { path, .. } => Some(path),
            Self::InvalidUtf8 { .. } | Self::TrailingData { .. } => None,
        }
    }
}

fn at(path: &str) -> String {
    if path.is_empty() {
        "at the document root".to_owned()
    } else {
        // A pointer is built from keys that may hold any character: quote it so the message
        // stays on one line.
        format!("at {path:?}")
    }
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Parses one JSON value strictly (see the module documentation).
pub fn parse_strict(bytes: &[u8], limits: &JsonLimits) -> Result<Value, JsonError> {
    let text = utf8(bytes)?;
    Ok(parse_text(text, limits, None)?.root)
}

/// What held the objects of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Container {
    /// A TAXII 2.1 envelope.
    Envelope {
        more: Option<bool>,
        next: Option<String>,
    },
    /// A STIX 2.1 bundle.
    Bundle { id: String },
    /// A single STIX object, not wrapped in anything.
    Object,
}

/// One STIX object of a document: its exact text and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct RawObject<'a> {
    /// Position in the container's `objects` array (0 for a lone object).
    pub index: usize,
    /// Byte offset of `raw` in the input.
    pub offset: usize,
    /// The object exactly as it appears in the input.
    pub raw: &'a str,
    /// The parsed object, or why this object alone was refused: a duplicate key or a number out
    /// of range inside it, or an element that is not a JSON object.
    pub value: Result<Value, JsonError>,
}

/// A document read with [`read_stix`].
#[derive(Debug, Clone, PartialEq)]
pub struct StixDocument<'a> {
    pub container: Container,
    pub objects: Vec<RawObject<'a>>,
}

/// Reads a TAXII envelope, a STIX bundle or a lone STIX object (a JSON object with a `type`
/// other than `bundle`).
pub fn read_stix<'a>(bytes: &'a [u8], limits: &JsonLimits) -> Result<StixDocument<'a>, JsonError> {
    let text = utf8(bytes)?;
    let parsed = parse_text(text, limits, Some(OBJECTS))?;
    let (start, end) = parsed.root_span;
    let Value::Object(mut root) = parsed.root else {
        return Err(shape("", "a STIX document must be a JSON object"));
    };
    match root.get("type") {
        Some(Value::String(t)) if t == "bundle" => {
            let id = match root.get("id") {
                Some(Value::String(id)) => id.clone(),
                Some(_) => return Err(shape("/id", "a bundle id must be a string")),
                None => return Err(shape("/id", "a bundle must have an id")),
            };
            match StixId::parse(&id) {
                Ok(parsed) if parsed.object_type() == "bundle" => {}
                _ => return Err(shape("/id", "a bundle id must be bundle--<UUID>")),
            }
            let objects = take_objects(text, &mut root, parsed.captured)?;
            Ok(StixDocument {
                container: Container::Bundle { id },
                objects,
            })
        }
        Some(Value::String(_)) => {
            // A lone object: an `objects` array inside it (a custom property, say) is part of
            // the object, so a strictness error found there refuses the document.
            if let Some(error) = parsed.captured.into_iter().find_map(|c| c.error) {
                return Err(error);
            }
            Ok(StixDocument {
                container: Container::Object,
                objects: vec![RawObject {
                    index: 0,
                    offset: start,
                    raw: &text[start..end],
                    value: Ok(Value::Object(root)),
                }],
            })
        }
        Some(_) => Err(shape("/type", "type must be a string")),
        None => {
            if let Some(key) = root
                .keys()
                .find(|k| !matches!(k.as_str(), "objects" | "more" | "next"))
            {
                let mut path = String::new();
                push_pointer(&mut path, key);
                return Err(shape(
                    &path,
                    "neither a TAXII envelope (objects, more, next), a bundle nor a STIX object",
                ));
            }
            let more = match root.get("more") {
                None => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err(shape("/more", "more must be a boolean")),
            };
            let next = match root.get("next") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(shape("/next", "next must be a string")),
            };
            let objects = take_objects(text, &mut root, parsed.captured)?;
            Ok(StixDocument {
                container: Container::Envelope { more, next },
                objects,
            })
        }
    }
}

/// The objects of a TAXII 2.1 envelope, each with its exact text. An envelope without
/// `objects` has none.
pub fn envelope_objects<'a>(
    bytes: &'a [u8],
    limits: &JsonLimits,
) -> Result<Vec<RawObject<'a>>, JsonError> {
    let doc = read_stix(bytes, limits)?;
    match doc.container {
        Container::Envelope { .. } => Ok(doc.objects),
        Container::Bundle { .. } | Container::Object => Err(shape(
            "/type",
            "expected a TAXII envelope, found a STIX object",
        )),
    }
}

/// The objects of a STIX 2.1 bundle, each with its exact text. A bundle without `objects` has
/// none.
pub fn bundle_objects<'a>(
    bytes: &'a [u8],
    limits: &JsonLimits,
) -> Result<Vec<RawObject<'a>>, JsonError> {
    let doc = read_stix(bytes, limits)?;
    match doc.container {
        Container::Bundle { .. } => Ok(doc.objects),
        Container::Envelope { .. } => Err(shape("", "expected a STIX bundle, found an envelope")),
        Container::Object => Err(shape("/type", "expected a STIX bundle, found an object")),
    }
}

const OBJECTS: &str = "objects";

fn shape(path: &str, reason: &'static str) -> JsonError {
    JsonError::Shape {
        path: path.to_owned(),
        reason,
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, JsonError> {
    std::str::from_utf8(bytes).map_err(|e| JsonError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })
}

/// Pairs the elements of the root's `objects` array with the spans the parser captured.
fn take_objects<'a>(
    text: &'a str,
    root: &mut Map<String, Value>,
    captured: Vec<Captured>,
) -> Result<Vec<RawObject<'a>>, JsonError> {
    let items = match root.remove(OBJECTS) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(shape("/objects", "objects must be an array")),
    };
    if items.len() != captured.len() {
        // Cannot happen: the parser captures every element of the root's `objects` array.
        return Err(shape(
            "/objects",
            "internal error: object spans do not match",
        ));
    }
    Ok(items
        .into_iter()
        .zip(captured)
        .enumerate()
        .map(|(index, (item, span))| {
            let value = match (span.error, item) {
                (Some(error), _) => Err(error),
                (None, item @ Value::Object(_)) => Ok(item),
                (None, _) => Err(JsonError::Shape {
                    path: format!("/objects/{index}"),
                    reason: "a STIX object must be a JSON object",
                }),
            };
            RawObject {
                index,
                offset: span.start,
                raw: &text[span.start..span.end],
                value,
            }
        })
        .collect())
}

/// The span of one element of the captured array, and the first strictness error inside it.
#[derive(Debug)]
struct Captured {
    start: usize,
    end: usize,
    error: Option<JsonError>,
}

#[derive(Debug)]
struct Parsed {
    root: Value,
    root_span: (usize, usize),
    captured: Vec<Captured>,
}

enum Frame {
    Array {
        items: Vec<Value>,
        start: usize,
    },
    Object {
        map: Map<String, Value>,
        /// The key whose value is being read.
        key: Option<String>,
        start: usize,
    },
}

fn pointer(stack: &[Frame]) -> String {
    let mut path = String::new();
    for frame in stack {
        match frame {
            Frame::Array { items, .. } => {
                path.push('/');
                path.push_str(&items.len().to_string());
            }
            Frame::Object { key: Some(k), .. } => push_pointer(&mut path, k),
            Frame::Object { key: None, .. } => {}
        }
    }
    path
}

struct Cursor<'a> {
    b: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }
}

/// Where strictness errors go: straight out, or, inside an element of the captured array, onto
/// that element.
struct Sink {
    capture: Option<&'static str>,
    captured: Vec<Captured>,
    pending: Option<JsonError>,
}

impl Sink {
    fn inside_capture(&self, stack: &[Frame]) -> bool {
        let Some(capture) = self.capture else {
            return false;
        };
        matches!(
            stack,
            [Frame::Object { key: Some(k), .. }, Frame::Array { .. }, ..] if k == capture
        )
    }

    /// Records a strictness error: refuses the document, or only the current captured element.
    fn strict(&mut self, stack: &[Frame], error: JsonError) -> Result<(), JsonError> {
        if self.inside_capture(stack) {
            if self.pending.is_none() {
                self.pending = Some(error);
            }
            Ok(())
        } else {
            Err(error)
        }
    }
}

fn syntax(cur: &Cursor<'_>, stack: &[Frame], reason: &'static str) -> JsonError {
    JsonError::Syntax {
        offset: cur.pos,
        path: pointer(stack),
        reason,
    }
}

fn parse_text(
    text: &str,
    limits: &JsonLimits,
    capture: Option<&'static str>,
) -> Result<Parsed, JsonError> {
    let max_depth = limits.effective_depth();
    let mut cur = Cursor {
        b: text.as_bytes(),
        text,
        pos: 0,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut sink = Sink {
        capture,
        captured: Vec::new(),
        pending: None,
    };

    cur.skip_ws();
    let root_start = cur.pos;
    'value: loop {
        // Read the start of a value; containers push a frame and go on with their first element.
        let start = cur.pos;
        let mut done = match cur.peek() {
            None => return Err(syntax(&cur, &stack, "unexpected end of input")),
            Some(open @ (b'{' | b'[')) => {
                if stack.len() >= max_depth {
                    return Err(JsonError::TooDeep {
                        offset: cur.pos,
                        path: pointer(&stack),
                        max_depth,
                    });
                }
                cur.pos += 1;
                cur.skip_ws();
                if open == b'{' {
                    if cur.peek() == Some(b'}') {
                        cur.pos += 1;
                        Value::Object(Map::new())
                    } else {
                        stack.push(Frame::Object {
                            map: Map::new(),
                            key: None,
                            start,
                        });
                        read_key(&mut cur, &mut stack, &mut sink)?;
                        continue 'value;
                    }
                } else if cur.peek() == Some(b']') {
                    cur.pos += 1;
                    Value::Array(Vec::new())
                } else {
                    stack.push(Frame::Array {
                        items: Vec::new(),
                        start,
                    });
                    continue 'value;
                }
            }
            Some(b'"') => Value::String(read_string(&mut cur, &stack)?),
            Some(b't') => read_literal(&mut cur, &stack, "true", Value::Bool(true))?,
            Some(b'f') => read_literal(&mut cur, &stack, "false", Value::Bool(false))?,
            Some(b'n') => read_literal(&mut cur, &stack, "null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => read_number(&mut cur, &stack, &mut sink)?,
            Some(_) => {
                let reason = if start == 0 && text.starts_with('\u{feff}') {
                    "a byte order mark is not allowed"
                } else {
                    "expected a JSON value"
                };
                return Err(syntax(&cur, &stack, reason));
            }
        };
        let mut done_start = start;

        // A value is complete: hand it to its container, closing containers as they end.
        loop {
            if sink.capture.is_some() && stack.len() == 2 && sink.inside_capture(&stack) {
                sink.captured.push(Captured {
                    start: done_start,
                    end: cur.pos,
                    error: sink.pending.take(),
                });
            }
            let Some(frame) = stack.last_mut() else {
                let root_end = cur.pos;
                cur.skip_ws();
                if cur.pos != cur.b.len() {
                    return Err(JsonError::TrailingData { offset: cur.pos });
                }
                return Ok(Parsed {
                    root: done,
                    root_span: (root_start, root_end),
                    captured: sink.captured,
                });
            };
            match frame {
                Frame::Array { items, .. } => {
                    items.push(done);
                    cur.skip_ws();
                    match cur.peek() {
                        Some(b',') => {
                            cur.pos += 1;
                            cur.skip_ws();
                            continue 'value;
                        }
                        Some(b']') => cur.pos += 1,
                        _ => return Err(syntax(&cur, &stack, "expected ',' or ']'")),
                    }
                }
                Frame::Object { map, key, .. } => {
                    if let Some(k) = key.take() {
                        // A repeated key was reported already; keep the first value.
                        map.entry(k).or_insert(done);
                    }
                    cur.skip_ws();
                    match cur.peek() {
                        Some(b',') => {
                            cur.pos += 1;
                            cur.skip_ws();
                            read_key(&mut cur, &mut stack, &mut sink)?;
                            continue 'value;
                        }
                        Some(b'}') => cur.pos += 1,
                        _ => return Err(syntax(&cur, &stack, "expected ',' or '}'")),
                    }
                }
            }
            // The container on top of the stack has just closed.
            match stack.pop() {
                Some(Frame::Array { items, start }) => {
                    done = Value::Array(items);
                    done_start = start;
                }
                Some(Frame::Object { map, start, .. }) => {
                    done = Value::Object(map);
                    done_start = start;
                }
                None => return Err(syntax(&cur, &stack, "internal error: empty stack")),
            }
        }
    }
}

/// Reads `"key"` and the `:` after it into the object frame on top of the stack.
fn read_key(cur: &mut Cursor<'_>, stack: &mut [Frame], sink: &mut Sink) -> Result<(), JsonError> {
    if cur.peek() != Some(b'"') {
        return Err(syntax(cur, stack, "expected a string key"));
    }
    let key_offset = cur.pos;
    let key = read_string(cur, stack)?;
    let duplicate = match stack.last() {
        Some(Frame::Object { map, .. }) => map.contains_key(&key),
        _ => false,
    };
    if duplicate {
        let error = JsonError::DuplicateKey {
            offset: key_offset,
            path: pointer(stack),
            key: cut(&key),
        };
        sink.strict(stack, error)?;
    }
    cur.skip_ws();
    if cur.peek() != Some(b':') {
        return Err(syntax(cur, stack, "expected ':' after a key"));
    }
    cur.pos += 1;
    cur.skip_ws();
    if let Some(Frame::Object { key: slot, .. }) = stack.last_mut() {
        *slot = Some(key);
    }
    Ok(())
}

fn read_literal(
    cur: &mut Cursor<'_>,
    stack: &[Frame],
    word: &'static str,
    value: Value,
) -> Result<Value, JsonError> {
    if cur.b[cur.pos..].starts_with(word.as_bytes()) {
        cur.pos += word.len();
        Ok(value)
    } else {
        Err(syntax(cur, stack, "invalid literal"))
    }
}

fn read_number(cur: &mut Cursor<'_>, stack: &[Frame], sink: &mut Sink) -> Result<Value, JsonError> {
    let start = cur.pos;
    let digits = |cur: &mut Cursor<'_>| {
        let from = cur.pos;
        while let Some(b'0'..=b'9') = cur.peek() {
            cur.pos += 1;
        }
        cur.pos - from
    };
    if cur.peek() == Some(b'-') {
        cur.pos += 1;
    }
    match cur.peek() {
        Some(b'0') => {
            cur.pos += 1;
            if let Some(b'0'..=b'9') = cur.peek() {
                return Err(syntax(cur, stack, "leading zeros are not allowed"));
            }
        }
        Some(b'1'..=b'9') => {
            digits(cur);
        }
        _ => return Err(syntax(cur, stack, "expected a digit")),
    }
    let mut integer = true;
    if cur.peek() == Some(b'.') {
        integer = false;
        cur.pos += 1;
        if digits(cur) == 0 {
            return Err(syntax(cur, stack, "expected a digit after '.'"));
        }
    }
    if let Some(b'e' | b'E') = cur.peek() {
        integer = false;
        cur.pos += 1;
        if let Some(b'+' | b'-') = cur.peek() {
            cur.pos += 1;
        }
        if digits(cur) == 0 {
            return Err(syntax(cur, stack, "expected a digit in the exponent"));
        }
    }
    let literal = &cur.text[start..cur.pos];
    let number = if integer {
        if literal.starts_with('-') {
            literal.parse::<i64>().ok().map(Number::from)
        } else {
            literal.parse::<u64>().ok().map(Number::from)
        }
    } else {
        literal
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(Number::from_f64)
    };
    match number {
        Some(n) => Ok(Value::Number(n)),
        None => {
            sink.strict(
                stack,
                JsonError::NumberOutOfRange {
                    offset: start,
                    path: pointer(stack),
                    literal: cut(literal),
                },
            )?;
            Ok(Value::Null)
        }
    }
}

fn read_string(cur: &mut Cursor<'_>, stack: &[Frame]) -> Result<String, JsonError> {
    // The cursor is on the opening quote.
    cur.pos += 1;
    let start = cur.pos;
    // Fast path: no escapes.
    loop {
        match cur.peek() {
            None => return Err(syntax(cur, stack, "unterminated string")),
            Some(b'"') => {
                let s = cur.text[start..cur.pos].to_owned();
                cur.pos += 1;
                return Ok(s);
            }
            Some(b'\\') => break,
            Some(0x00..=0x1f) => {
                return Err(syntax(cur, stack, "control character in a string"));
            }
            Some(_) => cur.pos += 1,
        }
    }
    let mut out = String::with_capacity(cur.pos - start + 16);
    out.push_str(&cur.text[start..cur.pos]);
    let mut run = cur.pos;
    loop {
        match cur.peek() {
            None => return Err(syntax(cur, stack, "unterminated string")),
            Some(b'"') => {
                out.push_str(&cur.text[run..cur.pos]);
                cur.pos += 1;
                return Ok(out);
            }
            Some(0x00..=0x1f) => {
                return Err(syntax(cur, stack, "control character in a string"));
            }
            Some(b'\\') => {
                out.push_str(&cur.text[run..cur.pos]);
                cur.pos += 1;
                let c = match cur.peek() {
                    Some(b'"') => '"',
                    Some(b'\\') => '\\',
                    Some(b'/') => '/',
                    Some(b'b') => '\u{8}',
                    Some(b'f') => '\u{c}',
                    Some(b'n') => '\n',
                    Some(b'r') => '\r',
                    Some(b't') => '\t',
                    Some(b'u') => {
                        cur.pos += 1;
                        let escape_at = cur.pos - 2;
                        let first = read_hex4(cur, stack)?;
                        let c = match first {
                            0xD800..=0xDBFF => {
                                if !cur.b[cur.pos..].starts_with(b"\\u") {
                                    cur.pos = escape_at;
                                    return Err(syntax(cur, stack, "lone surrogate in \\u escape"));
                                }
                                cur.pos += 2;
                                let second = read_hex4(cur, stack)?;
                                if !(0xDC00..=0xDFFF).contains(&second) {
                                    cur.pos = escape_at;
                                    return Err(syntax(cur, stack, "lone surrogate in \\u escape"));
                                }
                                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                                char::from_u32(code)
                            }
                            0xDC00..=0xDFFF => None,
                            _ => char::from_u32(first),
                        };
                        let Some(c) = c else {
                            cur.pos = escape_at;
                            return Err(syntax(cur, stack, "lone surrogate in \\u escape"));
                        };
                        out.push(c);
                        run = cur.pos;
                        continue;
                    }
                    _ => return Err(syntax(cur, stack, "invalid escape")),
                };
                out.push(c);
                cur.pos += 1;
                run = cur.pos;
            }
            Some(_) => cur.pos += 1,
        }
    }
}

fn read_hex4(cur: &mut Cursor<'_>, stack: &[Frame]) -> Result<u32, JsonError> {
    let mut value = 0u32;
    for _ in 0..4 {
        let digit = match cur.peek() {
            Some(b @ b'0'..=b'9') => b - b'0',
            Some(b @ b'a'..=b'f') => b - b'a' + 10,
            Some(b @ b'A'..=b'F') => b - b'A' + 10,
            _ => return Err(syntax(cur, stack, "expected four hex digits in \\u escape")),
        };
        value = value * 16 + u32::from(digit);
        cur.pos += 1;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;

    fn strict(s: &str) -> Result<Value, JsonError> {
        parse_strict(s.as_bytes(), &JsonLimits::default())
    }

    #[test]
    fn parses_what_serde_json_parses() {
        let text = r#" {"a": [1, -2, 3.5, 1e3, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"],
            "b": {"c": {}}, "d": [], "e": 18446744073709551615, "f": -9223372036854775808} "#;
        assert_eq!(
            strict(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let err = strict(r#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(
            matches!(&err, JsonError::DuplicateKey { offset: 9, path, key } if path.is_empty() && key == "a"),
            "{err:?}"
        );
        let err = strict(r#"{"x": [{"b": 1}, {"b": 1, "c": {"d": 0, "d": 0}}]}"#).unwrap_err();
        assert!(
            matches!(&err, JsonError::DuplicateKey { path, key, .. } if path == "/x/1/c" && key == "d"),
            "{err:?}"
        );
        // Compared after unescaping.
        let err = strict(r#"{"a": 1, "\u0061": 2}"#).unwrap_err();
        assert!(matches!(err, JsonError::DuplicateKey { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            r#"duplicate key "a" at byte 9 (at the document root)"#
        );
        // The same key in sibling objects is fine.
        strict(r#"[{"a": 1}, {"a": 2}]"#).unwrap();
    }

    #[test]
    fn depth_is_bounded() {
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        strict(&ok).unwrap();
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        let err = strict(&deep).unwrap_err();
        assert!(
            matches!(
                err,
                JsonError::TooDeep {
                    offset: 64,
                    max_depth: 64,
                    ..
                }
            ),
            "{err:?}"
        );
        let limits = JsonLimits { max_depth: 2 };
        let err = parse_strict(br#"{"a": {"b": {}}}"#, &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"nesting deeper than 2 levels at byte 12 (at "/a/b")"#
        );
        // A limit above serde_json's is lowered to it, so the text can be re-read.
        let limits = JsonLimits { max_depth: 10_000 };
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(matches!(
            parse_strict(deep.as_bytes(), &limits),
            Err(JsonError::TooDeep { max_depth: 128, .. })
        ));
    }

    #[test]
    fn depth_bomb_on_a_small_stack() {
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let bomb = "[".repeat(100_000);
                let a = parse_strict(bomb.as_bytes(), &JsonLimits::default());
                let objects = format!("{{\"objects\":[{}", "{\"a\":".repeat(100_000));
                let b = read_stix(objects.as_bytes(), &JsonLimits::default()).map(|_| ());
                let limits = JsonLimits { max_depth: 100_000 };
                let c = parse_strict(bomb.as_bytes(), &limits);
                (a.map(|_| ()), b, c.map(|_| ()))
            })
            .unwrap();
        let (a, b, c) = handle.join().unwrap();
        assert!(matches!(a, Err(JsonError::TooDeep { .. })), "{a:?}");
        assert!(matches!(b, Err(JsonError::TooDeep { .. })), "{b:?}");
        assert!(matches!(c, Err(JsonError::TooDeep { .. })), "{c:?}");
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        for (text, literal) in [
            ("1e400", "1e400"),
            ("[-1E+400]", "-1E+400"),
            ("18446744073709551616", "18446744073709551616"),
            ("-9223372036854775809", "-9223372036854775809"),
        ] {
            let err = strict(text).unwrap_err();
            assert!(
                matches!(&err, JsonError::NumberOutOfRange { literal: l, .. } if l == literal),
                "{text}: {err:?}"
            );
        }
        let err = strict(r#"{"a": {"b": 1e400}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"number out of range at byte 12 (at "/a/b"): 1e400"#
        );
        assert_eq!(strict("1e-400").unwrap(), json!(0.0));
        assert_eq!(strict("-0").unwrap(), json!(0));
        assert_eq!(strict("0.5e1").unwrap(), json!(5.0));
    }

    #[test]
    fn a_long_literal_is_cut_in_the_message() {
        let text = "9".repeat(1000);
        let err = strict(&text).unwrap_err();
        let message = err.to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.ends_with('…'));
    }

    #[test]
    fn syntax_errors() {
        for (text, offset) in [
            ("", 0),
            ("   ", 3),
            ("{", 1),
            ("{\"a\" 1}", 5),
            ("{\"a\":1,}", 7),
            ("[1,]", 3),
            ("[1 2]", 3),
            ("01", 1),
            ("1.", 2),
            ("1e", 2),
            ("-", 1),
            ("tru", 0),
            ("nul", 0),
            ("'a'", 0),
            ("\"a", 2),
            ("\"a\nb\"", 2),
            ("\"\\x\"", 2),
            ("\"\\u12\"", 5),
            ("{a:1}", 1),
            ("\u{feff}{}", 0),
        ] {
            let err = strict(text).unwrap_err();
            assert!(
                matches!(err, JsonError::Syntax { offset: o, .. } if o == offset),
                "{text:?}: {err:?}"
            );
        }
        let err = strict("\u{feff}{}").unwrap_err();
        assert!(err.to_string().contains("byte order mark"), "{err}");
    }

    #[test]
    fn lone_surrogates_are_refused() {
        for text in [
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#""\ud800x""#,
        ] {
            let err = strict(text).unwrap_err();
            assert!(
                matches!(err, JsonError::Syntax { offset: 1, reason, .. } if reason.contains("surrogate")),
                "{text}: {err:?}"
            );
        }
        assert_eq!(strict(r#""\ud83d\ude00""#).unwrap(), json!("😀"));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let err = parse_strict(b"{\"a\": \"\xff\"}", &JsonLimits::default()).unwrap_err();
        assert_eq!(err, JsonError::InvalidUtf8 { offset: 7 });
        let err = parse_strict(b"\"\xc3\"", &JsonLimits::default()).unwrap_err();
        assert_eq!(err, JsonError::InvalidUtf8 { offset: 1 });
    }

    #[test]
    fn trailing_data_is_refused() {
        for (text, offset) in [("{} x", 3), ("{}{}", 2), ("1 2", 2), ("[]\n]", 3)] {
            let err = strict(text).unwrap_err();
            assert_eq!(err, JsonError::TrailingData { offset }, "{text:?}");
        }
        strict(" {} \n\t\r ").unwrap();
    }

    #[test]
    fn errors_display_on_one_line() {
        let err = strict("{\"a\nb\": 1, \"a\\nb\": 2}").unwrap_err();
        assert!(matches!(err, JsonError::Syntax { .. }), "{err:?}");
        let err = strict(r#"{"x\n/~y": {"a\nb": 1, "a\nb": 2}}"#).unwrap_err();
        let message = err.to_string();
        assert!(!message.contains('\n'), "{message}");
        assert_eq!(
            message,
            r#"duplicate key "a\nb" at byte 23 (at "/x\n~1~0y")"#
        );
    }

    const ENVELOPE: &str = "{ \"more\" : false,\n  \"objects\" : [\n\t{\"type\":\"indicator\",  \"id\" : \"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\" ,\"z\":1,\"a\":\"caf\\u00e9\"}  ,\n  {\"id\":\"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"type\":\"x-a\",\"b\":{\"c\":1,\"c\":2}},\n  [1,2],\r\n  {\"type\":\"note\",\"n\":1e999},{ }\n ] , \"next\":\"abc\"}\n";

    #[test]
    fn envelope_objects_are_exact_slices() {
        let objects = envelope_objects(ENVELOPE.as_bytes(), &JsonLimits::default()).unwrap();
        assert_eq!(objects.len(), 5);
        let raws: Vec<&str> = objects.iter().map(|o| o.raw).collect();
        assert_eq!(
            raws,
            [
                "{\"type\":\"indicator\",  \"id\" : \"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\" ,\"z\":1,\"a\":\"caf\\u00e9\"}",
                "{\"id\":\"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"type\":\"x-a\",\"b\":{\"c\":1,\"c\":2}}",
                "[1,2]",
                "{\"type\":\"note\",\"n\":1e999}",
                "{ }",
            ]
        );
        for o in &objects {
            assert_eq!(&ENVELOPE[o.offset..o.offset + o.raw.len()], o.raw);
        }
        assert_eq!(
            objects[0].value.as_ref().unwrap(),
            &json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "z": 1, "a": "café"})
        );
        let err = objects[1].value.as_ref().unwrap_err();
        assert!(
            matches!(err, JsonError::DuplicateKey { path, key, .. } if path == "/objects/1/b" && key == "c"),
            "{err:?}"
        );
        let err = objects[2].value.as_ref().unwrap_err();
        assert!(
            matches!(err, JsonError::Shape { path, .. } if path == "/objects/2"),
            "{err:?}"
        );
        let err = objects[3].value.as_ref().unwrap_err();
        assert!(
            matches!(err, JsonError::NumberOutOfRange { path, .. } if path == "/objects/3/n"),
            "{err:?}"
        );
        assert_eq!(objects[4].value.as_ref().unwrap(), &json!({}));

        let doc = read_stix(ENVELOPE.as_bytes(), &JsonLimits::default()).unwrap();
        assert_eq!(
            doc.container,
            Container::Envelope {
                more: Some(false),
                next: Some("abc".into())
            }
        );
    }

    #[test]
    fn envelope_level_errors_refuse_the_document() {
        let limits = JsonLimits::default();
        let err = envelope_objects(br#"{"objects": [], "more": true, "more": false}"#, &limits)
            .unwrap_err();
        assert!(matches!(err, JsonError::DuplicateKey { .. }), "{err:?}");
        let err = envelope_objects(br#"{"objects": [{}], "next": 1e999}"#, &limits).unwrap_err();
        assert!(matches!(err, JsonError::NumberOutOfRange { .. }), "{err:?}");
        let err = envelope_objects(br#"{"objects": [{"a": }]}"#, &limits).unwrap_err();
        assert!(matches!(err, JsonError::Syntax { .. }), "{err:?}");
        let err = envelope_objects(br#"{"objects": {}}"#, &limits).unwrap_err();
        assert!(matches!(err, JsonError::Shape { .. }), "{err:?}");
        let err = envelope_objects(br#"{"objects": [], "more": "yes"}"#, &limits).unwrap_err();
        assert!(matches!(err, JsonError::Shape { .. }), "{err:?}");
        let err = envelope_objects(br#"{"name": "not an envelope"}"#, &limits).unwrap_err();
        assert!(
            matches!(&err, JsonError::Shape { path, .. } if path == "/name"),
            "{err:?}"
        );
        let err = envelope_objects(br#"[]"#, &limits).unwrap_err();
        assert!(matches!(err, JsonError::Shape { .. }), "{err:?}");
        assert!(envelope_objects(br#"{}"#, &limits).unwrap().is_empty());
        assert!(
            envelope_objects(br#"{"more": false}"#, &limits)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bundles_and_lone_objects() {
        let limits = JsonLimits::default();
        let bundle = "{\"type\": \"bundle\", \"id\": \"bundle--44af6c39-c09b-49c5-9de2-394224b04982\",\n \"objects\": [ {\"b\": [ ], \"a\" :{}} ]}";
        let objects = bundle_objects(bundle.as_bytes(), &limits).unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].raw, "{\"b\": [ ], \"a\" :{}}");
        assert!(matches!(
            envelope_objects(bundle.as_bytes(), &limits),
            Err(JsonError::Shape { .. })
        ));
        let err = bundle_objects(
            br#"{"type": "bundle", "id": "bundle--1", "objects": []}"#,
            &limits,
        )
        .unwrap_err();
        assert!(
            matches!(&err, JsonError::Shape { path, .. } if path == "/id"),
            "{err:?}"
        );
        let err = bundle_objects(
            br#"{"type": "bundle", "id": "report--44af6c39-c09b-49c5-9de2-394224b04982"}"#,
            &limits,
        )
        .unwrap_err();
        assert!(matches!(err, JsonError::Shape { .. }), "{err:?}");

        let lone = "\n  {\"type\": \"campaign\", \"objects\": [{\"a\": 1, \"a\": 1}]}  \n";
        let err = read_stix(lone.as_bytes(), &limits).unwrap_err();
        assert!(matches!(err, JsonError::DuplicateKey { .. }), "{err:?}");
        let lone = "\n  {\"type\": \"campaign\", \"name\": \"x\"}  \n";
        let doc = read_stix(lone.as_bytes(), &limits).unwrap();
        assert_eq!(doc.container, Container::Object);
        assert_eq!(doc.objects.len(), 1);
        assert_eq!(
            doc.objects[0].raw,
            "{\"type\": \"campaign\", \"name\": \"x\"}"
        );
        assert_eq!(doc.objects[0].offset, 3);
        assert!(matches!(
            bundle_objects(lone.as_bytes(), &limits),
            Err(JsonError::Shape { .. })
        ));
    }

    #[test]
    fn nested_objects_arrays_are_not_captured() {
        // Only the root's `objects` array holds the container's objects.
        let text = r#"{"objects": [{"type": "observed-data", "objects": [{"a": 1}, {"a": 2}]}]}"#;
        let objects = envelope_objects(text.as_bytes(), &JsonLimits::default()).unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].raw, &text[13..text.len() - 2]);
    }
}
