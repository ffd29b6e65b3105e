//! A small, strict JSON reader and RFC 8785 writer (no serde here: crates.io is out of reach).
//!
//! The rules are those of the host's `dataflare.builtin._json`, so every
//! language's example plugins agree byte for byte: strict UTF-8 and RFC 8259,
//! numbers as IEEE doubles (infinite is invalid), no lone surrogates, the
//! last of repeated keys wins; canonical output sorts keys by UTF-16 code
//! units and prints numbers as ECMAScript's `Number.prototype.toString`.

use std::collections::BTreeMap;

/// Decoding failed; the host's message for it.
pub const INVALID_JSON: &str = "value is not valid JSON";
/// The value decoded, but is not an object.
pub const NOT_AN_OBJECT: &str = "value is not a JSON object";

/// Nesting deeper than this is rejected rather than risking the guest stack.
pub const MAX_DEPTH: usize = 900;

/// A decoded JSON value; every number is a double.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

/// A decoded JSON object (keys in code-point order).
pub type Object = BTreeMap<String, Value>;

impl Value {
    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(x) => Some(*x),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The member `key`, if this is an object holding it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|map| map.get(key))
    }

    /// The compact (RFC 8785) JSON text of this value.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        encode(self, &mut out);
        out
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Number(x)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n as f64)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Object> for Value {
    fn from(map: Object) -> Self {
        Value::Object(map)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

/// An object from `(key, value)` pairs: `json::object([("n", 1u64.into())])`.
pub fn object<'k>(pairs: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The compact (RFC 8785) JSON bytes of `value`, e.g. for a record value.
pub fn to_vec(value: impl Into<Value>) -> Vec<u8> {
    canonical(&value.into())
}

/// The input is not JSON by the rules above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidJson;

/// Decode `bytes` (strict UTF-8, one JSON text, optional surrounding whitespace).
pub fn parse(bytes: &[u8]) -> Result<Value, InvalidJson> {
    let text = std::str::from_utf8(bytes).map_err(|_| InvalidJson)?;
    let mut p = Parser { s: text.as_bytes(), i: 0, text };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(InvalidJson);
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> Result<(), InvalidJson> {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(InvalidJson)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, InvalidJson> {
        if depth > MAX_DEPTH {
            return Err(InvalidJson);
        }
        match self.s.get(self.i).copied().ok_or(InvalidJson)? {
            b'n' => self.eat(b"null").map(|_| Value::Null),
            b't' => self.eat(b"true").map(|_| Value::Bool(true)),
            b'f' => self.eat(b"false").map(|_| Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(InvalidJson),
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Object(map));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(InvalidJson);
                    }
                    let key = self.string()?;
                    self.ws();
                    self.eat(b":")?;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    map.insert(key, v);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Object(map));
                        }
                        _ => return Err(InvalidJson),
                    }
                }
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(InvalidJson),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.s.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Value, InvalidJson> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(InvalidJson),
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(InvalidJson);
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(InvalidJson);
            }
        }
        // Rust's float parsing rounds to nearest, like the host's `float()`.
        let x: f64 = self.text[start..self.i].parse().map_err(|_| InvalidJson)?;
        if x.is_finite() {
            Ok(Value::Number(x))
        } else {
            Err(InvalidJson)
        }
    }

    fn hex4(&mut self) -> Result<u32, InvalidJson> {
        let h = self.s.get(self.i..self.i + 4).ok_or(InvalidJson)?;
        let mut n = 0u32;
        for &c in h {
            let d = (c as char).to_digit(16).ok_or(InvalidJson)?;
            n = n * 16 + d;
        }
        self.i += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, InvalidJson> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&c) = self.s.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // Breaks only happen on ASCII bytes, so these are char boundaries.
            out.push_str(&self.text[start..self.i]);
            match self.s.get(self.i).copied().ok_or(InvalidJson)? {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.i += 1;
                    let c = self.s.get(self.i).copied().ok_or(InvalidJson)?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                // Only a high surrogate directly followed by a low one is valid.
                                self.eat(b"\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(InvalidJson);
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(cp).ok_or(InvalidJson)?);
                        }
                        _ => return Err(InvalidJson),
                    }
                }
                _ => return Err(InvalidJson), // raw control character
            }
        }
    }
}

/// Decode a record value that must be a JSON object, with the host's error messages.
pub fn parse_object(bytes: &[u8]) -> Result<BTreeMap<String, Value>, crate::PluginError> {
    match parse(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(crate::PluginError::Serialization(NOT_AN_OBJECT.to_string())),
        Err(InvalidJson) => Err(crate::PluginError::Serialization(INVALID_JSON.to_string())),
    }
}

/// Structural equality: numbers as doubles (`-0 == 0`), `true` is not `1`.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| y.get(k).map_or(false, |w| equal(v, w)))
        }
        _ => false,
    }
}

/// The RFC 8785 encoding of `v` as UTF-8 bytes.
pub fn canonical(v: &Value) -> Vec<u8> {
    let mut out = String::new();
    encode(v, &mut out);
    out.into_bytes()
}

/// Sort keys by UTF-16 code units (differs from UTF-8 order above U+FFFF).
pub fn utf16_order<'a, T>(keys: impl Iterator<Item = (&'a String, T)>) -> Vec<(&'a String, T)> {
    let mut v: Vec<(Vec<u16>, (&'a String, T))> =
        keys.map(|(k, x)| (k.encode_utf16().collect(), (k, x))).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into_iter().map(|(_, kv)| kv).collect()
}

fn encode(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(x) => out.push_str(&es_number(*x)),
        Value::String(s) => encode_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in utf16_order(map.iter()).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_string(k, out);
                out.push(':');
                encode(item, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal escaping only `"`, `\` and U+0000..U+001F.
pub fn encode_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// ECMAScript `Number.prototype.toString` of a finite double.
pub fn es_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if x < 0.0 {
        return format!("-{}", es_number(-x));
    }
    // `{:e}` prints the shortest round-tripping digits, e.g. "1.2345e-7",
    // but when two such digit strings are equally near `x` it may take the
    // upper one, where ECMAScript (and Python's repr) takes the even one:
    // 562949953421312.25 is "562949953421312.2", not "...3". The exact
    // formatting rounds half to even, so with as many digits it gives the
    // nearest, which is the answer whenever it reads back as `x`.
    let shortest = format!("{:e}", x);
    let k = shortest
        .split_once('e')
        .map_or(0, |(m, _)| m.chars().filter(|c| c.is_ascii_digit()).count());
    let nearest = format!("{:.*e}", k.saturating_sub(1), x);
    let sci = if nearest.parse::<f64>() == Ok(x) { nearest } else { shortest };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let k = digits.len() as i32;
    let n = exp.parse::<i32>().unwrap_or(0) + 1;
    if k <= n && n <= 21 {
        format!("{}{}", digits, "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{}", "0".repeat((-n) as usize), digits)
    } else {
        let e = n - 1;
        let sign = if e >= 0 { '+' } else { '-' };
        let mantissa = if k == 1 {
            digits.to_string()
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        format!("{}e{}{}", mantissa, sign, e.abs())
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
