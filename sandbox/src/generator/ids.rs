//! Object ids that encode their index.
//!
//! An id is `prefix_` + 8 base62 digits of `index + 62^7` + 6 base62 digits of a keyed check. The fixed width
//! and an alphabet in ASCII order make id order equal index order (so "created desc, id desc" is just "index
//! desc"), decoding a cursor is O(1), and the check rejects ids that were never issued (other seeds, typos).
//! The offset makes ids start with `1`, like Stripe's.

pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const INDEX_WIDTH: usize = 8;
const CHECK_WIDTH: usize = 6;
const INDEX_OFFSET: u64 = 62u64.pow(7);
/// 62^6: the range of the check digits.
pub(crate) const CHECK_MODULUS: u64 = 62u64.pow(6);
/// The largest index an id can carry.
pub(crate) const MAX_INDEX: u64 = 62u64.pow(8) - INDEX_OFFSET - 1;

fn push_base62(out: &mut String, mut value: u64, width: usize) {
    let mut digits = [b'0'; 16];
    for slot in digits[..width].iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out.extend(digits[..width].iter().map(|&d| char::from(d)));
}

fn parse_base62(text: &str) -> Option<u64> {
    text.bytes().try_fold(0u64, |acc, byte| {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'A'..=b'Z' => byte - b'A' + 10,
            b'a'..=b'z' => byte - b'a' + 36,
            _ => return None,
        };
        acc.checked_mul(62)?.checked_add(u64::from(digit))
    })
}

/// `prefix` includes its underscore (`"cus_"`). `check` is reduced modulo 62^6.
pub(crate) fn encode(prefix: &str, index: u64, check: u64) -> String {
    let mut id = String::with_capacity(prefix.len() + INDEX_WIDTH + CHECK_WIDTH);
    id.push_str(prefix);
    push_base62(&mut id, index.min(MAX_INDEX) + INDEX_OFFSET, INDEX_WIDTH);
    push_base62(&mut id, check % CHECK_MODULUS, CHECK_WIDTH);
    id
}

/// The index and check an id carries, if it has the prefix and the shape.
pub(crate) fn decode(id: &str, prefix: &str) -> Option<(u64, u64)> {
    let body = id.strip_prefix(prefix)?;
    if body.len() != INDEX_WIDTH + CHECK_WIDTH || !body.is_ascii() {
        return None;
    }
    let (index_part, check_part) = body.split_at(INDEX_WIDTH);
    let index = parse_base62(index_part)?.checked_sub(INDEX_OFFSET)?;
    let check = parse_base62(check_part)?;
    Some((index, check))
}

/// A random-looking base62 string of `len` characters derived from `value` (for account ids and keys).
pub(crate) fn base62_string(mut value: u64, len: usize) -> String {
    let mut out = String::with_capacity(len);
    for round in 0..len {
        if round % 10 == 0 {
            value = crate::rng::mix64(value.wrapping_add(round as u64));
        }
        out.push(char::from(ALPHABET[(value % 62) as usize]));
        value /= 62;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        let mut previous = String::new();
        for index in [0, 1, 61, 62, 3843, 1_000_000, 999_999_999_999, MAX_INDEX] {
            let id = encode("cus_", index, index.wrapping_mul(31));
            assert_eq!(id.len(), 4 + 14);
            assert_eq!(
                decode(&id, "cus_"),
                Some((index, index.wrapping_mul(31) % CHECK_MODULUS))
            );
            assert!(id > previous, "{id} should sort after {previous}");
            previous = id;
        }
        assert!(encode("cus_", 0, 0).starts_with("cus_1"));
    }

    #[test]
    fn rejects_malformed_ids() {
        assert_eq!(decode("ch_10000000000000", "cus_"), None);
        assert_eq!(decode("cus_1000000000000", "cus_"), None);
        assert_eq!(decode("cus_10000000-00000", "cus_"), None);
        assert_eq!(decode("cus_00000000000000", "cus_"), None);
        assert_eq!(decode("cus_1000000é00000", "cus_"), None);
    }
}
