//! Client-server API calls every homeserver answers the same way: whoami, password login,
//! logout.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::backend::Login;
use crate::http::{Http, Reply, Request};
use crate::{Error, Secret, Setting, UserId};

/// Everything but RFC 3986's unreserved characters is escaped, so no user ID can change a path
/// or a query.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `text`, escaped for a URL path segment or query value.
pub(crate) fn escape(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// `prefix` + the escaped user ID + `suffix`.
pub(crate) fn user_path(prefix: &str, user: &UserId, suffix: &str) -> String {
    format!("{prefix}{}{suffix}", escape(&user.to_string()))
}

/// What a 401 or 403 on an admin token means, for the error message.
pub(crate) fn token_hint(reply: &Reply) -> Option<&'static str> {
    match reply.status {
        401 => Some("{admin_access_token} is not a valid access token on this server"),
        403 if reply.errcode() == Some("M_FORBIDDEN") => {
            Some("{admin_access_token} belongs to a user who is not a server admin")
        }
        _ => None,
    }
}

/// The server's domain: `given`, else asked of the server with the admin token, which is the
/// only way to learn it.
pub(crate) async fn server_name(http: &Http, given: Option<String>, token: Option<&Secret>) -> Result<String, Error> {
    match (given, token) {
        (Some(name), _) => Ok(name),
        (None, Some(token)) => whoami_domain(http, token).await,
        (None, None) => Err(Error::NeedsSetting {
            action: "knowing the server's domain without {admin_access_token}".into(),
            setting: Setting::ServerName,
        }),
    }
}

/// The server's domain, from the user ID the token belongs to.
async fn whoami_domain(http: &Http, token: &Secret) -> Result<String, Error> {
    let action = "asking the homeserver for its domain";
    let reply = http.send(Request::get("/_matrix/client/v3/account/whoami", action).bearer(Some(token))).await?;
    if !reply.is_success() {
        return Err(reply.refused(action, token_hint(&reply)));
    }
    reply
        .body
        .get("user_id")
        .and_then(Value::as_str)
        .and_then(|id| id.split_once(':'))
        .map(|(_, domain)| domain.to_string())
        .ok_or_else(|| {
            reply.refused(action, Some("unexpected answer; set {server_name}")).about(&[Setting::ServerName])
        })
}

/// Logs in with a password, asks `admin_probe` (an admin-only GET) whether the account is an
/// admin, and logs out again. `None` when the password does not log in.
pub(crate) async fn log_in_and_out(
    http: &Http,
    user: &UserId,
    password: &Secret,
    admin_probe: Option<&str>,
) -> Result<Option<Login>, Error> {
    let action = format!("logging in as {user} to check its password");
    let Some(session) = log_in(http, user, password, &action).await? else {
        return Ok(None);
    };
    let Some(admin_probe) = admin_probe else {
        log_out(http, &session, user).await?;
        return Ok(Some(Login { admin: None }));
    };
    let probe_action = format!("checking whether {user} is an admin");
    let probe = http.send(Request::get(admin_probe, &probe_action).bearer(Some(&session))).await;
    // Log the check's session out whatever the probe said: it must not linger.
    log_out(http, &session, user).await?;
    match probe? {
        r if r.is_success() => Ok(Some(Login { admin: Some(true) })),
        r if r.status == 403 => Ok(Some(Login { admin: Some(false) })),
        r => Err(r.refused(&probe_action, None)),
    }
}

/// A password login that keeps its session: its access token, or `None` when the password does
/// not log in.
pub(crate) async fn log_in(
    http: &Http,
    user: &UserId,
    password: &Secret,
    action: &str,
) -> Result<Option<Secret>, Error> {
    // A login is sent again when its answer is lost (a 502 after the server acted), and each one
    // that arrives opens a session. All of them are opened on one device, named here, so the
    // logout, which deletes the device, ends every one of them.
    let reply = http
        .send(Request::post("/_matrix/client/v3/login", action).json(json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user.to_string()},
            "password": password.expose(),
            "device_id": check_device_id(),
            "initial_device_display_name": "matrix-user password check",
        })))
        .await?;
    if reply.status == 403 && reply.errcode() == Some("M_FORBIDDEN") {
        return Ok(None);
    }
    match access_token(&reply) {
        Some(session) => Ok(Some(session)),
        None => Err(reply.refused(action, None)),
    }
}

/// A device ID of this process's own, for the sessions its password checks open.
fn check_device_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("MATRIXUSER{}X{nanos}X{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed))
}

/// The access token of a successful login or registration.
pub(crate) fn access_token(reply: &Reply) -> Option<Secret> {
    reply.body.get("access_token").and_then(Value::as_str).filter(|_| reply.is_success()).map(Secret::obtained)
}

/// Ends the session `token` opened for `user`.
pub(crate) async fn log_out(http: &Http, token: &Secret, user: &UserId) -> Result<(), Error> {
    let action = format!("logging {user} out of the session this tool opened");
    let reply =
        http.send(Request::post("/_matrix/client/v3/logout", &action).bearer(Some(token)).json(json!({}))).await?;
    if reply.is_success() {
        Ok(())
    } else {
        Err(reply.refused(&action, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserIdRules;

    #[test]
    fn user_ids_cannot_change_the_path_or_query() {
        let id = UserId::parse("a/../b+c=", "example.com", &UserIdRules::SYNAPSE).unwrap();
        assert_eq!(user_path("/x/", &id, "/admin"), "/x/%40a%2F..%2Fb%2Bc%3D%3Aexample.com/admin");
        assert_eq!(escape("a+b&c=d#e?f"), "a%2Bb%26c%3Dd%23e%3Ff");
    }
}
