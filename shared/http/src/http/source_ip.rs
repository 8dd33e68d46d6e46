//! The caller's IP as API Gateway saw it (`requestContext.http.sourceIp`), or the socket peer
//! under the dev server. Never `X-Forwarded-For`: a client can write that header. Behind the
//! template's CloudFront distribution, the viewer address the distribution names, but only on
//! a request that carries the value it shares with the functions
//! ([`dispatch_domain::trusted_edge`]). An IPv6 address counts as its /64: one host usually
//! holds a whole /64, and would otherwise be a new source at every request.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use dispatch_domain::trusted_edge::{SECRET_HEADER, TrustedEdge, VIEWER_ADDRESS_HEADER};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

use crate::AppState;

/// The source IP of the request, if known.
pub struct SourceIp(pub Option<String>);

impl FromRequestParts<AppState> for SourceIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(viewer) = vouched_viewer(parts, state.config().trusted_edge.as_ref()) {
            return Ok(SourceIp(Some(source_of(viewer))));
        }
        if let Some(RequestContext::ApiGatewayV2(context)) = parts.extensions.request_context_ref()
        {
            let address = context.http.source_ip.as_deref();
            let source = address.map(|a| a.parse().map_or_else(|_| a.to_owned(), source_of));
            return Ok(SourceIp(source));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| source_of(c.0.ip()));
        Ok(SourceIp(peer))
    }
}

/// The source an address counts as: an IPv4 address (also one written as IPv6), or the /64 of
/// an IPv6 address.
pub fn source_of(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

/// The viewer address named by a request that the trusted edge vouches for; none when no edge
/// is configured, the value is missing or wrong, or the address is not an IP.
fn vouched_viewer(parts: &Parts, edge: Option<&TrustedEdge>) -> Option<IpAddr> {
    let edge = edge?;
    let presented = parts.headers.get(SECRET_HEADER)?;
    if !edge.vouches_for(presented.as_bytes()) {
        tracing::warn!(
            "a request named a viewer address without the edge's value; using its source address"
        );
        return None;
    }
    let named = parts.headers.get(VIEWER_ADDRESS_HEADER)?.to_str().ok()?;
    TrustedEdge::viewer_address(named)
}

#[cfg(test)]
mod tests {
    use super::source_of;

    #[test]
    fn an_ipv6_address_counts_as_its_64_and_ipv4_as_itself() {
        let source = |a: &str| source_of(a.parse().unwrap());
        assert_eq!(source("203.0.113.9"), "203.0.113.9");
        assert_eq!(source("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(
            source("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(source("2001:db8:1:2::1"), source("2001:db8:1:2:ffff::9"));
        assert_ne!(source("2001:db8:1:2::1"), source("2001:db8:1:3::1"));
    }
}
