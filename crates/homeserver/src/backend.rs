//! The one interface every homeserver backend implements.

use std::collections::HashMap;

use crate::{Error, Secret, Setting, UserId, UserIdRules};

/// What the homeserver says about a user, as far as this backend can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Missing,
    Found(Account),
    /// This backend was not given what it needs to look users up (for example an admin token).
    Unknown,
}

/// An existing account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `None` when this backend cannot see the flag (it then logs in as the user to find out).
    pub admin: Option<bool>,
    pub deactivated: bool,
    /// Locked: it cannot log in until unlocked (MAS), though it still exists and can be changed.
    pub locked: bool,
    /// Left by a creation of this tool that did not finish (MAS: created, then its password
    /// refused; the tool locks such an account, so that it is told apart and finished later).
    pub unfinished: bool,
    /// The display name where the look-up shows it (`Some(None)`: it has none); `None` where it
    /// does not, and [`Backend::displayname`] reads it.
    pub displayname: Option<Option<String>>,
}

/// An account as a listing of all the server's accounts shows it (exact mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub localpart: String,
    pub account: Account,
    pub guest: bool,
    /// Registered by an application service (a bridge's users); `None` when the listing does
    /// not say ([`Backend::appservice`] asks).
    pub appservice: Option<bool>,
}

/// A successful password login, already logged out again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Login {
    /// Whether the account is a server admin, as its own session sees it; `None` where a
    /// session cannot tell (the backend then looks the flag up itself).
    pub admin: Option<bool>,
}

/// What a new account is made with.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub password: &'a Secret,
    pub admin: bool,
    pub displayname: Option<&'a str>,
    /// Synapse's account type; `None` for a regular user.
    pub user_type: Option<UserType>,
}

/// The account types Synapse's shared-secret registration takes besides a regular user (it
/// answers any other with 400 "Invalid user type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    Bot,
    Support,
}

impl UserType {
    /// The names, as the registration request and the settings write them.
    pub const NAMES: [&'static str; 2] = ["bot", "support"];

    pub fn name(self) -> &'static str {
        match self {
            UserType::Bot => "bot",
            UserType::Support => "support",
        }
    }

    pub fn parse(name: &str) -> Option<UserType> {
        match name {
            "bot" => Some(UserType::Bot),
            "support" => Some(UserType::Support),
            _ => None,
        }
    }
}

/// The operations a backend may or may not be able to do with the settings it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    LookUp,
    Create,
    SetAdmin,
    SetPassword,
    /// Adding a verified email address.
    AddEmail,
    /// Locking an account (it stays, but cannot log in), and unlocking it.
    Lock,
    Unlock,
    /// Deactivating an account (its sessions end, it cannot log in again).
    Deactivate,
    /// Erasing a deactivated account as the server defines it (Synapse's GDPR erasure).
    Erase,
    /// Reactivating a deactivated account, with a password.
    Reactivate,
    /// Reading and setting an existing account's display name.
    SetDisplayname,
    /// Creating an account with a user type (`bot`, `support`).
    CreateWithUserType,
}

/// A homeserver's user store. Implementations only talk to their server; deciding what to do is
/// the reconcile step's job.
// The engine runs backends on one thread, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// The domain of this server's user IDs.
    fn server_name(&self) -> &str;

    /// The names this server registers.
    fn rules(&self) -> UserIdRules;

    /// Why the server would refuse this password, checked before any request.
    fn password_problem(&self, password: &Secret) -> Option<String> {
        let _ = password;
        None
    }

    /// Why the server takes no password at all now (MAS with passwords turned off), so that a run
    /// that would set or check one fails before any change.
    fn passwords_refused(&self) -> Option<String> {
        None
    }

    /// The setting this backend lacks for `operation`, if any, so that a plan that cannot be
    /// carried out fails before anything is changed.
    fn missing_for(&self, operation: Operation) -> Option<Setting>;

    async fn look_up(&self, user: &UserId) -> Result<Lookup, Error>;

    /// Why this server cannot do `operation` at all, whatever it is given (Dendrite has no
    /// account locking, MAS no user types), so that a run needing it is refused before any
    /// change: a template naming settings as `{user_type}` ([`crate::fill`]).
    fn unsupported(&self, operation: Operation) -> Option<&'static str> {
        let _ = operation;
        None
    }

    /// Whether `operation` needs the account's own password (Dendrite deactivates an account only
    /// through the user's own interactive authentication).
    fn needs_own_password(&self, operation: Operation) -> bool {
        let _ = operation;
        false
    }

    /// What check mode cannot foresee about `operation` on this server (it would only be known
    /// from the server's answer to the real request).
    fn unforeseeable(&self, operation: Operation) -> Option<&'static str> {
        let _ = operation;
        None
    }

    /// How many password-check logins the run is about to make at most, for a backend that
    /// paces them (MAS's login rate limit) to say how long that takes.
    fn expect_logins(&self, count: usize) {
        let _ = count;
    }

    /// Ends what the run opened on the server (MAS: revokes the admin token). Called once, at
    /// the end of every run that connected, also one that failed.
    async fn close(&self) -> Result<(), Error> {
        Ok(())
    }

    /// Every local account by localpart, when listing them is cheaper than looking `wanted`
    /// users up one by one; `None` when it is not (or this backend cannot list).
    /// Every local account but guests, for exact mode; `None` when this backend cannot list
    /// them all. A listing that fails or cannot be complete is an error, never a part of it.
    async fn list_everyone(&self) -> Result<Option<Vec<Listed>>, Error> {
        Ok(None)
    }

    /// Whether an account was registered by an application service, where a listing does not
    /// say; `None`: cannot be told (such an account is never pruned).
    async fn appservice(&self, _user: &UserId) -> Result<Option<bool>, Error> {
        Ok(None)
    }

    async fn list_accounts(&self, wanted: usize) -> Result<Option<HashMap<String, Account>>, Error> {
        let _ = wanted;
        Ok(None)
    }

    /// Logs in with a password and out again. `None` when the password does not log in (wrong
    /// password or no such user: servers do not say which).
    async fn log_in(&self, user: &UserId, password: &Secret) -> Result<Option<Login>, Error>;

    /// Creates the account. [`Error::AlreadyExists`] when it exists.
    async fn create(&self, user: &UserId, account: &NewAccount<'_>) -> Result<(), Error>;

    async fn set_admin(&self, user: &UserId, admin: bool) -> Result<(), Error>;

    async fn set_password(&self, user: &UserId, password: &Secret) -> Result<(), Error>;

    /// Whether the account has this email address. Only backends without
    /// `missing_for(AddEmail)` are asked.
    async fn has_email(&self, user: &UserId, email: &str) -> Result<bool, Error> {
        let _ = (user, email);
        Ok(false)
    }

    /// The account's display name (`None`: it has none), where the look-up did not show it. Only
    /// backends without `missing_for(SetDisplayname)` or `unsupported(SetDisplayname)` are asked.
    async fn displayname(&self, user: &UserId) -> Result<Option<String>, Error> {
        Err(no_displayname(format!("reading the display name of {user}")))
    }

    /// Makes the account's display name `name`.
    async fn set_displayname(&self, user: &UserId, name: &str) -> Result<(), Error> {
        let _ = name;
        Err(no_displayname(format!("setting the display name of {user}")))
    }

    /// Adds a verified email address to the account.
    async fn add_email(&self, user: &UserId, email: &str) -> Result<(), Error> {
        let _ = email;
        Err(Error::NeedsSetting { action: format!("adding an email address to {user}"), setting: Setting::MasBackend })
    }

    /// Locks (`true`) or unlocks the account. Only backends without `unsupported(Lock)` are asked.
    async fn set_locked(&self, user: &UserId, locked: bool) -> Result<(), Error>;

    /// Deactivates the account, erasing it too when `erase`. `password` is the account's own, for
    /// a backend that `needs_own_password(Deactivate)`.
    async fn deactivate(&self, user: &UserId, erase: bool, password: Option<&Secret>) -> Result<(), Error>;

    /// Reactivates a deactivated account and sets its password (a reactivated account has none
    /// it could use).
    async fn reactivate(&self, user: &UserId, password: &Secret) -> Result<(), Error>;
}

fn no_displayname(action: String) -> Error {
    Error::Unsupported { action, why: "this server keeps no display names this tool can reach" }
}
