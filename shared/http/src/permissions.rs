//! The permission layer: for every route of the route table, one function decides who may call it,
//! from the permission the route declares (docs/contract.md §3). It runs before the handler, so a
//! bad token is a 401 and a missing role a 403 whatever the body holds (Dispatch's order).
//!
//! For routes under `/{organization}` the decision costs one `BatchGetItem` (the user, the
//! organization and the membership), and the resolved [`Caller`] is handed to the handler.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::routes::{Permission, Route};
use crate::state::AppState;
use dispatch_domain::DomainError;
use dispatch_domain::auth::token::{self, Claims};
use dispatch_domain::model::{Membership, Organization, OrganizationSlug, PrimaryKey, Role, User};
use dispatch_domain::{memberships, users};

pub use dispatch_domain::messages::{FORBIDDEN, ORGANIZATION_NOT_FOUND};

/// Who is calling: the user, and for routes under an organization that organization and the
/// caller's membership of it (if any).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub claims: Claims,
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
/// route but public ones.
pub async fn authorize(
    route: &Route,
    state: &AppState,
    parts: &Parts,
) -> Result<Option<Caller>, ApiError> {
    if route.permission == Permission::Public {
        return Ok(None);
    }
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = token::bearer(header).ok_or(ApiError::Unauthorized)?;
    let claims = token::verify(&state.secrets().jwt, state.config(), token)?;
    let user_id = claims.user_id().ok_or(ApiError::Unauthorized)?;

    let path = parts.uri.path();
    let slug = match route.permission {
        Permission::OwnerOfOrganizationId => {
            let id = id_param(route, path, "organization_id")?
                .ok_or_else(|| ApiError::NotFound(ORGANIZATION_NOT_FOUND.into()))?;
            Some(slug_of_organization_id(state, id).await?)
        }
        _ => organization_slug(route, path)?.map(|s| s.as_str().to_owned()),
    };

    // One round trip: the user, and the organization with the caller's membership.
    let (stored_user, organization, mut membership) =
        memberships::caller(state.store(), user_id, slug.as_deref()).await?;

    if slug.is_some() && organization.is_none() {
        return Err(ApiError::NotFound(ORGANIZATION_NOT_FOUND.into()));
    }
    let user = match stored_user {
        Some(user) => user,
        None => {
            let user = provision(state, &claims, slug.as_deref()).await?;
            if let Some(slug) = &slug {
                membership = memberships::membership(state.store(), slug, user.id).await?;
            }
            user
        }
    };
    if user.token_version != claims.tv || user.email != claims.email {
        return Err(ApiError::Unauthorized);
    }

    let caller = Caller {
        user,
        claims,
        organization,
        membership,
    };
    if permits(route, &caller, path)? {
        Ok(Some(caller))
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

/// A valid token whose user does not exist (Q-U9, Dispatch's auto-provisioning): the user is
/// found by email, or created with a random password as Member of the auto-join organizations.
///
/// A user found by email must be the token's: its id is the token's `sub`, or it was
/// provisioned from that `sub`. Otherwise a token of a deleted account would authenticate as
/// whoever holds its email later.
async fn provision(
    state: &AppState,
    claims: &Claims,
    url_slug: Option<&str>,
) -> Result<User, ApiError> {
    let owned_by_token = |user: User| {
        let subject = user.provisioning_subject.as_deref();
        if claims.user_id() == Some(user.id) || subject == Some(claims.sub.as_str()) {
            Ok(user)
        } else {
            Err(ApiError::Unauthorized)
        }
    };
    if let Some(user) = users::find_by_email(state.store(), &claims.email).await? {
        return owned_by_token(user);
    }
    let email = dispatch_domain::model::EmailAddress::parse(&claims.email)
        .map_err(|_| ApiError::Unauthorized)?;
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
        users::create_provisioned(state.store(), &email, hash, &memberships, &claims.sub).await;
    let user = match created {
        Ok(user) => user,
        // Created concurrently by another request (with the same token, or not).
        Err(DomainError::Invalid(_)) => users::find_by_email(state.store(), &claims.email)
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
