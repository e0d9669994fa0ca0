//! The admin account this tool may register for itself (`provision_admin`), on Synapse or
//! Dendrite: registered with the shared secret, and its access token obtained by a password
//! login. Keeping the token and the password is the caller's job.

use serde_json::{json, Value};

use crate::backend::NewAccount;
use crate::client::{access_token, token_hint};
use crate::http::{Http, Request};
use crate::{shared_secret, Error, Secret, UserId};

/// The device every login of the provisioned account uses: a new login replaces the session of
/// the last one on that device, so that renewing the token piles up no devices.
const DEVICE_ID: &str = "MATRIXUSERADMIN";

/// Registers `user` as a server admin with `password`. An account of that name is
/// `Error::AlreadyExists`.
pub async fn register(
    http: &Http,
    user: &UserId,
    password: &Secret,
    shared_secret: Option<&Secret>,
) -> Result<(), Error> {
    let account = NewAccount { password, admin: true, displayname: Some("matrix-user"), user_type: None };
    shared_secret::register(http, user, &account, shared_secret).await
}

/// A fresh access token of `user`, by a password login; `None` when the password does not
/// log in (the account is missing, or its password was changed).
pub async fn log_in(http: &Http, user: &UserId, password: &Secret) -> Result<Option<Secret>, Error> {
    let action = format!("logging in as {user} for an admin token");
    let reply = http
        .send(Request::post("/_matrix/client/v3/login", &action).json(json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user.to_string()},
            "password": password.expose(),
            "device_id": DEVICE_ID,
            "initial_device_display_name": "matrix-user admin token",
        })))
        .await?;
    if reply.status == 403 && reply.errcode() == Some("M_FORBIDDEN") {
        return Ok(None);
    }
    access_token(&reply).map(Some).ok_or_else(|| reply.refused(&action, None))
}

/// The user `token` belongs to, or `None` when the server no longer knows the token (401:
/// logged out, revoked, or the account deactivated).
pub async fn whoami(http: &Http, token: &Secret) -> Result<Option<String>, Error> {
    let action = "checking the provisioned admin token";
    let reply = http.send(Request::get("/_matrix/client/v3/account/whoami", action).bearer(Some(token))).await?;
    match reply.status {
        200 => Ok(reply.body.get("user_id").and_then(Value::as_str).map(str::to_string)),
        401 => Ok(None),
        _ => Err(reply.refused(action, token_hint(&reply))),
    }
}
