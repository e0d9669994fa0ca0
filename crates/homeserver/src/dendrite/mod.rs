//! Dendrite: shared-secret registration to create users, `/register/available` to see whether
//! one exists, password login to check a password and (seen from the user's own session) the
//! admin flag, and the account database for what Dendrite has no API for: reading and changing
//! the admin flag and the display name of an existing account.

mod database;
mod postgres;
mod tls;

use std::collections::HashMap;

use serde_json::json;

pub use database::AccountsDatabase;

use crate::backend::{Account, Backend, Login, Lookup, NewAccount, Operation};
use crate::client::{self, escape, log_in, log_in_and_out, log_out, token_hint, user_path};
use crate::http::{Http, Request};
use crate::{shared_secret, Error, Secret, Setting, UserId, UserIdRules};

/// An admin-only GET: 403 for anyone else.
const ADMIN_PROBE: &str = "/_dendrite/admin/registrationTokens";

/// Dendrite's password length limits, in bytes. It claims up to 512, but its bcrypt refuses more
/// than 72 and Dendrite 0.13 then answers the registration with 200 without creating the account
/// (seen against v0.13.8), so 72 is the real limit.
const PASSWORD_BYTES: std::ops::RangeInclusive<usize> = 8..=72;

/// A Dendrite homeserver.
#[derive(Debug)]
pub struct Dendrite {
    http: Http,
    server_name: String,
    shared_secret: Option<Secret>,
    admin_token: Option<Secret>,
    database: Option<AccountsDatabase>,
}

impl Dendrite {
    /// Connects to Dendrite. Without `server_name`, the domain is asked of the server with the
    /// admin token.
    pub async fn connect(
        http: Http,
        server_name: Option<String>,
        shared_secret: Option<Secret>,
        admin_token: Option<Secret>,
        database: Option<AccountsDatabase>,
    ) -> Result<Dendrite, Error> {
        // A database URL that cannot be used safely is refused before any traffic.
        let database = database.map(|database| database.with_timeout(http.timeout()));
        if let Some(database) = &database {
            database.check()?;
        }
        let server_name = client::server_name(&http, server_name, admin_token.as_ref()).await?;
        Ok(Dendrite { http, server_name, shared_secret, admin_token, database })
    }

    /// The transport and admin token, for the registration-token API.
    pub(crate) fn admin_access(&self) -> (&Http, Option<&Secret>) {
        (&self.http, self.admin_token.as_ref())
    }

    fn database(&self, action: &str) -> Result<&AccountsDatabase, Error> {
        self.database
            .as_ref()
            .ok_or_else(|| Error::NeedsSetting { action: action.to_string(), setting: Setting::DendriteDatabase })
    }
}

impl Backend for Dendrite {
    fn server_name(&self) -> &str {
        &self.server_name
    }

    fn rules(&self) -> UserIdRules {
        UserIdRules::DENDRITE
    }

    fn password_problem(&self, password: &Secret) -> Option<String> {
        let len = password.expose().len();
        (!PASSWORD_BYTES.contains(&len)).then(|| {
            format!(
                "is {len} bytes long; Dendrite needs {} to {} bytes (longer ones are lost to bcrypt's limit)",
                PASSWORD_BYTES.start(),
                PASSWORD_BYTES.end()
            )
        })
    }

    fn missing_for(&self, operation: Operation) -> Option<Setting> {
        match operation {
            Operation::Create if self.shared_secret.is_none() => Some(Setting::RegistrationSharedSecret),
            Operation::SetAdmin | Operation::SetDisplayname if self.database.is_none() => {
                Some(Setting::DendriteDatabase)
            }
            Operation::SetPassword if self.admin_token.is_none() => Some(Setting::AdminAccessToken),
            Operation::AddEmail => Some(Setting::MasBackend),
            // Without the database a deactivated account looks like any other (and its password
            // no longer logs in), so whether it is deactivated cannot be seen.
            Operation::Deactivate if self.database.is_none() => Some(Setting::DendriteDatabase),
            _ => None,
        }
    }

    fn unsupported(&self, operation: Operation) -> Option<&'static str> {
        match operation {
            Operation::Lock | Operation::Unlock => {
                Some("Dendrite has no account locking (neither its admin API nor its account database has a lock)")
            }
            Operation::Erase => {
                Some("Dendrite cannot erase an account (it has no erasure; deactivate it without erase)")
            }
            Operation::Reactivate => Some(
                "Dendrite has no way to reactivate an account (no admin API; its deactivation also left the rooms and \
                 deleted the devices); register a new account instead",
            ),
            Operation::CreateWithUserType => Some(
                "Dendrite has no user types (its shared-secret registration ignores one, and would refuse the request \
                 whose MAC includes it); leave out {user_type}",
            ),
            _ => None,
        }
    }

    /// Dendrite deactivates an account only on the user's own request, authenticated again with
    /// its password (`POST /_matrix/client/v3/account/deactivate`); its admin API has no
    /// deactivation.
    fn needs_own_password(&self, operation: Operation) -> bool {
        operation == Operation::Deactivate
    }

    async fn look_up(&self, user: &UserId) -> Result<Lookup, Error> {
        if let Some(database) = &self.database {
            let account = database.account(user.localpart(), &self.server_name).await?;
            return Ok(account.map_or(Lookup::Missing, Lookup::Found));
        }
        // Answers even with registration closed; says nothing of the admin flag.
        let action = format!("checking whether {user} exists");
        let path = format!("/_matrix/client/v3/register/available?username={}", escape(user.localpart()));
        let reply = self.http.send(Request::get(path, &action)).await?;
        match (reply.status, reply.errcode()) {
            (200, _) => Ok(Lookup::Missing),
            (400, Some("M_USER_IN_USE")) => Ok(Lookup::Found(Account {
                admin: None,
                deactivated: false,
                locked: false,
                unfinished: false,
                displayname: None,
            })),
            _ => Err(reply.refused(&action, None)),
        }
    }

    async fn list_accounts(&self, _wanted: usize) -> Result<Option<HashMap<String, Account>>, Error> {
        match &self.database {
            Some(database) => database.accounts(&self.server_name).await.map(Some),
            None => Ok(None),
        }
    }

    async fn log_in(&self, user: &UserId, password: &Secret) -> Result<Option<Login>, Error> {
        log_in_and_out(&self.http, user, password, Some(ADMIN_PROBE)).await
    }

    async fn create(&self, user: &UserId, account: &NewAccount<'_>) -> Result<(), Error> {
        shared_secret::register(&self.http, user, account, self.shared_secret.as_ref()).await
    }

    async fn set_admin(&self, user: &UserId, admin: bool) -> Result<(), Error> {
        let action =
            if admin { format!("making {user} an admin") } else { format!("removing admin rights from {user}") };
        self.database(&action)?.set_admin(user.localpart(), &self.server_name, admin).await
    }

    async fn set_password(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        let action = format!("setting the password of {user}");
        let token = self
            .admin_token
            .as_ref()
            .ok_or_else(|| Error::NeedsSetting { action: action.clone(), setting: Setting::AdminAccessToken })?;
        let reply = self
            .http
            .send(
                Request::post(user_path("/_dendrite/admin/resetPassword/", user, ""), &action)
                    .bearer(Some(token))
                    // Dendrite keeps other sessions by default; log them out, as Synapse does.
                    .json(json!({"password": password.expose(), "logout_devices": true})),
            )
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.refused(&action, token_hint(&reply)))
        }
    }

    async fn set_locked(&self, user: &UserId, _locked: bool) -> Result<(), Error> {
        Err(self.cannot(user, Operation::Lock))
    }

    /// Logs in as the user and asks for the deactivation with its password (user-interactive
    /// authentication, one stage). Dendrite then makes the user leave its rooms, deletes its
    /// devices (every session ends, this one too) and marks the account deactivated; its profile
    /// and messages stay.
    async fn deactivate(&self, user: &UserId, erase: bool, password: Option<&Secret>) -> Result<(), Error> {
        let action = format!("deactivating {user}");
        if erase {
            return Err(self.cannot(user, Operation::Erase));
        }
        let Some(password) = password else {
            let why = "Dendrite deactivates an account only with its own password, and none was given";
            return Err(Error::Unsupported { action, why });
        };
        let Some(session) =
            log_in(&self.http, user, password, &format!("logging in as {user} to deactivate it")).await?
        else {
            return Err(Error::Refused {
                action,
                status: 403,
                errcode: Some("M_FORBIDDEN".into()),
                message: "the password does not log in, and Dendrite deactivates an account only with its own password"
                    .into(),
                hint: None,
                about: &[],
            });
        };
        let body = json!({"auth": {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user.to_string()},
            "password": password.expose(),
        }});
        let reply = self
            .http
            .send(Request::post("/_matrix/client/v3/account/deactivate", &action).bearer(Some(&session)).json(body))
            .await;
        match reply {
            Ok(reply) if reply.is_success() => Ok(()),
            other => {
                // Not deactivated: the session this run opened must not linger.
                let _ = log_out(&self.http, &session, user).await;
                match other {
                    Ok(reply) => Err(reply.refused(&action, None)),
                    Err(e) => Err(e),
                }
            }
        }
    }

    async fn reactivate(&self, user: &UserId, _password: &Secret) -> Result<(), Error> {
        Err(self.cannot(user, Operation::Reactivate))
    }

    async fn displayname(&self, user: &UserId) -> Result<Option<String>, Error> {
        let action = format!("reading the display name of {user}");
        self.database(&action)?.displayname(user.localpart(), &self.server_name).await
    }

    async fn set_displayname(&self, user: &UserId, name: &str) -> Result<(), Error> {
        // The profile only: the name in the rooms the user has joined stays until the user sets it.
        let action = format!("setting the display name of {user}");
        self.database(&action)?.set_displayname(user.localpart(), &self.server_name, name).await
    }
}

impl Dendrite {
    /// What Dendrite cannot do, as an error (the plan refuses it before; this is the backstop).
    fn cannot(&self, user: &UserId, operation: Operation) -> Error {
        Error::Unsupported {
            action: format!("changing the state of {user}"),
            why: self.unsupported(operation).unwrap_or("Dendrite cannot do this"),
        }
    }
}
