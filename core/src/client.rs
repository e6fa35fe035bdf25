//! Who is asking: the client address that fair admission (SPEC §5) shares verification capacity
//! by — the socket peer, or, only when the peer is a trusted proxy, the address the proxy
//! forwarded.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// The client a request is admitted for. Adapters get it from
/// [`Authenticator::client_address`](crate::Authenticator::client_address) (or let
/// [`Authenticator::authenticate_headers`](crate::Authenticator::authenticate_headers) work it
/// out) and decide nothing about it themselves.
///
/// IPv6 clients are grouped by their /64 network, which one subscriber usually holds whole, so
/// rotating through its addresses does not buy more than one client's share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClientAddress(Option<IpAddr>);

impl ClientAddress {
    /// A client whose address is not known: all such requests share one client's share.
    pub const UNKNOWN: Self = Self(None);

    /// The client at `address`.
    pub fn new(address: IpAddr) -> Self {
        Self(Some(address))
    }

    /// The address, if known.
    pub fn ip(&self) -> Option<IpAddr> {
        self.0
    }

    /// The key admission groups requests by.
    pub(crate) fn admission_key(&self) -> AdmissionKey {
        match self.0.map(canonical) {
            None => AdmissionKey::Unknown,
            Some(IpAddr::V4(v4)) => AdmissionKey::V4(v4.to_bits()),
            Some(IpAddr::V6(v6)) => AdmissionKey::V6Net((v6.to_bits() >> 64) as u64),
        }
    }
}

impl From<IpAddr> for ClientAddress {
    fn from(address: IpAddr) -> Self {
        Self::new(address)
    }
}

impl From<SocketAddr> for ClientAddress {
    fn from(address: SocketAddr) -> Self {
        Self::new(address.ip())
    }
}

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("unknown"),
        }
    }
}

/// What admission groups requests by: an IPv4 address, an IPv6 /64, or "unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AdmissionKey {
    Unknown,
    V4(u32),
    V6Net(u64),
}

/// An IPv4-mapped IPv6 address is the IPv4 client it maps.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// A proxy, or a network of proxies, whose `Forwarded` / `X-Forwarded-For` fields are believed:
/// `192.0.2.10`, `10.0.0.0/8`, `::1`, `fd00::/8`.
///
/// ```
/// use endpoint_auth::client::TrustedProxy;
///
/// let lan: TrustedProxy = "10.0.0.0/8".parse().unwrap();
/// assert!(lan.contains("10.1.2.3".parse().unwrap()));
/// assert!(!lan.contains("192.0.2.1".parse().unwrap()));
/// assert!("10.0.0.0/33".parse::<TrustedProxy>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

/// Why a [`TrustedProxy`] could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or network (like 192.0.2.10, 10.0.0.0/8 or fd00::/8)")]
pub struct TrustedProxyError(String);

impl TrustedProxy {
    /// Exactly one address.
    pub fn address(address: IpAddr) -> Self {
        let address = canonical(address);
        let prefix = if address.is_ipv4() { 32 } else { 128 };
        Self {
            network: address,
            prefix,
        }
    }

    /// Whether `address` is this proxy or in this network.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(
                u128::from(net.to_bits()),
                u128::from(ip.to_bits()),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(net.to_bits(), ip.to_bits(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, width: u8, prefix: u8) -> bool {
    let host_bits = u32::from(width - prefix);
    (a ^ b).checked_shr(host_bits).unwrap_or(0) == 0
}

impl FromStr for TrustedProxy {
    type Err = TrustedProxyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || TrustedProxyError(text.to_owned());
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address = canonical(address.parse::<IpAddr>().map_err(|_| error())?);
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(error)?,
            None => width,
        };
        Ok(Self {
            network: address,
            prefix,
        })
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; then the nearest
/// untrusted hop of the forwarding chain, read right to left (each proxy appends the address it
/// received from), from the `Forwarded` fields if there are any, else from `X-Forwarded-For`.
/// A hop that cannot be read ends the walk at the last trusted one, so a client cannot pick an
/// address by sending garbage.
pub(crate) fn resolve<'a>(
    trusted: &[TrustedProxy],
    peer: Option<IpAddr>,
    forwarded: impl IntoIterator<Item = &'a [u8]>,
    x_forwarded_for: impl IntoIterator<Item = &'a [u8]>,
) -> ClientAddress {
    let Some(peer) = peer else {
        return ClientAddress::UNKNOWN;
    };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|proxy| proxy.contains(ip));
    if !is_trusted(peer) {
        return ClientAddress::new(peer);
    }
    let mut hops: Vec<Option<IpAddr>> =
        forwarded.into_iter().flat_map(forwarded_for_hops).collect();
    if hops.is_empty() {
        hops = x_forwarded_for
            .into_iter()
            .flat_map(|value| value.split(|&b| b == b','))
            .map(|hop| parse_hop(trim(hop)))
            .collect();
    }
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            None => break,
        }
    }
    ClientAddress::new(client)
}

/// The `for=` nodes of one `Forwarded` field value (RFC 7239), in order.
fn forwarded_for_hops(value: &[u8]) -> Vec<Option<IpAddr>> {
    value
        .split(|&b| b == b',')
        .filter_map(|element| {
            element.split(|&b| b == b';').find_map(|pair| {
                let pair = trim(pair);
                let (name, node) = pair.split_at(pair.iter().position(|&b| b == b'=')?);
                name.eq_ignore_ascii_case(b"for")
                    .then(|| parse_hop(unquote(trim(&node[1..]))))
            })
        })
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`,
/// `[2001:db8::1]:8080`. Obfuscated (`_hidden`) and `unknown` nodes read as `None`.
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(hop).ok()?;
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let inner = text.strip_prefix('[')?.split(']').next()?;
    inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn unquote(bytes: &[u8]) -> &[u8] {
    match bytes {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|p| p.parse().unwrap()).collect()
    }

    fn client(trusted: &[&str], peer: &str, fwd: &[&str], xff: &[&str]) -> ClientAddress {
        resolve(
            &proxies(trusted),
            Some(ip(peer)),
            fwd.iter().map(|v| v.as_bytes()),
            xff.iter().map(|v| v.as_bytes()),
        )
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(
            client(&[], "198.51.100.7", &["for=192.0.2.1"], &["192.0.2.2"]),
            ClientAddress::new(ip("198.51.100.7"))
        );
        assert_eq!(
            client(&["10.0.0.0/8"], "198.51.100.7", &[], &["192.0.2.2"]),
            ClientAddress::new(ip("198.51.100.7"))
        );
    }

    #[test]
    fn a_trusted_proxy_forwards_the_nearest_untrusted_hop() {
        // The client claims 1.1.1.1; the proxy chain appended 203.0.113.9 then 10.0.0.2.
        assert_eq!(
            client(
                &["10.0.0.0/8"],
                "10.0.0.1",
                &[],
                &["1.1.1.1, 203.0.113.9", "10.0.0.2"]
            ),
            ClientAddress::new(ip("203.0.113.9"))
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for() {
        assert_eq!(
            client(
                &["127.0.0.1"],
                "127.0.0.1",
                &["for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\""],
                &["198.51.100.1"]
            ),
            ClientAddress::new(ip("2001:db8:cafe::17"))
        );
        assert_eq!(
            client(
                &["127.0.0.1"],
                "127.0.0.1",
                &["For=\"192.0.2.43:47011\""],
                &[]
            ),
            ClientAddress::new(ip("192.0.2.43"))
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_trusted_hop() {
        assert_eq!(
            client(
                &["127.0.0.1", "10.0.0.0/8"],
                "127.0.0.1",
                &[],
                &["192.0.2.1, nonsense, 10.0.0.5"]
            ),
            ClientAddress::new(ip("10.0.0.5"))
        );
        assert_eq!(
            client(&["127.0.0.1"], "127.0.0.1", &["for=unknown"], &[]),
            ClientAddress::new(ip("127.0.0.1"))
        );
    }

    #[test]
    fn a_trusted_proxy_without_forwarding_fields_is_the_client() {
        assert_eq!(
            client(&["127.0.0.1"], "127.0.0.1", &[], &[]),
            ClientAddress::new(ip("127.0.0.1"))
        );
    }

    #[test]
    fn no_peer_is_unknown() {
        assert_eq!(
            resolve(&[], None, std::iter::empty(), std::iter::empty()),
            ClientAddress::UNKNOWN
        );
    }

    #[test]
    fn ipv6_clients_share_their_64_and_mapped_ipv4_is_ipv4() {
        let a = ClientAddress::new(ip("2001:db8:1:2::1")).admission_key();
        let b = ClientAddress::new(ip("2001:db8:1:2:ffff::9")).admission_key();
        let c = ClientAddress::new(ip("2001:db8:1:3::1")).admission_key();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            ClientAddress::new(ip("::ffff:192.0.2.1")).admission_key(),
            ClientAddress::new(ip("192.0.2.1")).admission_key()
        );
    }

    #[test]
    fn proxy_networks() {
        let any4: TrustedProxy = "0.0.0.0/0".parse().unwrap();
        assert!(any4.contains(ip("203.0.113.1")));
        assert!(!any4.contains(ip("::1")));
        let one: TrustedProxy = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")));
        assert!(!one.contains(ip("::2")));
        let net: TrustedProxy = "fd00::/8".parse().unwrap();
        assert!(net.contains(ip("fd12:3456::1")));
        assert!(!net.contains(ip("fe80::1")));
        for bad in [
            "",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "::/129",
            "example.com",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
        assert_eq!(
            TrustedProxy::address(ip("192.0.2.1")).to_string(),
            "192.0.2.1/32"
        );
    }
}
