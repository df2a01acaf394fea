//! Writing one event as a JSON Lines line, by hand: the generator writes tens of millions of
//! them, and building `serde_json::Value`s for each would cost more than everything else.
//!
//! Field order follows EVENTS.md's example: `ticket`, `at`, `type`, then `attrs` when the event
//! has any. Times are whole seconds since the Unix epoch, written as local RFC 3339 in the
//! stream's fixed UTC offset.

/// Seconds in a day.
pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;
pub const MINUTE: i64 = 60;

/// An event line being built: its type and attributes first, its ticket and time when the
/// case is complete (times are adjusted then, see `cases`).
pub struct Line {
    kind: &'static str,
    buf: Vec<u8>,
    attrs: bool,
}

impl Line {
    pub fn new(kind: &'static str) -> Line {
        Line {
            kind,
            buf: Vec::new(),
            attrs: false,
        }
    }

    /// The event type.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Whether the attributes so far include `key: true`.
    pub fn has_true(&self, key: &str) -> bool {
        let mut pattern = Vec::with_capacity(key.len() + 7);
        push_str(&mut pattern, key);
        pattern.extend_from_slice(b":true");
        memchr::memmem::find(&self.buf, &pattern).is_some()
    }

    /// Whether the attributes so far include `key: false`.
    pub fn has_false(&self, key: &str) -> bool {
        let mut pattern = Vec::with_capacity(key.len() + 8);
        push_str(&mut pattern, key);
        pattern.extend_from_slice(b":false");
        memchr::memmem::find(&self.buf, &pattern).is_some()
    }

    /// Whether the attributes so far include `key: "value"`.
    pub fn has_str(&self, key: &str, value: &str) -> bool {
        let mut pattern = Vec::with_capacity(key.len() + value.len() + 5);
        push_str(&mut pattern, key);
        pattern.push(b':');
        push_str(&mut pattern, value);
        memchr::memmem::find(&self.buf, &pattern).is_some()
    }

    /// The text of the string attribute `key`, if the attributes so far have one (our values
    /// need no escapes). For refinements that read what an earlier step wrote (a forecast's
    /// `expected_at`).
    pub fn str_value(&self, key: &str) -> Option<&str> {
        let mut pattern = Vec::with_capacity(key.len() + 4);
        push_str(&mut pattern, key);
        pattern.extend_from_slice(b":\"");
        let start = memchr::memmem::find(&self.buf, &pattern)? + pattern.len();
        let len = memchr::memchr(b'"', &self.buf[start..])?;
        std::str::from_utf8(&self.buf[start..start + len]).ok()
    }

    /// Changes the string attribute `key` from `from` to `to`; false (and nothing changed) if
    /// it is not `from`. For the enrichments of `extras`, which refine a ticket after its life
    /// is drawn (a complaint by letter that came through the government).
    pub fn replace_str(&mut self, key: &str, from: &str, to: &str) -> bool {
        let mut pattern = Vec::with_capacity(key.len() + from.len() + 5);
        push_str(&mut pattern, key);
        pattern.push(b':');
        let head = pattern.len();
        push_str(&mut pattern, from);
        let Some(pos) = memchr::memmem::find(&self.buf, &pattern) else {
            return false;
        };
        let mut value = Vec::with_capacity(to.len() + 2);
        push_str(&mut value, to);
        self.buf.splice(pos + head..pos + pattern.len(), value);
        true
    }

    fn key(&mut self, key: &str) {
        if self.attrs {
            self.buf.push(b',');
        } else {
            self.buf.extend_from_slice(b",\"attrs\":{");
            self.attrs = true;
        }
        push_str(&mut self.buf, key);
        self.buf.push(b':');
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Line {
        self.key(key);
        push_str(&mut self.buf, value);
        self
    }

    /// A list of strings (`documents` of an approval).
    pub fn strs(&mut self, key: &str, values: &[&str]) -> &mut Line {
        self.key(key);
        self.buf.push(b'[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            push_str(&mut self.buf, v);
        }
        self.buf.push(b']');
        self
    }

    pub fn int(&mut self, key: &str, value: i64) -> &mut Line {
        self.key(key);
        push_int(&mut self.buf, value);
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Line {
        self.key(key);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// A time (Unix seconds), written like `at` in the stream's UTC offset.
    pub fn time(&mut self, key: &str, at: i64, offset: i32) -> &mut Line {
        self.key(key);
        self.buf.push(b'"');
        push_timestamp(&mut self.buf, at, offset);
        self.buf.push(b'"');
        self
    }

    /// A fraction given in thousandths, written as a decimal (`667` → `0.667`), exactly.
    pub fn thousandths(&mut self, key: &str, value: i64) -> &mut Line {
        self.key(key);
        if value < 0 {
            self.buf.push(b'-');
        }
        let v = value.unsigned_abs();
        push_int(&mut self.buf, (v / 1000) as i64);
        let frac = v % 1000;
        if frac != 0 {
            self.buf.push(b'.');
            let digits = [
                b'0' + (frac / 100) as u8,
                b'0' + (frac / 10 % 10) as u8,
                b'0' + (frac % 10) as u8,
            ];
            let len = if frac % 100 == 0 {
                1
            } else if frac % 10 == 0 {
                2
            } else {
                3
            };
            self.buf.extend_from_slice(&digits[..len]);
        }
        self
    }

    /// The finished line, with its `\n`: `{"ticket":…,"at":…,"type":…,"attrs":{…}}`; `offset`
    /// is the UTC offset in seconds.
    pub fn finish(&self, ticket: &str, at: i64, offset: i32) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + ticket.len() + self.kind.len() + self.buf.len());
        out.extend_from_slice(b"{\"ticket\":");
        push_str(&mut out, ticket);
        out.extend_from_slice(b",\"at\":\"");
        push_timestamp(&mut out, at, offset);
        out.extend_from_slice(b"\",\"type\":");
        push_str(&mut out, self.kind);
        out.extend_from_slice(&self.buf);
        if self.attrs {
            out.push(b'}');
        }
        out.extend_from_slice(b"}\n");
        out
    }
}

/// A JSON string. Our vocabulary needs no escapes, but ticket ids and values could come from
/// options, so escape what JSON requires.
fn push_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[(b >> 4) as usize]);
                buf.push(HEX[(b & 15) as usize]);
            }
            _ => buf.push(b),
        }
    }
    buf.push(b'"');
}

fn push_int(buf: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DDTHH:MM:SS+HH:MM` for `at` (Unix seconds) seen at `offset` seconds east of UTC.
pub fn push_timestamp(buf: &mut Vec<u8>, at: i64, offset: i32) {
    let local = at + i64::from(offset);
    let (y, m, d) = civil_from_days(local.div_euclid(DAY));
    let secs = local.rem_euclid(DAY) as u32;
    let y = y.clamp(0, 9999) as u32;
    push2(buf, y / 100);
    push2(buf, y % 100);
    buf.push(b'-');
    push2(buf, m);
    buf.push(b'-');
    push2(buf, d);
    buf.push(b'T');
    push2(buf, secs / 3600);
    buf.push(b':');
    push2(buf, secs / 60 % 60);
    buf.push(b':');
    push2(buf, secs % 60);
    if offset == 0 {
        buf.push(b'Z');
        return;
    }
    buf.push(if offset < 0 { b'-' } else { b'+' });
    let off = offset.unsigned_abs() / 60;
    push2(buf, off / 60);
    buf.push(b':');
    push2(buf, off % 60);
}

/// Year, month, day of a count of days since 1970-01-01 (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset};

    #[test]
    fn timestamps_match_chrono() {
        let offset = 8 * 3600;
        for &at in &[
            0i64,
            1_767_196_800,
            1_767_225_599,
            1_798_761_599,
            951_782_400,
            4_102_444_800,
        ] {
            let mut buf = Vec::new();
            push_timestamp(&mut buf, at, offset);
            let text = String::from_utf8(buf).unwrap();
            let expected = DateTime::from_timestamp(at, 0)
                .unwrap()
                .with_timezone(&FixedOffset::east_opt(offset).unwrap())
                .to_rfc3339();
            assert_eq!(text, expected);
        }
    }

    #[test]
    fn days_round_trip() {
        for z in -800_000..800_000i64 {
            if z % 997 != 0 {
                continue;
            }
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
    }

    #[test]
    fn a_line_is_json_with_attrs_last() {
        let mut line = Line::new("opened");
        line.str("kind", "repair")
            .int("total", 120)
            .bool("reached", true);
        line.thousandths("fill", 700)
            .thousandths("x", 667)
            .thousandths("y", 1000);
        let text = String::from_utf8(line.finish("T-1", 1_767_225_600, 8 * 3600)).unwrap();
        assert_eq!(
            text,
            "{\"ticket\":\"T-1\",\"at\":\"2026-01-01T08:00:00+08:00\",\"type\":\"opened\",\"attrs\":{\"kind\":\"repair\",\"total\":120,\"reached\":true,\"fill\":0.7,\"x\":0.667,\"y\":1}}\n"
        );
        let bare = String::from_utf8(Line::new("closed").finish("a\"b", 0, 0)).unwrap();
        assert_eq!(
            bare,
            "{\"ticket\":\"a\\\"b\",\"at\":\"1970-01-01T00:00:00Z\",\"type\":\"closed\"}\n"
        );
    }
}
