//! Any supported homeserver, chosen at run time.

use std::collections::HashMap;

use crate::backend::{Account, Backend, Listed, Login, Lookup, NewAccount, Operation};
use crate::dendrite::Dendrite;
use crate::mas::Mas;
use crate::synapse::Synapse;
use crate::{Error, Secret, Setting, UserId, UserIdRules};

/// One of the backends, so callers can choose by configuration and still call one type.
#[derive(Debug)]
pub enum Server {
    Synapse(Synapse),
    /// Boxed: its database connection makes it much larger than the others.
    Dendrite(Box<Dendrite>),
    /// Boxed: its limiter and caches make it larger than the others.
    Mas(Box<Mas>),
}

/// Calls the same method on whichever backend this is.
macro_rules! each {
    ($self:ident, $b:ident => $call:expr) => {
        match $self {
            Server::Synapse($b) => $call,
            Server::Dendrite($b) => $call,
            Server::Mas($b) => $call,
        }
    };
}

impl Backend for Server {
    fn server_name(&self) -> &str {
        each!(self, b => b.server_name())
    }

    fn rules(&self) -> UserIdRules {
        each!(self, b => b.rules())
    }

    fn password_problem(&self, password: &Secret) -> Option<String> {
        each!(self, b => b.password_problem(password))
    }

    fn passwords_refused(&self) -> Option<String> {
        each!(self, b => b.passwords_refused())
    }

    fn missing_for(&self, operation: Operation) -> Option<Setting> {
        each!(self, b => b.missing_for(operation))
    }

    async fn look_up(&self, user: &UserId) -> Result<Lookup, Error> {
        each!(self, b => b.look_up(user).await)
    }

    fn unsupported(&self, operation: Operation) -> Option<&'static str> {
        each!(self, b => b.unsupported(operation))
    }

    fn needs_own_password(&self, operation: Operation) -> bool {
        each!(self, b => b.needs_own_password(operation))
    }

    fn unforeseeable(&self, operation: Operation) -> Option<&'static str> {
        each!(self, b => b.unforeseeable(operation))
    }

    fn expect_logins(&self, count: usize) {
        each!(self, b => b.expect_logins(count))
    }

    async fn close(&self) -> Result<(), Error> {
        each!(self, b => b.close().await)
    }

    async fn list_everyone(&self) -> Result<Option<Vec<Listed>>, Error> {
        each!(self, b => b.list_everyone().await)
    }

    async fn appservice(&self, user: &UserId) -> Result<Option<bool>, Error> {
        each!(self, b => b.appservice(user).await)
    }

    async fn list_accounts(&self, wanted: usize) -> Result<Option<HashMap<String, Account>>, Error> {
        each!(self, b => b.list_accounts(wanted).await)
    }

    async fn log_in(&self, user: &UserId, password: &Secret) -> Result<Option<Login>, Error> {
        each!(self, b => b.log_in(user, password).await)
    }

    async fn create(&self, user: &UserId, account: &NewAccount<'_>) -> Result<(), Error> {
        each!(self, b => b.create(user, account).await)
    }

    async fn set_admin(&self, user: &UserId, admin: bool) -> Result<(), Error> {
        each!(self, b => b.set_admin(user, admin).await)
    }

    async fn set_password(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        each!(self, b => b.set_password(user, password).await)
    }

    async fn has_email(&self, user: &UserId, email: &str) -> Result<bool, Error> {
        each!(self, b => b.has_email(user, email).await)
    }

    async fn add_email(&self, user: &UserId, email: &str) -> Result<(), Error> {
        each!(self, b => b.add_email(user, email).await)
    }

    async fn set_locked(&self, user: &UserId, locked: bool) -> Result<(), Error> {
        each!(self, b => b.set_locked(user, locked).await)
    }

    async fn deactivate(&self, user: &UserId, erase: bool, password: Option<&Secret>) -> Result<(), Error> {
        each!(self, b => b.deactivate(user, erase, password).await)
    }

    async fn reactivate(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        each!(self, b => b.reactivate(user, password).await)
    }

    async fn displayname(&self, user: &UserId) -> Result<Option<String>, Error> {
        each!(self, b => b.displayname(user).await)
    }

    async fn set_displayname(&self, user: &UserId, name: &str) -> Result<(), Error> {
        each!(self, b => b.set_displayname(user, name).await)
    }
}
