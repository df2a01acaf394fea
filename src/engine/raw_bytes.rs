//! A byte vector written as bytes in one piece, where serde writes a `Vec<u8>` byte by byte
//! (tens of megabytes at every commit of a dense stream's service). postcard lays both out the
//! same way, a length and the bytes, so either reads what the other wrote.

pub(crate) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(v)
}

pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct Bytes;
    impl<'de> serde::de::Visitor<'de> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
    d.deserialize_byte_buf(Bytes)
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `value`'s postcard bytes in a vector of their size: written into a buffer kept per thread,
/// then copied out once, where `postcard::to_stdvec` grows a vector from nothing, a copy at
/// every doubling (the service writes every changed case and every event kept for `why` so,
/// hundreds of thousands a second).
pub(crate) fn to_vec<T: serde::Serialize + ?Sized>(value: &T) -> postcard::Result<Vec<u8>> {
    to_vec_with_room(value, 0)
}

/// [`to_vec`] in a vector with room for `room` bytes more, for a writer that changes its end.
pub(crate) fn to_vec_with_room<T: serde::Serialize + ?Sized>(
    value: &T,
    room: usize,
) -> postcard::Result<Vec<u8>> {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            let mut buffer = std::mem::take(&mut *scratch);
            buffer.clear();
            let written = postcard::to_extend(value, buffer);
            match written {
                Ok(buffer) => {
                    let mut bytes = Vec::with_capacity(buffer.len() + room);
                    bytes.extend_from_slice(&buffer);
                    *scratch = buffer;
                    Ok(bytes)
                }
                Err(e) => Err(e),
            }
        }
        Err(_) => postcard::to_stdvec(value),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_of_a_value_are_postcards_whatever_came_before() {
        let long: Vec<u32> = (0..10_000).collect();
        assert_eq!(
            super::to_vec(&long).unwrap(),
            postcard::to_stdvec(&long).unwrap()
        );
        let short = ("ticket", 7u64);
        let bytes = super::to_vec(&short).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&short).unwrap());
        assert_eq!(bytes.capacity(), bytes.len());
    }
}
