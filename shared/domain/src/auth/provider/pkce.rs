//! `dispatch-auth-provider-pkce` (being written).

use super::Credentials;
use super::settings::PkceSettings;
use crate::error::DomainError;

#[derive(Debug)]
pub struct PkceVerifier {
    settings: PkceSettings,
}

impl PkceVerifier {
    pub fn new(settings: PkceSettings) -> Self {
        Self { settings }
    }

    pub async fn email(&self, _credentials: &Credentials) -> Result<String, DomainError> {
        let _ = &self.settings;
        Err(DomainError::Unauthenticated)
    }
}
