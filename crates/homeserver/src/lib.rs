//! Matrix homeservers seen as user stores.
//!
//! [`Backend`] is what the reconcile step needs from a homeserver: look a user up, log in as one,
//! create one, change its admin flag or password. Each homeserver implements it with its own APIs
//! ([`synapse::Synapse`], [`dendrite::Dendrite`], [`mas::Mas`]), and [`Server`] is whichever one the configuration names; [`Http`] is the transport they share, with the waits and retries a
//! starting or busy server calls for.

mod backend;
mod client;
pub mod dendrite;
mod error;
#[cfg(test)]
mod hostile_input;
mod http;
pub mod mas;
pub mod provisioned;
pub mod registration_tokens;
mod secret;
mod server;
mod setting;
pub mod shared_secret;
pub mod synapse;
mod user_id;

pub use backend::{Account, Backend, Listed, Login, Lookup, NewAccount, Operation, UserType};
pub use error::Error;
pub use http::{Http, Transport};
pub use secret::Secret;
pub use server::Server;
pub use setting::{assignment, fill, Setting};
pub use user_id::{UserId, UserIdError, UserIdRules};
