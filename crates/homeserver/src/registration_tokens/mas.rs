//! MAS's user registration tokens (Admin API, `/api/admin/v1/user-registration-tokens`): each has
//! an ID (a ULID) and the token string as an attribute, `usage_limit` and `expires_at` (RFC 3339)
//! as its limits, and is revoked rather than deleted (and can be unrevoked).

use serde_json::{json, Value};

use super::{format_time, parse_time, unreserved, Limits, LimitsChange, RegistrationToken, Removal, TokenRules};
use crate::http::Request;
use crate::mas::{admin_error, Mas, API};
use crate::{Error, Secret};

pub const RULES: TokenRules = TokenRules {
    server: "MAS",
    allowed: "letters, digits and . _ ~ -",
    allows: unreserved,
    removal: Removal::Revoke,
    sign_up_ignores_tokens: None,
};

/// Tokens per page of the listing (MAS's pages go up to 1000).
const PAGE: usize = 100;

pub async fn list(mas: &Mas) -> Result<Vec<RegistrationToken>, Error> {
    let action = "listing MAS's registration tokens";
    let mut tokens = Vec::new();
    let mut after: Option<String> = None;
    // A listing that does not end (a cursor that does not move on, more pages than its count
    // allows) is a broken or hostile server: it fails instead of being followed for ever.
    let mut pages_allowed = usize::MAX;
    loop {
        if pages_allowed == 0 {
            return Err(Error::BadAnswer {
                action: action.to_string(),
                problem: "the listing does not end (more pages than its count of tokens allows)".to_string(),
                about: &[],
            });
        }
        pages_allowed -= 1;
        let path = match &after {
            None => format!("{API}/user-registration-tokens?page[first]={PAGE}"),
            Some(id) => {
                format!("{API}/user-registration-tokens?page[first]={PAGE}&page[after]={}", crate::client::escape(id))
            }
        };
        let reply = mas.admin(|token| Request::get(path.as_str(), action).bearer(Some(token))).await?;
        if !reply.is_success() {
            return Err(admin_error(&reply, action));
        }
        if after.is_none() {
            let count = reply.body.pointer("/meta/count").and_then(Value::as_u64).map_or(usize::MAX, |n| n as usize);
            // Tokens created while the listing runs may add a page or two.
            pages_allowed = count.div_ceil(PAGE).saturating_add(2);
        }
        let page = reply.body.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
        let last = page.last().and_then(|item| item.get("id")).and_then(Value::as_str).map(str::to_string);
        tokens.extend(page.iter().filter_map(token_of));
        let more = reply.body.pointer("/links/next").is_some_and(|next| !next.is_null());
        match last {
            Some(last) if more && after.as_deref() != Some(last.as_str()) => after = Some(last),
            _ => return Ok(tokens),
        }
    }
}

pub async fn create(mas: &Mas, token: &Secret, limits: Limits) -> Result<(), Error> {
    let action = "creating a registration token on MAS";
    let body = json!({
        "token": token.expose(),
        "usage_limit": limits.uses_allowed,
        "expires_at": limits.expiry.map(format_time),
    });
    let reply = mas
        .admin(|admin| {
            Request::post(format!("{API}/user-registration-tokens"), action)
                .bearer(Some(admin))
                .json(body.clone())
                .once()
        })
        .await?;
    if reply.is_success() {
        Ok(())
    } else {
        Err(admin_error(&reply, action))
    }
}

pub async fn update(mas: &Mas, token: &RegistrationToken, change: LimitsChange) -> Result<(), Error> {
    let action = "changing a registration token's limits on MAS";
    let id = id_of(token, action)?;
    // Both limits are sent, each its new or its present value: a field left out is not
    // described as "unchanged" by the API description.
    let body = json!({
        "usage_limit": change.uses_allowed.unwrap_or(token.uses_allowed),
        "expires_at": change.expiry.unwrap_or(token.expiry).map(format_time),
    });
    let path = format!("{API}/user-registration-tokens/{id}");
    let reply = mas.admin(|admin| Request::put(path.as_str(), action).bearer(Some(admin)).json(body.clone())).await?;
    if reply.is_success() {
        Ok(())
    } else {
        Err(admin_error(&reply, action))
    }
}

/// Revokes the token (`revoke`), or takes it back into use.
pub async fn revoke(mas: &Mas, token: &RegistrationToken, revoke: bool) -> Result<(), Error> {
    let (action, verb) = if revoke {
        ("revoking a registration token on MAS", "revoke")
    } else {
        ("taking a revoked registration token back into use on MAS", "unrevoke")
    };
    let id = id_of(token, action)?;
    let path = format!("{API}/user-registration-tokens/{id}/{verb}");
    let reply = mas.admin(|admin| Request::post(path.as_str(), action).bearer(Some(admin))).await?;
    if reply.is_success() {
        Ok(())
    } else {
        Err(admin_error(&reply, action))
    }
}

fn id_of<'a>(token: &'a RegistrationToken, action: &str) -> Result<&'a str, Error> {
    token.id.as_deref().filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric())).ok_or_else(|| Error::BadAnswer {
        action: action.to_string(),
        problem: "MAS listed the token without a usable ID".to_string(),
        about: &[],
    })
}

/// A token resource of the listing; one without an ID or a token string is skipped.
fn token_of(item: &Value) -> Option<RegistrationToken> {
    let attributes = item.get("attributes")?;
    let count = |key: &str| attributes.get(key).and_then(Value::as_u64).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    Some(RegistrationToken {
        token: Secret::new(attributes.get("token")?.as_str()?),
        uses_allowed: count("usage_limit"),
        expiry: attributes.get("expires_at").and_then(Value::as_str).and_then(parse_time),
        completed: count("times_used").unwrap_or(0),
        pending: 0,
        revoked: attributes.get("revoked_at").is_some_and(|at| !at.is_null()),
        id: Some(item.get("id")?.as_str()?.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_resources_as_the_api_description_writes_them() {
        let item = json!({"type": "user-registration_token", "id": "01040G2081040G2081040G2081",
            "attributes": {"token": "abc123def456", "valid": true, "usage_limit": 10, "times_used": 5,
                "created_at": "1970-01-01T00:00:00Z", "last_used_at": null, "expires_at": "1970-01-31T00:00:00Z",
                "revoked_at": "1970-01-02T00:00:00Z"}});
        let token = token_of(&item).unwrap();
        assert_eq!(token.uses_allowed, Some(10));
        assert_eq!(token.expiry, Some(30 * 86_400));
        assert_eq!(token.completed, 5);
        assert!(token.revoked);
        assert_eq!(token.id.as_deref(), Some("01040G2081040G2081040G2081"));
    }
}
