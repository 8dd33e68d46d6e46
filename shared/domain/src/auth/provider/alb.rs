//! `dispatch-auth-provider-aws-alb` (being written).

use super::Credentials;
use super::settings::AlbSettings;
use crate::error::DomainError;

#[derive(Debug)]
pub struct AlbVerifier {
    settings: AlbSettings,
}

impl AlbVerifier {
    pub fn new(settings: AlbSettings) -> Self {
        Self { settings }
    }

    pub async fn email(&self, _credentials: &Credentials) -> Result<String, DomainError> {
        let _ = &self.settings;
        Err(DomainError::Unauthenticated)
    }
}
