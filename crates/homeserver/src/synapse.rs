//! Synapse: shared-secret registration to create users, the admin API to look them up and
//! change them, password login to check a password.

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde_json::{json, Value};

use crate::backend::{Account, Backend, Listed, Login, Lookup, NewAccount, Operation};
use crate::client::{self, log_in_and_out, token_hint, user_path};
use crate::http::{Http, Request};
use crate::{shared_secret, Error, Secret, Setting, UserId, UserIdRules};

/// Below this many users, looking each up is cheaper than listing the server's users.
const LIST_MIN_USERS: usize = 10;
/// Users per page of the admin API's user list. Synapse's cost is mostly per page, not per user
/// (on SQLite with 100,000 users: 75 ms a page of 500, 100 ms a page of 5,000; the whole list in
/// 13 s by 500, 2.6 s by 5,000); a page of 5,000 is about 1.2 MiB (read up to `PAGE_MAX`).
const LIST_PAGE: u64 = 5000;
/// One page of the list costs about as much as this many single look-ups (measured: 100 ms vs
/// 3.4 ms on SQLite).
const LOOKUPS_PER_PAGE: u64 = 30;

/// A Synapse homeserver.
#[derive(Debug)]
pub struct Synapse {
    http: Http,
    server_name: String,
    shared_secret: Option<Secret>,
    admin_token: Option<Secret>,
}

impl Synapse {
    /// Connects to Synapse. Without `server_name`, the domain is asked of the server with the
    /// admin token; without either there is no way to know it.
    pub async fn connect(
        http: Http,
        server_name: Option<String>,
        shared_secret: Option<Secret>,
        admin_token: Option<Secret>,
    ) -> Result<Synapse, Error> {
        let server_name = client::server_name(&http, server_name, admin_token.as_ref()).await?;
        Ok(Synapse { http, server_name, shared_secret, admin_token })
    }

    fn admin_request(&self, method: Method, path: String, action: &str) -> Request<'_> {
        Request::new(method, path, action).bearer(self.admin_token.as_ref())
    }

    /// Reads every page of the admin API's user list (guests left out), handing each user to
    /// `each`. After the first page, `worth` is told the total and may stop the listing there
    /// (`Ok(false)`). Otherwise all of it or an error: a page that fails, a listing that does not
    /// end, or one that ends with fewer users than it announced.
    async fn each_listed_user(&self, worth: impl Fn(u64) -> bool, mut each: impl FnMut(&Value)) -> Result<bool, Error> {
        let action = "listing the server's users";
        let bad = |problem: String| Error::BadAnswer { action: action.to_string(), problem, about: &[] };
        let mut from = "0".to_string();
        // A listing that does not end (a token that repeats, more pages than its total allows)
        // is a broken or hostile server: it fails instead of being followed for ever.
        let mut seen = HashSet::new();
        let mut pages_allowed = u64::MAX;
        let (mut total, mut count) = (0, 0);
        loop {
            if !seen.insert(from.clone()) || pages_allowed == 0 {
                return Err(bad("the listing does not end (a page token repeats, or there are more pages than its \
                                total of users allows)"
                    .to_string()));
            }
            pages_allowed -= 1;
            // Deactivated and locked users are left out unless asked for.
            let path = format!(
                "/_synapse/admin/v2/users?from={}&limit={LIST_PAGE}&guests=false&deactivated=true&locked=true",
                client::escape(&from)
            );
            let reply = self.http.send(self.admin_request(Method::GET, path, action).page()).await?;
            if !reply.is_success() {
                return Err(reply.refused(action, token_hint(&reply)));
            }
            if from == "0" {
                total = reply.body.get("total").and_then(Value::as_u64).unwrap_or(u64::MAX);
                if !worth(total) {
                    return Ok(false);
                }
                // Users registered while the listing runs may add a page or two.
                pages_allowed = total.div_ceil(LIST_PAGE).saturating_add(2);
            }
            for user in reply.body.get("users").and_then(Value::as_array).into_iter().flatten() {
                count += 1;
                each(user);
            }
            match reply.body.get("next_token") {
                Some(Value::String(token)) => from = token.clone(),
                Some(Value::Number(token)) => from = token.to_string(),
                // Accounts are never removed from Synapse: fewer than announced is a part only.
                _ if count < total => {
                    return Err(bad(format!("the listing ended after {count} of the {total} users it announced")))
                }
                _ => return Ok(true),
            }
        }
    }

    /// The transport and admin token, for the registration-token API.
    pub(crate) fn admin_access(&self) -> (&Http, Option<&Secret>) {
        (&self.http, self.admin_token.as_ref())
    }

    fn token_or_missing(&self, action: &str) -> Result<&Secret, Error> {
        self.admin_token
            .as_ref()
            .ok_or_else(|| Error::NeedsSetting { action: action.to_string(), setting: Setting::AdminAccessToken })
    }
}

/// The localpart of a user object of the admin API's list (`@john:example.com`).
fn localpart_of(user: &Value) -> Option<String> {
    let id = user.get("name")?.as_str()?.strip_prefix('@')?;
    Some(id.split_once(':')?.0.to_string())
}

/// A flag of the admin API's user objects, which older Synapse versions give as 0 or 1.
fn flag(user: &Value, key: &str) -> bool {
    match user.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        _ => false,
    }
}

impl Backend for Synapse {
    fn server_name(&self) -> &str {
        &self.server_name
    }

    fn rules(&self) -> UserIdRules {
        UserIdRules::SYNAPSE
    }

    fn missing_for(&self, operation: Operation) -> Option<Setting> {
        match operation {
            Operation::Create if self.shared_secret.is_none() => Some(Setting::RegistrationSharedSecret),
            Operation::LookUp
            | Operation::SetAdmin
            | Operation::SetPassword
            | Operation::Lock
            | Operation::Unlock
            | Operation::Deactivate
            | Operation::Erase
            | Operation::Reactivate
            | Operation::SetDisplayname
                if self.admin_token.is_none() =>
            {
                Some(Setting::AdminAccessToken)
            }
            Operation::AddEmail => Some(Setting::MasBackend),
            _ => None,
        }
    }

    async fn look_up(&self, user: &UserId) -> Result<Lookup, Error> {
        if self.admin_token.is_none() {
            return Ok(Lookup::Unknown);
        }
        let action = format!("looking up {user}");
        let reply = self
            .http
            .send(self.admin_request(Method::GET, user_path("/_synapse/admin/v2/users/", user, ""), &action))
            .await?;
        match reply.status {
            200 => Ok(Lookup::Found(account_of(&reply.body))),
            404 => Ok(Lookup::Missing),
            _ => Err(reply.refused(&action, token_hint(&reply))),
        }
    }

    async fn list_accounts(&self, wanted: usize) -> Result<Option<HashMap<String, Account>>, Error> {
        if self.admin_token.is_none() || wanted < LIST_MIN_USERS {
            return Ok(None);
        }
        let mut accounts = HashMap::new();
        let worth = |total: u64| total.div_ceil(LIST_PAGE).saturating_mul(LOOKUPS_PER_PAGE) <= wanted as u64;
        let listed = self
            .each_listed_user(worth, |user| {
                if let Some(localpart) = localpart_of(user) {
                    accounts.insert(localpart, account_of(user));
                }
            })
            .await?;
        Ok(listed.then_some(accounts))
    }

    async fn list_everyone(&self) -> Result<Option<Vec<Listed>>, Error> {
        self.token_or_missing("listing the server's users")?;
        let mut everyone = Vec::new();
        self.each_listed_user(
            |_| true,
            |user| {
                if let Some(localpart) = localpart_of(user) {
                    // The list does not show `appservice_id`: the single-user view does.
                    everyone.push(Listed {
                        localpart,
                        account: account_of(user),
                        guest: flag(user, "is_guest"),
                        appservice: None,
                    });
                }
            },
        )
        .await?;
        Ok(Some(everyone))
    }

    async fn appservice(&self, user: &UserId) -> Result<Option<bool>, Error> {
        let action = format!("looking up {user}");
        self.token_or_missing(&action)?;
        let reply = self
            .http
            .send(self.admin_request(Method::GET, user_path("/_synapse/admin/v2/users/", user, ""), &action))
            .await?;
        match reply.status {
            200 => Ok(Some(!matches!(reply.body.get("appservice_id"), None | Some(Value::Null)))),
            _ => Err(reply.refused(&action, token_hint(&reply))),
        }
    }

    async fn log_in(&self, user: &UserId, password: &Secret) -> Result<Option<Login>, Error> {
        // Synapse's admin API answers a user's own token with 403 unless the user is an admin.
        log_in_and_out(&self.http, user, password, Some(&user_path("/_synapse/admin/v2/users/", user, ""))).await
    }

    async fn create(&self, user: &UserId, account: &NewAccount<'_>) -> Result<(), Error> {
        shared_secret::register(&self.http, user, account, self.shared_secret.as_ref()).await
    }

    async fn set_admin(&self, user: &UserId, admin: bool) -> Result<(), Error> {
        let action =
            if admin { format!("making {user} an admin") } else { format!("removing admin rights from {user}") };
        self.token_or_missing(&action)?;
        let reply = self
            .http
            .send(
                self.admin_request(Method::PUT, user_path("/_synapse/admin/v1/users/", user, "/admin"), &action)
                    .json(json!({"admin": admin})),
            )
            .await?;
        match reply.status {
            200 => Ok(()),
            400 if reply.message().contains("demote yourself") => {
                Err(reply
                    .refused(&action, Some("{admin_access_token} belongs to this user; use another admin's token")))
            }
            _ => Err(reply.refused(&action, token_hint(&reply))),
        }
    }

    async fn set_password(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        let action = format!("setting the password of {user}");
        self.modify(user, json!({"password": password.expose()}), &action).await
    }

    /// `locked` of the admin API's user: a locked user's requests are refused (`M_USER_LOCKED`),
    /// its sessions are kept for when it is unlocked.
    async fn set_locked(&self, user: &UserId, locked: bool) -> Result<(), Error> {
        let action = if locked { format!("locking {user}") } else { format!("unlocking {user}") };
        self.modify(user, json!({"locked": locked}), &action).await
    }

    /// The admin API's deactivation: Synapse logs every session out, removes the password,
    /// email addresses and pushers, leaves the user's rooms, and with `erase` also marks its
    /// messages erased for new members and clears its profile.
    async fn deactivate(&self, user: &UserId, erase: bool, _password: Option<&Secret>) -> Result<(), Error> {
        let action = if erase { format!("deactivating and erasing {user}") } else { format!("deactivating {user}") };
        self.token_or_missing(&action)?;
        let reply = self
            .http
            .send(
                self.admin_request(Method::POST, user_path("/_synapse/admin/v1/deactivate/", user, ""), &action)
                    .json(json!({"erase": erase})),
            )
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.refused(&action, token_hint(&reply)))
        }
    }

    /// `deactivated: false` with the password, in one request (Synapse wants a password to
    /// reactivate an account, since deactivation removed it).
    async fn reactivate(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        let action = format!("reactivating {user}");
        self.modify(user, json!({"deactivated": false, "password": password.expose()}), &action).await
    }

    /// The admin API's user takes a display name as well (Synapse also updates the name in the
    /// user's rooms); the look-up already shows the current one.
    async fn set_displayname(&self, user: &UserId, name: &str) -> Result<(), Error> {
        let action = format!("setting the display name of {user}");
        self.modify(user, json!({"displayname": name}), &action).await
    }
}

/// An account as the admin API's user, or an entry of its listing, shows it.
fn account_of(user: &Value) -> Account {
    Account {
        admin: Some(flag(user, "admin")),
        deactivated: flag(user, "deactivated"),
        locked: flag(user, "locked"),
        unfinished: false,
        displayname: Some(user.get("displayname").and_then(Value::as_str).map(str::to_string)),
    }
}

impl Synapse {
    /// `PUT /_synapse/admin/v2/users/<user>` with `body` on an existing user.
    async fn modify(&self, user: &UserId, body: Value, action: &str) -> Result<(), Error> {
        self.token_or_missing(action)?;
        let reply = self
            .http
            .send(self.admin_request(Method::PUT, user_path("/_synapse/admin/v2/users/", user, ""), action).json(body))
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.refused(action, token_hint(&reply)))
        }
    }
}
