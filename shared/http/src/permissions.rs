//! The permission layer: for every route of the route table, one function decides who may call it,
//! from the permission the route declares (docs/contract.md §3). It runs before the handler, so a
//! bad token is a 401 and a missing role a 403 whatever the body holds (Dispatch's order).
//!
//! For routes under `/{organization}` the decision costs one `BatchGetItem` (the user, the
//! organization and the membership), and the resolved [`Caller`] is handed to the handler.
//! A route with a prefetch (`crate::http::Prefetch`) has its first read started beside that
//! batch, once the identity is verified, and handed over only with the caller.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::http::{Ahead, Prefetch, Prefetched};
use crate::routes::{Permission, Route};
use crate::state::AppState;
use dispatch_domain::DomainError;
use dispatch_domain::auth::email_ids;
use dispatch_domain::auth::provider::{Credentials, Identity, Provider};
use dispatch_domain::auth::token::Claims;
use dispatch_domain::model::{Membership, Organization, OrganizationSlug, PrimaryKey, Role, User};
use dispatch_domain::{memberships, users};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

pub use dispatch_domain::messages::{FORBIDDEN, ORGANIZATION_NOT_FOUND};

/// Who is calling: the user, and for routes under an organization that organization and the
/// caller's membership of it (if any).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// The session token's claims (basic provider); `None` for an identity another provider
    /// vouched for.
    pub claims: Option<Claims>,
    pub organization: Option<Organization>,
    pub membership: Option<Membership>,
}

impl Caller {
    /// The caller's role in the route's organization.
    pub fn role(&self) -> Option<Role> {
        self.membership.as_ref().map(|m| m.role)
    }

    /// The route's organization (present on every route under `/{organization}`).
    pub fn organization(&self) -> Result<&Organization, ApiError> {
        self.organization.as_ref().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("route has no organization in its path"))
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "handler of a public route asked for the caller"
            ))
        })
    }
}

/// The value of path parameter `name` of `route` in `path`.
pub fn path_param<'a>(route: &Route, path: &'a str, name: &str) -> Option<&'a str> {
    let placeholder = format!("{{{name}}}");
    route
        .path
        .split('/')
        .zip(path.split('/'))
        .find(|(pattern, _)| *pattern == placeholder)
        .map(|(_, value)| value)
}

/// The organization slug of a `/{organization}/…` path, validated (422 like Dispatch's
/// `OrganizationSlug` path parameter).
pub fn organization_slug(route: &Route, path: &str) -> Result<Option<OrganizationSlug>, ApiError> {
    path_param(route, path, "organization")
        .map(|raw| {
            OrganizationSlug::parse(raw).map_err(|invalid| {
                invalid
                    .at(dispatch_domain::path_param!["organization"])
                    .into()
            })
        })
        .transpose()
}

/// A numeric path parameter, validated as Dispatch's `PrimaryKey`.
pub fn id_param(route: &Route, path: &str, name: &str) -> Result<Option<i32>, ApiError> {
    let Some(raw) = path_param(route, path, name) else {
        return Ok(None);
    };
    Ok(Some(PrimaryKey::from_path(raw, name)?))
}

/// Decides whether the request may reach the handler of `route`; returns the caller for every
/// route but public ones, and what the route's `prefetch` read meanwhile (only ever returned
/// to a caller who is let through).
pub async fn authorize(
    route: &Route,
    state: &AppState,
    parts: &Parts,
    prefetch: Option<Prefetch>,
) -> Result<(Option<Caller>, Prefetched), ApiError> {
    if route.permission == Permission::Public {
        return Ok((None, Prefetched::default()));
    }
    let identity = state
        .authenticator()
        .identify(
            &credentials(parts, state.authenticator().provider()),
            &state.secrets().jwt,
            state.config(),
        )
        .await?;
    let user_id = match &identity {
        Identity::Token(claims) => claims.user_id().ok_or(ApiError::Unauthorized)?,
        // Not known yet (0): provisioned below, as for a token of an unknown user.
        Identity::Email(email) => email_ids::user_id(state.store(), email.as_str())
            .await?
            .unwrap_or(0),
    };

    let path = parts.uri.path();
    let slug = match route.permission {
        Permission::OwnerOfOrganizationId => {
            let id = id_param(route, path, "organization_id")?
                .ok_or_else(|| ApiError::NotFound(ORGANIZATION_NOT_FOUND.into()))?;
            Some(slug_of_organization_id(state, id).await?)
        }
        _ => organization_slug(route, path)?.map(|s| s.as_str().to_owned()),
    };

    // The route's prefetch starts now that the identity is verified, as its own task: it is
    // aborted if this returns anything but a permitted caller.
    let ahead = Ahead::start(prefetch, state, slug.as_deref(), parts.uri.query());
    // One round trip: the user, and the organization with the caller's membership.
    let (mut stored_user, mut organization, mut membership) =
        memberships::caller(state.store(), user_id, slug.as_deref()).await?;
    if let Identity::Email(email) = &identity {
        // A remembered id whose user no longer has this email: read the email's owner afresh.
        if stored_user
            .as_ref()
            .is_some_and(|u| u.email.as_str() != email.as_str())
            || (stored_user.is_none() && user_id != 0)
        {
            email_ids::forget(state.store(), email.as_str());
            let fresh = email_ids::user_id(state.store(), email.as_str())
                .await?
                .unwrap_or(0);
            (stored_user, organization, membership) =
                memberships::caller(state.store(), fresh, slug.as_deref()).await?;
        }
    }

    if slug.is_some() && organization.is_none() {
        return Err(ApiError::NotFound(ORGANIZATION_NOT_FOUND.into()));
    }
    let user = match stored_user {
        Some(user) => user,
        None => {
            let user = provision(state, &identity, slug.as_deref()).await?;
            if let Some(slug) = &slug {
                membership = memberships::membership(state.store(), slug, user.id).await?;
            }
            user
        }
    };
    let claims = match identity {
        Identity::Token(claims) => {
            if user.token_version != claims.tv || user.email != claims.email {
                return Err(ApiError::Unauthorized);
            }
            Some(claims)
        }
        Identity::Email(_) => None,
    };

    let caller = Caller {
        user,
        claims,
        organization,
        membership,
    };
    if permits(route, &caller, path)? {
        Ok((Some(caller), ahead.finish().await))
    } else {
        Err(ApiError::Forbidden(route.denied.into()))
    }
}

/// The rule of each permission class, as lists of roles (docs/contract.md §3.2).
fn permits(route: &Route, caller: &Caller, path: &str) -> Result<bool, ApiError> {
    let role = caller.role();
    let any_of = |roles: &[Role]| role.is_some_and(|r| roles.contains(&r));
    Ok(match route.permission {
        Permission::Public => true,
        // Identity only; the auth endpoints under `/{organization}` need no membership.
        Permission::Authenticated => true,
        Permission::OrganizationMember => role.is_some(),
        Permission::OrganizationOwner | Permission::OwnerOfOrganizationId => any_of(&[Role::Owner]),
        Permission::OrganizationOwnerOrSelf => {
            let target = id_param(route, path, "user_id")?;
            any_of(&[Role::Owner]) || (role.is_some() && target == Some(caller.user.id))
        }
        Permission::ProjectCreate => any_of(&[Role::Owner, Role::Manager]),
        Permission::ProjectUpdate | Permission::SensitiveProjectAction => {
            any_of(&[Role::Owner, Role::Manager, Role::Admin])
        }
    })
}

async fn slug_of_organization_id(state: &AppState, id: i32) -> Result<String, ApiError> {
    dispatch_domain::organization_reads::slug_of_id(state.store(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(ORGANIZATION_NOT_FOUND.into()))
}

/// A caller not known yet (Q-U9, Dispatch's auto-provisioning): a valid token of a user that
/// does not exist, or the first sign-in of an email an identity provider vouched for. The user
/// is found by email, or created with a random password as Member of the auto-join
/// organizations.
///
/// A user found by email for a token must be the token's: its id is the token's `sub`, or it
/// was provisioned from that `sub`. Otherwise a token of a deleted account would authenticate
/// as whoever holds its email later. An email from a provider is the identity itself.
async fn provision(
    state: &AppState,
    identity: &Identity,
    url_slug: Option<&str>,
) -> Result<User, ApiError> {
    let (email, subject) = match identity {
        Identity::Token(claims) => (claims.email.clone(), claims.sub.clone()),
        Identity::Email(email) => (
            email.as_str().to_owned(),
            format!(
                "{}:{}",
                state.authenticator().provider().slug(),
                email.as_str()
            ),
        ),
    };
    let owned_by_token = |user: User| match identity {
        Identity::Email(_) => Ok(user),
        Identity::Token(claims) => {
            let provisioned_from = user.provisioning_subject.as_deref();
            if claims.user_id() == Some(user.id) || provisioned_from == Some(claims.sub.as_str()) {
                Ok(user)
            } else {
                Err(ApiError::Unauthorized)
            }
        }
    };
    if let Some(user) = users::find_by_email(state.store(), &email).await? {
        return owned_by_token(user);
    }
    let email =
        dispatch_domain::model::EmailAddress::parse(&email).map_err(|_| ApiError::Unauthorized)?;
    let memberships = users::auto_join_organizations(
        state.store(),
        &state.config().auto_join,
        url_slug.unwrap_or("default"),
    )
    .await?;
    let hash = state
        .passwords()
        .hash(&dispatch_domain::auth::Password::random())
        .await?;
    let created =
        users::create_provisioned(state.store(), &email, hash, &memberships, &subject).await;
    let user = match created {
        Ok(user) => user,
        // Created concurrently by another request (with the same token, or not).
        Err(DomainError::Invalid(_)) => users::find_by_email(state.store(), email.as_str())
            .await?
            .ok_or(ApiError::Unauthorized)
            .and_then(owned_by_token)?,
        Err(other) => return Err(other.into()),
    };
    tracing::info!(
        user_id = user.id,
        "auto-provisioned a user from a valid token"
    );
    // The new user starts at token version 0; a token for an older account of that email
    // keeps its own version and is refused by the caller's check.
    Ok(user)
}

/// What the request offers the authentication provider: its headers, and what an API Gateway
/// authorizer verified (only present behind an authorizer; a client cannot forge the request
/// context).
fn credentials(parts: &Parts, provider: &Provider) -> Credentials {
    let mut credentials = Credentials {
        authorization: parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ..Credentials::default()
    };
    if *provider == Provider::Basic {
        // The session token is all the basic provider looks at: no copy of the rest per request.
        return credentials;
    }
    credentials.headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    if let Some(RequestContext::ApiGatewayV2(context)) = parts.extensions.request_context_ref()
        && let Some(authorizer) = &context.authorizer
    {
        credentials.jwt_authorizer_claims = authorizer.jwt.as_ref().map(|jwt| jwt.claims.clone());
        if !authorizer.fields.is_empty() {
            credentials.lambda_authorizer = Some(authorizer.fields.clone());
        }
    }
    credentials
}
