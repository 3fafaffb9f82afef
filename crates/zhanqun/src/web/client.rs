//! The client's address: the connection's peer, or — only when the peer is one of the
//! configured `trusted_proxies` — the address that proxy forwarded in `X-Forwarded-For`.
//! Every per-address limit (public forms, ratings, logins) counts by this address, so behind
//! the reverse proxy the README recommends each citizen is counted, not the proxy; and a
//! client that is not a trusted proxy cannot choose its address by sending the header.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::app::App;

/// Address ranges whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8`, `127.0.0.1`, `::1`, `fd00::/8`, … with a message naming the bad one.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let (addr, bits) = match e.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (e.as_str(), None),
            };
            let ip: IpAddr = addr.trim().parse().map_err(|_| format!("trusted_proxies: {e:?} is not an address"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|&b| b <= max)
                    .ok_or_else(|| format!("trusted_proxies: {e:?} has no valid prefix length"))?,
            };
            out.push((ip.to_canonical(), bits));
        }
        Ok(TrustedProxies(out))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|&(net, bits)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
            _ => false,
        })
    }

    /// The client behind `peer`: the right-most `X-Forwarded-For` entry that is not itself a
    /// trusted proxy, when `peer` is one; `peer` otherwise.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        // Several headers are one list, in order.
        let hops = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
        let hops: Vec<&str> = hops.collect();
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else { break };
            client = ip.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

/// The client's address, as [`TrustedProxies::client`] finds it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<App> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddr(app.proxies.client(peer, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let t = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into(), "fd00::/8".into()]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(t.client(ip("127.0.0.1"), &headers(&["203.0.113.9"])), ip("203.0.113.9"));
        // A chain: the right-most address no trusted proxy added is the client.
        assert_eq!(t.client(ip("10.1.2.3"), &headers(&["1.1.1.1, 203.0.113.9", "10.9.9.9"])), ip("203.0.113.9"));
        // A stranger's header is ignored.
        assert_eq!(t.client(ip("198.51.100.7"), &headers(&["203.0.113.9"])), ip("198.51.100.7"));
        // Garbage stops the walk at the last good hop.
        assert_eq!(t.client(ip("127.0.0.1"), &headers(&["nonsense"])), ip("127.0.0.1"));
        assert_eq!(t.client(ip("::ffff:127.0.0.1"), &headers(&["fd00::5, 2001:db8::1"])), ip("2001:db8::1"));
        assert!(t.contains(ip("fdab::1")) && !t.contains(ip("fe80::1")) && !t.contains(ip("11.0.0.1")));
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy".into()]).is_err());
        assert!(TrustedProxies::parse(&["10.1.0.0/12".into()]).unwrap().contains(ip("10.15.255.255")));
    }
}
