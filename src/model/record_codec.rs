//! How stored metadata records (objects and link buckets) are encoded: MessagePack with named
//! fields. A record stays self-describing, so fields added later still default when absent,
//! as they did in JSON, but the binary parts (HDF5's type and property-list encodings, small
//! attribute values) are stored as bytes instead of hex text and numbers are not formatted:
//! encoding and parsing are most of the first commit and the first open of a big file.
//!
//! Records written before (store format 1, and format 2 up to 2026-12-04) are JSON objects.
//! A JSON record starts with `{` (0x7b), which in MessagePack is a positive integer, never a
//! map: the first byte tells the two apart, and both are read.
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// The stored form of `v`.
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(128);
    v.serialize(&mut rmp_serde::Serializer::new(&mut out).with_struct_map()).map_err(|e| e.to_string())?;
    Ok(out)
}

/// A record read back, in either encoding. Nothing in it is trusted: lengths are checked
/// against the bytes present before anything is taken, nesting is bounded, and bytes after
/// the record's end make it corrupt.
pub fn decode<T: DeserializeOwned>(rec: &[u8]) -> Result<T, String> {
    if rec.first() == Some(&b'{') {
        return serde_json::from_slice(rec).map_err(|e| e.to_string());
    }
    // Read in place (strings and bytes borrowed from the record, not copied out first).
    let mut de = rmp_serde::Deserializer::from_read_ref(rec);
    de.set_max_depth(MAX_DEPTH);
    let v = T::deserialize(&mut de).map_err(|e| e.to_string())?;
    // The reader does not tell where it stopped; asking it for one more value does: only an
    // exhausted record fails to give the next value's first byte.
    match serde::de::IgnoredAny::deserialize(&mut de) {
        Err(rmp_serde::decode::Error::InvalidMarkerRead(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(v),
        _ => Err("bytes after the end of the record".into()),
    }
}

/// Records nest a handful of levels (object, kind, table, link, target); this leaves room for
/// any record the writer makes and keeps a damaged one from recursing deep.
const MAX_DEPTH: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Rec {
        id: u64,
        #[serde(with = "crate::model::objects::hex_bytes")]
        data: Vec<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra: Option<String>,
    }

    fn rec() -> Rec {
        Rec { id: 7, data: vec![0, 1, 0xff], extra: None }
    }

    #[test]
    fn round_trips_with_bytes_stored_as_bytes() {
        let b = encode(&rec()).unwrap();
        assert_ne!(b[0], b'{');
        assert!(b.windows(3).any(|w| w == [0, 1, 0xff]), "binary parts stored as they are: {b:?}");
        assert_eq!(decode::<Rec>(&b).unwrap(), rec());
    }

    #[test]
    fn reads_json_records_of_earlier_files() {
        let json = serde_json::to_vec(&rec()).unwrap();
        assert_eq!(json[0], b'{');
        assert_eq!(decode::<Rec>(&json).unwrap(), rec());
    }

    #[test]
    fn absent_fields_take_their_defaults() {
        let with = Rec { extra: Some("x".into()), ..rec() };
        assert_eq!(decode::<Rec>(&encode(&with).unwrap()).unwrap(), with);
        assert_eq!(decode::<Rec>(&encode(&rec()).unwrap()).unwrap().extra, None);
    }

    #[test]
    fn refuses_trailing_bytes() {
        let mut b = encode(&rec()).unwrap();
        b.push(0);
        assert!(decode::<Rec>(&b).unwrap_err().contains("after the end"));
        b.pop();
        b.extend_from_slice(&[0xc4, 9]);
        assert!(decode::<Rec>(&b).unwrap_err().contains("after the end"), "a partial value after the end");
    }

    #[test]
    fn refuses_truncated_records_without_panicking() {
        let b = encode(&rec()).unwrap();
        for n in 0..b.len() {
            assert!(decode::<Rec>(&b[..n]).is_err(), "truncated to {n} bytes");
        }
    }

    #[test]
    fn refuses_a_length_beyond_the_record_without_allocating_it() {
        // A map of one field whose bin value claims 4 GiB.
        let mut b = vec![0x81, 0xa4];
        b.extend_from_slice(b"data");
        b.extend_from_slice(&[0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2]);
        assert!(decode::<Rec>(&b).is_err());
    }

    #[test]
    fn refuses_deep_nesting() {
        let b = vec![0x91; 10_000];
        assert!(decode::<serde_json::Value>(&b).is_err());
    }
}
