//! The caller's IP as API Gateway saw it (`requestContext.http.sourceIp`), or the socket peer
//! under the dev server. Never `X-Forwarded-For`: a client can write that header.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// The source IP of the request, if known.
pub struct SourceIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for SourceIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(RequestContext::ApiGatewayV2(context)) = parts.extensions.request_context_ref()
        {
            return Ok(SourceIp(context.http.source_ip.clone()));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(SourceIp(peer))
    }
}
