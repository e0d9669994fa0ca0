//! Matrix Authentication Service: its Admin API manages the users (Synapse's own user APIs are
//! off when MAS is in charge), with a short-lived token from the OAuth2 `client_credentials`
//! grant; its compatibility login checks a password.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::backend::{Account, Backend, Login, Lookup, NewAccount, Operation};
use crate::client::{escape, log_in_and_out};
use crate::http::{Http, Reply, Request};
use crate::{Error, Secret, UserId, UserIdRules};

const ADMIN_SCOPE: &str = "urn:mas:admin";
const API: &str = "/api/admin/v1";
/// A token is renewed this long before MAS says it expires, so it cannot expire mid-request.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);
/// The longest token lifetime believed, in seconds (a day; MAS gives minutes).
const TOKEN_LIFETIME_MAX: u64 = 86_400;

/// An admin client of MAS: `client_credentials`, allowed the `urn:mas:admin` scope.
#[derive(Debug, Clone)]
pub struct MasClient {
    pub client_id: String,
    pub client_secret: Secret,
}

/// A MAS instance.
#[derive(Debug)]
pub struct Mas {
    http: Http,
    server_name: String,
    client: MasClient,
    skip_password_check: bool,
    token_path: String,
    token: Mutex<Option<(Secret, Instant)>>,
    /// MAS identifies users by ULID: the ones already looked up, by localpart.
    ids: Mutex<HashMap<String, String>>,
}

impl Mas {
    /// Connects to MAS at the transport's base URL: finds the token endpoint in its discovery
    /// document (keeping the path, on this base URL: the issuer's public address may not be
    /// reachable from here) and gets a first token, so bad client credentials fail before anything else.
    pub async fn connect(
        http: Http,
        server_name: String,
        client: MasClient,
        skip_password_check: bool,
    ) -> Result<Mas, Error> {
        let action = "reading MAS's discovery document";
        let reply = http.send(Request::get("/.well-known/openid-configuration", action)).await?;
        let endpoint = reply.body.get("token_endpoint").and_then(Value::as_str).filter(|_| reply.is_success());
        let Some(endpoint) = endpoint else {
            return Err(reply.refused(action, Some("check mas_url: it should be MAS's own base URL")));
        };
        let token_path = token_path(endpoint).map_err(|problem| Error::BadAnswer {
            action: format!("{action} (its token_endpoint)"),
            problem: format!("{problem}; check mas_url: it should be MAS's own base URL"),
        })?;
        let mas = Mas {
            http,
            server_name,
            client,
            skip_password_check,
            token_path,
            token: Mutex::new(None),
            ids: Mutex::new(HashMap::new()),
        };
        mas.token(false).await?;
        Ok(mas)
    }

    /// The current admin token; a new one when it is (nearly) expired or `renew` is set.
    async fn token(&self, renew: bool) -> Result<Secret, Error> {
        let mut slot = self.token.lock().await;
        if let Some((token, expires)) = slot.as_ref() {
            if !renew && Instant::now() + EXPIRY_MARGIN < *expires {
                return Ok(token.clone());
            }
        }
        let action = "getting an admin token from MAS (client_credentials grant)";
        let reply = self
            .http
            .send(
                Request::post(self.token_path.as_str(), action)
                    .basic(&self.client.client_id, &self.client.client_secret)
                    .form(&[("grant_type", "client_credentials"), ("scope", ADMIN_SCOPE)]),
            )
            .await?;
        let token = reply.body.get("access_token").and_then(Value::as_str).filter(|_| reply.is_success());
        let Some(token) = token else {
            return Err(token_error(&reply, action));
        };
        // MAS's lifetimes are minutes; an absurd one must not overflow the clock.
        let lifetime = reply.body.get("expires_in").and_then(Value::as_u64).unwrap_or(300).min(TOKEN_LIFETIME_MAX);
        let token = Secret::obtained(token);
        *slot = Some((token.clone(), Instant::now() + Duration::from_secs(lifetime)));
        Ok(token)
    }

    /// Sends an Admin API request with the admin token; a token MAS no longer accepts (expired
    /// or revoked mid-run) is renewed once.
    async fn admin(&self, request: impl Fn(&Secret) -> Request<'_>) -> Result<Reply, Error> {
        let token = self.token(false).await?;
        let reply = self.http.send(request(&token)).await?;
        if reply.status != 401 {
            return Ok(reply);
        }
        let token = self.token(true).await?;
        self.http.send(request(&token)).await
    }

    /// The user's ULID, from the cache or a look-up; `None` when there is no such user.
    async fn id(&self, user: &UserId) -> Result<Option<String>, Error> {
        if let Some(id) = self.ids.lock().await.get(user.localpart()) {
            return Ok(Some(id.clone()));
        }
        Ok(self.fetch(user).await?.map(|(id, _)| id))
    }

    async fn existing_id(&self, user: &UserId, action: &str) -> Result<String, Error> {
        self.id(user).await?.ok_or_else(|| Error::Refused {
            action: action.to_string(),
            status: 404,
            errcode: None,
            message: format!("{user} does not exist in MAS"),
            hint: None,
        })
    }

    /// `GET /users/by-username/{username}`: the ULID and account, or `None`.
    async fn fetch(&self, user: &UserId) -> Result<Option<(String, Account)>, Error> {
        let action = format!("looking up {user} in MAS");
        let path = format!("{API}/users/by-username/{}", escape(user.localpart()));
        let reply = self.admin(|token| Request::get(path.as_str(), &action).bearer(Some(token))).await?;
        match reply.status {
            200 => {
                let data = &reply.body["data"];
                let id = data["id"].as_str().unwrap_or_default().to_string();
                let attributes = &data["attributes"];
                let account = Account {
                    admin: attributes["admin"].as_bool(),
                    deactivated: !attributes["deactivated_at"].is_null(),
                };
                self.ids.lock().await.insert(user.localpart().to_string(), id.clone());
                Ok(Some((id, account)))
            }
            404 => Ok(None),
            _ => Err(admin_error(&reply, &action)),
        }
    }

    /// A POST to a user's action endpoint (`set-admin`, `set-password`), expecting `ok`.
    async fn user_action(&self, user: &UserId, what: &str, body: Value, action: &str) -> Result<(), Error> {
        let id = self.existing_id(user, action).await?;
        let path = format!("{API}/users/{}/{what}", escape(&id));
        let reply =
            self.admin(|token| Request::post(path.as_str(), action).bearer(Some(token)).json(body.clone())).await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(admin_error(&reply, action))
        }
    }
}

/// The path of the token endpoint the discovery document names, to be used on `mas_url`: the
/// issuer's public address may not be reachable from here, and a client secret must never be
/// sent anywhere but to `mas_url`. Only an absolute http(s) URL with a plain path is accepted.
fn token_path(endpoint: &str) -> Result<String, String> {
    let refused = |why: &str| Err(format!("MAS named a token endpoint that {why}, so it is not used"));
    let Ok(url) = reqwest::Url::parse(endpoint) else {
        return refused("is not an absolute URL");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return refused("is not an http(s) URL");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return refused("has a query or fragment");
    }
    let path = url.path();
    // The URL parser has already resolved `.` and `..`; what is left must be a plain path.
    if !path.starts_with('/') || path.contains("//") || path.contains('@') || path.contains('\\') {
        return refused("has an unusual path");
    }
    Ok(path.to_string())
}

/// MAS's error titles, passed on ("Well-known error codes are not yet specified": key on status).
fn admin_error(reply: &Reply, action: &str) -> Error {
    let titles: Vec<&str> = reply
        .body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| errors.iter().filter_map(|e| e.get("title").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    let hint = match reply.status {
        401 => Some("MAS refused the admin token; check that the client is in policy.data.admin_clients"),
        403 if titles.iter().any(|t| t.contains("Password auth is disabled")) => {
            Some("enable passwords in MAS's config (passwords.enabled) to set one")
        }
        400 if titles.iter().any(|t| t.contains("too weak")) => {
            Some("choose a stronger password, or set skip_password_check to bypass MAS's complexity check")
        }
        _ => None,
    };
    Error::Refused {
        action: action.to_string(),
        status: reply.status,
        errcode: None,
        message: if titles.is_empty() { reply.message() } else { titles.join(": ") },
        hint: hint.map(str::to_string),
    }
}

fn token_error(reply: &Reply, action: &str) -> Error {
    let code = reply.body.get("error").and_then(Value::as_str).unwrap_or_default();
    let hint = match code {
        "invalid_client" => "MAS does not know this client or its secret: check mas_client_id and mas_client_secret",
        "unauthorized_client" => "this client may not use the client_credentials grant",
        "invalid_scope" => {
            "this client may not have the urn:mas:admin scope: add its ID to policy.data.admin_clients in MAS's config"
        }
        _ => "check mas_url, mas_client_id and mas_client_secret",
    };
    Error::Refused {
        action: action.to_string(),
        status: reply.status,
        errcode: (!code.is_empty()).then(|| code.to_string()),
        message: reply.body.get("error_description").and_then(Value::as_str).unwrap_or(code).to_string(),
        hint: Some(hint.to_string()),
    }
}

impl Backend for Mas {
    fn server_name(&self) -> &str {
        &self.server_name
    }

    fn rules(&self) -> UserIdRules {
        // MAS asks the homeserver (Synapse) whether a name is available: Synapse's rules apply.
        UserIdRules::SYNAPSE
    }

    fn missing_for(&self, _operation: Operation) -> Option<&'static str> {
        None
    }

    async fn look_up(&self, user: &UserId) -> Result<Lookup, Error> {
        Ok(self.fetch(user).await?.map_or(Lookup::Missing, |(_, account)| Lookup::Found(account)))
    }

    async fn log_in(&self, user: &UserId, password: &Secret) -> Result<Option<Login>, Error> {
        // MAS's compatibility login; the session it opens is ended at once.
        log_in_and_out(&self.http, user, password, None).await
    }

    async fn create(&self, user: &UserId, account: &NewAccount<'_>) -> Result<(), Error> {
        let action = format!("creating {user} in MAS");
        let mut body = json!({"username": user.localpart()});
        if let Some(name) = account.displayname {
            body["displayname"] = name.into();
        }
        let reply = self
            .admin(|token| Request::post(format!("{API}/users"), &action).bearer(Some(token)).json(body.clone()).once())
            .await?;
        match reply.status {
            201 => {
                let id = reply.body["data"]["id"].as_str().unwrap_or_default().to_string();
                self.ids.lock().await.insert(user.localpart().to_string(), id);
            }
            409 if admin_error(&reply, &action).to_string().contains("already exists") => {
                return Err(Error::AlreadyExists { user_id: user.to_string() })
            }
            _ => return Err(admin_error(&reply, &action)),
        }
        // MAS creates users without a password or flag: both follow, and a failure says what
        // state the new account is in.
        let finish = async {
            self.set_password(user, account.password).await?;
            if account.admin {
                self.set_admin(user, true).await?;
            }
            Ok::<(), Error>(())
        };
        finish.await.map_err(|e| Error::HalfDone { user_id: user.to_string(), cause: e.to_string() })
    }

    async fn set_admin(&self, user: &UserId, admin: bool) -> Result<(), Error> {
        let action = if admin {
            format!("making {user} an admin in MAS")
        } else {
            format!("removing admin rights from {user} in MAS")
        };
        self.user_action(user, "set-admin", json!({"admin": admin}), &action).await
    }

    async fn set_password(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        let action = format!("setting the password of {user} in MAS");
        let mut body = json!({"password": password.expose()});
        if self.skip_password_check {
            body["skip_password_check"] = true.into();
        }
        self.user_action(user, "set-password", body, &action).await
    }

    async fn has_email(&self, user: &UserId, email: &str) -> Result<bool, Error> {
        let action = format!("reading the email addresses of {user} in MAS");
        let id = self.existing_id(user, &action).await?;
        let path = format!("{API}/user-emails?filter[user]={}&filter[email]={}", escape(&id), escape(email));
        let reply = self.admin(|token| Request::get(path.as_str(), &action).bearer(Some(token))).await?;
        if !reply.is_success() {
            return Err(admin_error(&reply, &action));
        }
        Ok(reply.body["data"].as_array().is_some_and(|emails| !emails.is_empty()))
    }

    async fn add_email(&self, user: &UserId, email: &str) -> Result<(), Error> {
        let action = format!("adding an email address to {user} in MAS");
        let id = self.existing_id(user, &action).await?;
        let body = json!({"user_id": id, "email": email});
        let reply = self
            .admin(|token| Request::post(format!("{API}/user-emails"), &action).bearer(Some(token)).json(body.clone()))
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(admin_error(&reply, &action))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_path_is_kept_and_the_host_dropped() {
        assert_eq!(token_path("https://auth.example.com/oauth2/token").unwrap(), "/oauth2/token");
        assert_eq!(token_path("http://127.0.0.1:8080/prefix/oauth2/token").unwrap(), "/prefix/oauth2/token");
        assert_eq!(token_path("https://auth.example.com").unwrap(), "/");
        assert_eq!(token_path("https://auth.example.com/a/../oauth2/token").unwrap(), "/oauth2/token");
    }

    #[test]
    fn odd_token_endpoints_are_refused() {
        for endpoint in [
            "@127.0.0.1:18102/oauth2/token",
            ".evil.example/token",
            "/oauth2/token",
            "oauth2/token",
            "ftp://auth.example.com/token",
            "https://auth.example.com/token?x=1",
            "https://auth.example.com//evil.example/token",
            "https://auth.example.com/token#x",
            "",
        ] {
            assert!(token_path(endpoint).is_err(), "{endpoint:?} was accepted");
        }
    }
}
