//! [`InlineStr`]: an immutable string that keeps up to 22 bytes inside itself.
//!
//! Tickets (`T-0001042`), event types (`acknowledged`), attribute keys (`severity`) and most
//! attribute values (`complaint`) are short. Reading millions of events, one heap allocation per
//! such string (and one free, often on another thread) costs more than parsing the line: stored
//! inline, they cost none. Longer strings go to the heap as usual.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Bytes kept inline: the size of the type is 24 bytes either way.
const INLINE: usize = 22;

/// Whether two strings are equal, without a call to `memcmp` for the short ones: lengths first,
/// then the bytes as one or two overlapping words. For the hot lookups of attribute keys and
/// event types, which are a few bytes long and mostly differ in length.
#[inline]
pub fn eq_short(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    let half = |s: &[u8], at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_ne_bytes(w)
    };
    match n {
        0..=3 => a == b,
        4..=8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        9..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// An immutable string, inline when short. Behaves as a `str` (it derefs to one) and compares,
/// orders and hashes as its text.
#[derive(Clone)]
pub struct InlineStr(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl serde::Serialize for InlineStr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for InlineStr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(InlineStr::new(&s))
    }
}

impl InlineStr {
    pub fn new(s: &str) -> InlineStr {
        if s.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            InlineStr(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            InlineStr(Repr::Heap(s.into()))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                // SAFETY: `bytes` is a copy of the whole of a `&str` (see `new`, the only
                // constructor of `Inline`) and is never modified, so it is valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Repr::Heap(s) => s,
        }
    }
}

impl Deref for InlineStr {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for InlineStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for InlineStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Default for InlineStr {
    fn default() -> Self {
        InlineStr::new("")
    }
}

impl From<&str> for InlineStr {
    fn from(s: &str) -> Self {
        InlineStr::new(s)
    }
}

impl From<&String> for InlineStr {
    fn from(s: &String) -> Self {
        InlineStr::new(s)
    }
}

impl From<String> for InlineStr {
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            InlineStr::new(&s)
        } else {
            InlineStr(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<Box<str>> for InlineStr {
    fn from(s: Box<str>) -> Self {
        if s.len() <= INLINE {
            InlineStr::new(&s)
        } else {
            InlineStr(Repr::Heap(s))
        }
    }
}

impl From<InlineStr> for String {
    fn from(s: InlineStr) -> String {
        s.as_str().to_string()
    }
}

impl From<&InlineStr> for std::sync::Arc<str> {
    fn from(s: &InlineStr) -> Self {
        s.as_str().into()
    }
}

impl fmt::Display for InlineStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for InlineStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for InlineStr {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            // Strings of up to `INLINE` bytes are always inline, zero-padded: equal strings have
            // equal arrays, compared without a call to `memcmp`.
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                a == b && x == y
            }
            (Repr::Heap(a), Repr::Heap(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for InlineStr {}

impl PartialEq<str> for InlineStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for InlineStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for InlineStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialOrd for InlineStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InlineStr {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            // Zero padding sorts before any byte, and equal arrays differ at most by trailing
            // NUL characters, which the lengths then order: the order of the texts.
            (Repr::Inline { len: a, bytes: x }, Repr::Inline { len: b, bytes: y }) => {
                x.cmp(y).then(a.cmp(b))
            }
            _ => self.as_str().cmp(other.as_str()),
        }
    }
}

impl Hash for InlineStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_strings_read_back() {
        for s in [
            "",
            "T-1",
            "acknowledged",
            "ａｂｃ",
            &"x".repeat(22),
            &"y".repeat(23),
        ] {
            let i = InlineStr::new(s);
            assert_eq!(&*i, s);
            assert_eq!(i, InlineStr::from(s.to_string()));
            assert_eq!(i.len(), s.len());
        }
        assert!(matches!(
            InlineStr::new(&"x".repeat(22)).0,
            Repr::Inline { .. }
        ));
        assert!(matches!(InlineStr::new(&"x".repeat(23)).0, Repr::Heap(_)));
        assert_eq!(std::mem::size_of::<InlineStr>(), 24);
    }

    proptest::proptest! {
        #[test]
        fn compares_and_orders_as_its_text(a in "[ab\\x00é]{0,24}", b in "[ab\\x00é]{0,24}") {
            let (x, y) = (InlineStr::new(&a), InlineStr::new(&b));
            proptest::prop_assert_eq!(x == y, a == b);
            proptest::prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        }
    }

    proptest::proptest! {
        #[test]
        /// `b` is `a`, or `a` with one byte changed at any position: equal strings of every
        /// length (each word-compare branch) return true, and a difference anywhere, past byte
        /// 8 included, returns false.
        fn eq_short_is_equality(
            a in "[a-z]{0,40}",
            change in proptest::option::of((0usize..40, b'A'..=b'Z')),
        ) {
            let mut b = a.clone().into_bytes();
            if let Some((at, byte)) = change {
                if !b.is_empty() {
                    let at = at % b.len();
                    b[at] = byte;
                }
            }
            let b = String::from_utf8(b).expect("ASCII");
            proptest::prop_assert_eq!(eq_short(&a, &b), a == b);
        }
    }

    #[test]
    fn orders_as_text() {
        let a = InlineStr::new("closed");
        let b = InlineStr::new("closed-but-with-a-long-suffix");
        assert!(a < b);
        assert_eq!(a.cmp(&InlineStr::new("closed")), Ordering::Equal);
    }
}
