//! The auth service: who a caller is.
//!
//! It owns identities (guests with a device secret, accounts with username and password),
//! sessions, token issuance, the Ed25519 signing keys and revocation. Every other service
//! verifies tokens locally with [`guildhall_tokens::Verifier`] and learns revocations from
//! the bus; nobody calls auth per request.
//!
//! Layout: [`service::AuthService`] holds the rules and talks to the store;
//! [`api::AuthApi`] is the contract head calls through, implemented in process
//! ([`api::InProcess`], for `guildhall up`) and over HTTP ([`client::AuthClient`], for the
//! split shape); [`http`] is the HTTP face of the same contract.

pub mod api;
pub mod client;
mod credentials;
mod error;
pub mod http;
mod keys;
mod limits;
pub mod service;
mod store;

pub use error::AuthError;
pub use service::AuthService;
