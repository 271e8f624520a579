//! The client's address, for the attempt limits. `X-Forwarded-For` is written by whoever sends
//! the request, so it is read only from a peer that is a configured trusted proxy, and then from
//! the right: the right-most entry that is not itself a trusted proxy is the client (entries on
//! its left are the client's own claims).

use std::net::IpAddr;

/// An address or a network (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address.parse::<IpAddr>().ok()?, prefix.parse().ok()?),
            None => {
                let address = text.trim().parse::<IpAddr>().ok()?;
                (address, if address.is_ipv4() { 32 } else { 128 })
            }
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= bits).then_some(Self { address, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let widen = |address: IpAddr| match address {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u32),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => (u128::from(u32::from(v4)), 32),
                None => (u128::from(v6), 128),
            },
        };
        let ((network, width), (candidate, candidate_width)) =
            (widen(self.address), widen(address));
        if width != candidate_width {
            return false;
        }
        let host_bits = width - u32::from(self.prefix);
        let mask = if host_bits >= 128 {
            0
        } else {
            u128::MAX << host_bits
        };
        network & mask == candidate & mask
    }
}

/// Parses `APP_APPLICATION__TRUSTED_PROXIES`: addresses or networks, comma- or space-separated.
pub fn parse_networks(text: &str) -> Result<Vec<Network>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| {
            Network::parse(part).ok_or_else(|| format!("`{part}` is not an address or a network"))
        })
        .collect()
}

/// The client of a request that came from `peer` with these `X-Forwarded-For` values.
pub fn client_address(peer: Option<IpAddr>, forwarded_for: &[&str], trusted: &[Network]) -> String {
    let is_trusted = |address: IpAddr| trusted.iter().any(|network| network.contains(address));
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !is_trusted(peer) {
        return peer.to_string();
    }
    let entries: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    for entry in entries.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(address) if is_trusted(address) => continue,
            Ok(address) => return address.to_string(),
            // Not an address: nothing on its left can be believed either.
            Err(_) => return peer.to_string(),
        }
    }
    // Every hop is a trusted proxy: the left-most is the closest to the client.
    entries
        .first()
        .and_then(|entry| entry.parse::<IpAddr>().ok())
        .unwrap_or(peer)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn networks_contain_their_addresses() {
        let private = Network::parse("10.0.0.0/8").unwrap();
        assert!(private.contains("10.1.2.3".parse().unwrap()));
        assert!(!private.contains("11.0.0.1".parse().unwrap()));
        assert!(Network::parse("::1")
            .unwrap()
            .contains("::1".parse().unwrap()));
        assert!(Network::parse("127.0.0.1")
            .unwrap()
            .contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(Network::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Network::parse("10.0.0.0/33").is_none());
        assert!(parse_networks("10.0.0.0/8, 192.168.1.1 ::1").unwrap().len() == 3);
        assert!(parse_networks("nonsense").is_err());
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop_behind_a_trusted_peer() {
        let trusted = parse_networks("10.0.0.0/8").unwrap();
        // A peer that is no trusted proxy: its own address, whatever the header says.
        assert_eq!(
            client_address(ip("8.8.8.8"), &["1.1.1.1"], &trusted),
            "8.8.8.8"
        );
        // Behind the proxy: the client may prepend anything, the proxy's entry is on the right.
        assert_eq!(
            client_address(ip("10.0.0.5"), &["6.6.6.6, 7.7.7.7"], &trusted),
            "7.7.7.7"
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), &["7.7.7.7, 10.0.0.9"], &trusted),
            "7.7.7.7"
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), &["7.7.7.7", "10.0.0.9"], &trusted),
            "7.7.7.7"
        );
        assert_eq!(client_address(ip("10.0.0.5"), &[], &trusted), "10.0.0.5");
        assert_eq!(
            client_address(ip("10.0.0.5"), &["garbage, 7.7.7.7"], &trusted),
            "7.7.7.7"
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), &["7.7.7.7, garbage"], &trusted),
            "10.0.0.5"
        );
        assert_eq!(client_address(None, &[], &trusted), "unknown");
        // Nobody trusted: the header is never read.
        assert_eq!(
            client_address(ip("10.0.0.5"), &["7.7.7.7"], &[]),
            "10.0.0.5"
        );
    }
}
