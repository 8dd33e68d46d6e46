//! Authentication: passwords (argon2id), tokens (HS256 JWT), login throttling, and the
//! per-request resolution of who the caller is.

pub mod current_password;
pub mod email_ids;
pub mod login;
pub mod password;
pub mod provider;
pub mod throttle;
pub mod token;

pub use password::{Password, Passwords};
pub use token::Claims;
