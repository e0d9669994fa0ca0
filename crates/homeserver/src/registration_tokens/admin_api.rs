//! Synapse's and Dendrite's registration-token APIs, which are one design (Dendrite copied
//! Synapse's): tokens keyed by their string under one path, with an admin access token.
//! `expiry_time` is in milliseconds since 1970, `null` for never; `uses_allowed` `null` for no
//! limit; `pending` and `completed` count the sign-ups.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::{unreserved, Limits, LimitsChange, RegistrationToken, Removal, TokenRules};
use crate::client::{escape, token_hint};
use crate::dendrite::Dendrite;
use crate::http::{Http, Reply, Request};
use crate::synapse::Synapse;
use crate::{Error, Secret, Setting};

pub const SYNAPSE: TokenRules = TokenRules {
    server: "Synapse",
    allowed: "letters, digits and . _ ~ -",
    allows: unreserved,
    removal: Removal::Delete,
    sign_up_ignores_tokens: None,
};

/// Dendrite v0.13.8 keeps tokens (with `registration_requires_token: true` in its `client_api`
/// config) but its `/register` never asks for one.
pub const DENDRITE: TokenRules = TokenRules {
    server: "Dendrite",
    allowed: "letters, digits and _ -",
    allows: |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
    removal: Removal::Delete,
    sign_up_ignores_tokens: Some(
        "Dendrite (v0.13.8) keeps registration tokens but its sign-up does not ask for one \
         (m.login.registration_token is not among its registration flows): a token does not let anyone in, \
         and open registration lets anyone in without one",
    ),
};

/// One server's token API.
pub struct AdminApi<'a> {
    http: &'a Http,
    admin_token: Option<&'a Secret>,
    base: &'static str,
    rules: TokenRules,
}

pub fn of_synapse(synapse: &Synapse) -> AdminApi<'_> {
    let (http, admin_token) = synapse.admin_access();
    AdminApi { http, admin_token, base: "/_synapse/admin/v1/registration_tokens", rules: SYNAPSE }
}

pub fn of_dendrite(dendrite: &Dendrite) -> AdminApi<'_> {
    let (http, admin_token) = dendrite.admin_access();
    AdminApi { http, admin_token, base: "/_dendrite/admin/registrationTokens", rules: DENDRITE }
}

impl AdminApi<'_> {
    fn token(&self, action: &str) -> Result<&Secret, Error> {
        self.admin_token
            .ok_or_else(|| Error::NeedsSetting { action: action.to_string(), setting: Setting::AdminAccessToken })
    }

    async fn send(&self, method: Method, path: String, body: Option<Value>, action: &str) -> Result<Reply, Error> {
        let token = self.token(action)?;
        let mut request = Request::new(method, path, action).bearer(Some(token));
        if let Some(body) = body {
            request = request.json(body);
        }
        let reply = self.http.send(request).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(self.refused(&reply, action))
        }
    }

    fn refused(&self, reply: &Reply, action: &str) -> Error {
        let hint = match (reply.status, self.rules.server) {
            (403, "Dendrite") if reply.message().contains("not enabled") => Some(
                "Dendrite takes registration tokens only with registration_requires_token: true in the client_api \
                 section of its config"
                    .to_string(),
            ),
            (404, "Synapse") if reply.errcode() == Some("M_UNRECOGNIZED") => Some(
                "the server has no Synapse admin API here: a Synapse whose accounts MAS manages has it off (use \
                 backend mas), and another server (Dendrite: backend dendrite) never had it"
                    .to_string(),
            ),
            _ => token_hint(reply).map(str::to_string),
        };
        let mut error = reply.refused(action, None);
        if let Error::Refused { hint: slot, .. } = &mut error {
            *slot = hint;
        }
        error
    }

    pub async fn list(&self) -> Result<Vec<RegistrationToken>, Error> {
        let action = format!("listing {}'s registration tokens", self.rules.server);
        let reply = self.send(Method::GET, self.base.to_string(), None, &action).await?;
        // Dendrite answers `null` for none (a Go nil slice).
        match reply.body.get("registration_tokens") {
            Some(Value::Array(items)) => Ok(items.iter().filter_map(token_of).collect()),
            Some(Value::Null) => Ok(Vec::new()),
            _ => Err(Error::BadAnswer {
                action,
                problem: "the answer has no list of registration_tokens".to_string(),
                about: &[],
            }),
        }
    }

    pub async fn create(&self, token: &Secret, limits: Limits) -> Result<(), Error> {
        let action = format!("creating a registration token on {}", self.rules.server);
        let mut body = Map::new();
        body.insert("token".into(), json!(token.expose()));
        // Dendrite takes an absent field, not null, as "no limit".
        if let Some(uses) = limits.uses_allowed {
            body.insert("uses_allowed".into(), json!(uses));
        }
        if let Some(expiry) = limits.expiry {
            body.insert("expiry_time".into(), json!(expiry.saturating_mul(1000)));
        }
        let token = self.token(&action)?;
        let request =
            Request::post(format!("{}/new", self.base), &action).bearer(Some(token)).json(Value::Object(body)).once();
        let reply = self.http.send(request).await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(self.refused(&reply, &action))
        }
    }

    pub async fn update(&self, token: &RegistrationToken, change: LimitsChange) -> Result<(), Error> {
        let action = format!("changing a registration token's limits on {}", self.rules.server);
        let mut body = Map::new();
        if let Some(uses) = change.uses_allowed {
            body.insert("uses_allowed".into(), json!(uses));
        }
        if let Some(expiry) = change.expiry {
            body.insert("expiry_time".into(), json!(expiry.map(|seconds| seconds.saturating_mul(1000))));
        }
        let reply = self.send(Method::PUT, self.path(token), Some(Value::Object(body)), &action).await?;
        // The answer is the token as it is now: a server that took the change without making it
        // (Dendrite v0.13.8 on SQLite binds its UPDATE's parameters the wrong way round) is caught.
        let now = token_of(&reply.body);
        let kept = now.is_some_and(|now| {
            change.uses_allowed.is_some_and(|uses| uses != now.uses_allowed)
                || change.expiry.is_some_and(|expiry| expiry != now.expiry)
        });
        if kept {
            return Err(Error::BadAnswer {
                action,
                problem: format!(
                    "{} answered with the old limits: it did not apply the change (Dendrite v0.13.8 on SQLite \
                     never does). Delete the token and create it anew to change its limits",
                    self.rules.server
                ),
                about: &[],
            });
        }
        Ok(())
    }

    pub async fn delete(&self, token: &RegistrationToken) -> Result<(), Error> {
        let action = format!("deleting a registration token on {}", self.rules.server);
        self.send(Method::DELETE, self.path(token), None, &action).await.map(drop)
    }

    /// Why Synapse's sign-up takes no token: its registration is off. Asked of the client API's
    /// token check (a GET, no change), which Synapse answers 403 then; any other answer, or
    /// none, says nothing.
    pub async fn sign_up_problem(&self) -> Option<String> {
        let path = "/_matrix/client/v1/register/m.login.registration_token/validity?token=matrix-user-probe";
        // Its rate limit is tight (one per 10 s): a 429 is not waited out, it just says nothing.
        let request = Request::get(path, "checking whether Synapse's sign-up takes tokens").rate_limit_is_mine();
        let reply = self.http.send(request).await.ok()?;
        (reply.status == 403).then(|| {
            "Synapse's registration is off (enable_registration: false), so nobody can sign up with a registration \
             token: set enable_registration: true and registration_requires_token: true in its config"
                .to_string()
        })
    }

    fn path(&self, token: &RegistrationToken) -> String {
        format!("{}/{}", self.base, escape(token.token.expose()))
    }
}

/// A token object of the list; one without a token string is skipped.
fn token_of(item: &Value) -> Option<RegistrationToken> {
    let count = |key: &str| item.get(key).and_then(Value::as_u64).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    Some(RegistrationToken {
        token: Secret::new(item.get("token")?.as_str()?),
        uses_allowed: count("uses_allowed"),
        expiry: item.get("expiry_time").and_then(Value::as_i64).map(|ms| ms.div_euclid(1000)),
        completed: count("completed").unwrap_or(0),
        pending: count("pending").unwrap_or(0),
        revoked: false,
        id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_objects_as_both_servers_write_them() {
        let token = token_of(&json!({"token": "abc", "uses_allowed": null, "pending": 1, "completed": 2,
                                     "expiry_time": 1_796_139_048_123_i64}))
        .unwrap();
        assert_eq!(
            (token.uses_allowed, token.expiry, token.pending, token.completed),
            (None, Some(1_796_139_048), 1, 2)
        );
        assert!(token_of(&json!({"uses_allowed": 3})).is_none());
        let huge = token_of(&json!({"token": "x", "uses_allowed": 1_u64 << 40})).unwrap();
        assert_eq!(huge.uses_allowed, Some(u32::MAX));
    }
}
