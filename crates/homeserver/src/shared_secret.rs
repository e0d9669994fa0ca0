//! Shared-secret registration (`/_synapse/admin/v1/register`): Synapse's, which Dendrite
//! implements too.

use std::time::Instant;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;

use crate::backend::{NewAccount, UserType};
use crate::client::{access_token, log_out};
use crate::http::{Http, Request};
use crate::{Error, Secret, Setting, UserId};

const PATH: &str = "/_synapse/admin/v1/register";

/// How often a registration is tried with a fresh nonce after its nonce was lost or its answer
/// never came.
const ATTEMPTS: u32 = 3;

const NOT_ENABLED_HINT: &str = "this server offers no shared-secret registration: set its registration shared secret, or use backend: mas if Matrix Authentication Service manages users";

const NONCE_LOST_HINT: &str = "the homeserver did not know the registration nonce it had just given, every time: is it restarting again and again, or do several servers (workers) answer at this address without sharing nonces?";

/// Lowercase hex HMAC-SHA1, keyed with the shared secret, over
/// `nonce NUL username NUL password NUL ("admin"|"notadmin")`, then `NUL user_type` when there is
/// one (Synapse's rule; Dendrite never adds it). `username` must be exactly the string sent.
pub fn registration_mac(
    shared_secret: &str,
    nonce: &str,
    username: &str,
    password: &str,
    admin: bool,
    user_type: Option<UserType>,
) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(shared_secret.as_bytes()).expect("HMAC takes keys of any length");
    let admin = if admin { "admin" } else { "notadmin" };
    let parts = [nonce, username, password, admin].into_iter().chain(user_type.map(UserType::name));
    for (i, part) in parts.enumerate() {
        if i > 0 {
            mac.update(b"\x00");
        }
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// Registers `user`. A registration whose nonce was lost (server restarted, nonce expired) or
/// whose answer never came is tried again with a fresh nonce, within `wait_timeout`. A session
/// the server opened for the new user is logged out.
pub(crate) async fn register(
    http: &Http,
    user: &UserId,
    account: &NewAccount<'_>,
    secret: Option<&Secret>,
) -> Result<(), Error> {
    let action = format!("registering {user}");
    let secret = secret
        .ok_or_else(|| Error::NeedsSetting { action: action.clone(), setting: Setting::RegistrationSharedSecret })?;
    let deadline = Instant::now() + http.wait_timeout();
    // Set once an attempt may have reached the server without its answer reaching us.
    let mut maybe_created = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let may_retry = attempt < ATTEMPTS && Instant::now() < deadline;
        let reply = match register_once(http, user, account, secret, &action).await {
            Err(Error::Interrupted { .. }) if may_retry => {
                maybe_created = true;
                continue;
            }
            other => other?,
        };
        let message = reply.message();
        match (reply.status, reply.errcode()) {
            (200, _) => {
                if let Some(session) = access_token(&reply) {
                    log_out(http, &session, user).await?;
                }
                return Ok(());
            }
            (400, Some("M_USER_IN_USE")) if maybe_created => return Ok(()),
            (400, Some("M_USER_IN_USE")) => return Err(Error::AlreadyExists { user_id: user.to_string() }),
            // Synapse: 400 "unrecognised nonce"; Dendrite: 500 "incorrect or expired nonce".
            (400 | 500, _) if message.contains("nonce") && may_retry => continue,
            (400 | 500, _) if message.contains("nonce") => return Err(reply.refused(&action, Some(NONCE_LOST_HINT))),
            (403, _) if message == "HMAC incorrect" || message == "bad mac" => {
                return Err(reply.refused(&action, Some("registration_shared_secret does not match the homeserver's")))
            }
            (400, _) if message.contains("not enabled") => return Err(reply.refused(&action, Some(NOT_ENABLED_HINT))),
            (404, _) => return Err(reply.refused(&action, Some(NOT_ENABLED_HINT))),
            _ => return Err(reply.refused(&action, None)),
        }
    }
}

async fn register_once(
    http: &Http,
    user: &UserId,
    account: &NewAccount<'_>,
    secret: &Secret,
    action: &str,
) -> Result<crate::http::Reply, Error> {
    let nonce_reply = http.send(Request::get(PATH, action)).await?;
    let Some(nonce) = nonce_reply.body.get("nonce").and_then(Value::as_str) else {
        return Err(nonce_reply.refused(action, Some(NOT_ENABLED_HINT)));
    };
    let username = user.localpart();
    let password = account.password.expose();
    let mut body = json!({
        "nonce": nonce,
        "username": username,
        "password": password,
        "mac": registration_mac(secret.expose(), nonce, username, password, account.admin, account.user_type),
        "admin": account.admin,
        // Synapse then opens no session; Dendrite ignores it and one is logged out after.
        "inhibit_login": true,
    });
    if let Some(name) = account.displayname {
        body["displayname"] = name.into();
    }
    if let Some(user_type) = account.user_type {
        body["user_type"] = user_type.name().into();
    }
    http.send(Request::post(PATH, action).json(body).once()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values from a local Synapse, as recorded in Dendrite's register_secret_test.go.
    const NONCE: &str = "759f047f312b99ff428b21d581256f8592b8976e58bc1b543972dc6147e529a79657605b52d7becd160ff5137f3de11975684319187e06901955f79e5a6c5a79";

    #[test]
    fn matches_known_vectors() {
        let mac = |admin, user_type| registration_mac("dendritetest", NONCE, "alice", "wonderland", admin, user_type);
        assert_eq!(mac(false, None), "f1ba8d37123866fd659b40de4bad9b0f8965c565");
        assert_eq!(mac(true, None), "24dca3bba410e43fe64b9b5c28306693bf3baa9f");
        // Synapse adds NUL and the user type when there is one.
        assert_eq!(mac(false, Some(UserType::Bot)), "d51e4d0e8d3f8a5ceb705ebb9c5ebb6a53619e70");
    }
}
