//! Matrix Authentication Service: its Admin API manages the users (Synapse's own user APIs are
//! off when MAS is in charge), with a short-lived token from the OAuth2 `client_credentials`
//! grant, revoked at the end of the run; its compatibility login checks a password, paced to
//! MAS's login rate limit.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::backend::{Account, Backend, Listed, Login, Lookup, NewAccount, Operation};
use crate::client::{access_token, escape, log_out};
use crate::http::{Http, Reply, Request};
use crate::{Error, Secret, Setting, UserId, UserIdRules};

const ADMIN_SCOPE: &str = "urn:mas:admin";
pub(crate) const API: &str = "/api/admin/v1";
/// A token is renewed this long before MAS says it expires, so it cannot expire mid-request.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);
/// The longest token lifetime believed, in seconds (a day; MAS gives minutes).
const TOKEN_LIFETIME_MAX: u64 = 86_400;
/// Where MAS revokes tokens when its discovery document does not say (RFC 7009).
const REVOKE_PATH: &str = "/oauth2/revoke";
/// A user listing is used instead of look-ups from this many users on (a listing page holds
/// [`LIST_PAGE`] users, and costs about as much as a few look-ups).
const LIST_MIN_USERS: usize = 5;
const LIST_PAGE: usize = 100;
/// The longest pause between two password-check logins this tool will learn: MAS's limit may be
/// stricter than its default, but not without bound.
const MAX_LOGIN_INTERVAL: Duration = Duration::from_secs(300);
/// A user locked this soon after its creation was locked by this tool, because its creation did
/// not finish (an administrator does not lock a user minutes after creating it).
const UNFINISHED_WINDOW: Duration = Duration::from_secs(300);
/// Waits for the login limit shorter than this are not worth a progress line.
const PROGRESS_MIN_WAIT: Duration = Duration::from_secs(1);

/// How password-check logins are paced against MAS's login rate limit (MAS's default: 3 at once,
/// then 1 per 20 s, and a 429 without a hint of how long to wait).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoginPace {
    /// The pause between logins once MAS has refused one; lengthened when MAS still refuses.
    pub interval: Duration,
    /// The longest the run may wait for the limit in all (`mas_login_wait`).
    pub max_wait: Duration,
}

impl Default for LoginPace {
    fn default() -> LoginPace {
        LoginPace { interval: Duration::from_secs(20), max_wait: Duration::from_secs(600) }
    }
}

/// What `GET /api/admin/v1/site-config` says (MAS v1.3.0 and later).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SiteConfig {
    password_login_enabled: bool,
    minimum_password_complexity: Option<u8>,
}

/// The login limiter's state: logins go one at a time, paced once MAS has refused one.
#[derive(Debug)]
struct Limiter {
    pace: LoginPace,
    /// MAS refused a login for its rate limit: every next one waits `pace.interval` after the last.
    limited: bool,
    last_attempt: Option<Instant>,
    waited: Duration,
    /// Logins the run announced, and those already answered.
    expected: usize,
    done: usize,
}

impl Limiter {
    fn pending(&self) -> usize {
        self.expected.saturating_sub(self.done).max(1)
    }
}

/// Receives progress lines (the command-line tool prints them on standard error).
pub type ProgressFn = Box<dyn Fn(&str)>;

/// Where progress lines go, if anywhere.
#[derive(Default)]
struct Progress(Option<ProgressFn>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Progress(on)" } else { "Progress(off)" })
    }
}

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
    revoke_path: String,
    token: Mutex<Option<(Secret, Instant)>>,
    /// MAS identifies users by ULID: the ones already looked up, by localpart.
    ids: Mutex<HashMap<String, String>>,
    site: Option<SiteConfig>,
    /// Users (by localpart) an earlier run left unfinished and locked.
    unfinished: Mutex<HashSet<String>>,
    limiter: Mutex<Limiter>,
    progress: Progress,
}

impl Mas {
    /// Reads every page of MAS's user list, handing each username and account to `each` (and
    /// remembering each user's ID). After the first page, `worth` is told the total and may stop
    /// the listing there (`Ok(false)`). Otherwise all of it or an error: a page that fails, a
    /// listing that does not end, or one that ends with fewer users than it announced.
    async fn each_listed_user(
        &self,
        worth: impl Fn(u64) -> bool,
        mut each: impl FnMut(&str, Account),
    ) -> Result<bool, Error> {
        let action = "listing MAS's users";
        let bad = |problem: String| Error::BadAnswer { action: action.to_string(), problem, about: &[] };
        let mut ids = HashMap::new();
        let mut after: Option<String> = None;
        let mut seen = HashSet::new();
        let (mut total, mut count, mut pages_allowed) = (0, 0, u64::MAX);
        loop {
            if pages_allowed == 0 {
                return Err(bad("the listing does not end (more pages than its count of users allows)".to_string()));
            }
            pages_allowed -= 1;
            let mut path = format!("{API}/users?page[first]={LIST_PAGE}");
            if let Some(after) = &after {
                path.push_str(&format!("&page[after]={}", escape(after)));
            }
            let reply = self.admin(|token| Request::get(path.as_str(), action).bearer(Some(token))).await?;
            if !reply.is_success() {
                return Err(admin_error(&reply, action));
            }
            if after.is_none() {
                total = reply.body["meta"]["count"].as_u64().unwrap_or(u64::MAX);
                if !worth(total) {
                    return Ok(false);
                }
                // Users added while the listing runs may add a page or two.
                pages_allowed = total.div_ceil(LIST_PAGE as u64).saturating_add(2);
            }
            let data = reply.body["data"].as_array().cloned().unwrap_or_default();
            for user in &data {
                let (Some(id), Some(username)) = (user["id"].as_str(), user["attributes"]["username"].as_str()) else {
                    continue;
                };
                count += 1;
                let account = account_of(&user["attributes"]);
                if account.unfinished {
                    self.unfinished.lock().await.insert(username.to_string());
                }
                ids.insert(username.to_string(), id.to_string());
                each(username, account);
            }
            match data.last().and_then(|user| user["id"].as_str()) {
                Some(last) if reply.body["links"].get("next").is_some() => {
                    if !seen.insert(last.to_string()) {
                        return Err(bad("the listing does not end (a page cursor repeats)".to_string()));
                    }
                    after = Some(last.to_string());
                }
                _ if count < total => {
                    return Err(bad(format!("the listing ended after {count} of the {total} users it announced")))
                }
                _ => break,
            }
        }
        self.ids.lock().await.extend(ids);
        Ok(true)
    }

    /// Connects to MAS at the transport's base URL: finds the token endpoint in its discovery
    /// document (keeping the path, on this base URL: the issuer's public address may not be
    /// reachable from here) and gets a first token, so bad client credentials fail before anything else.
    ///
    /// Then reads MAS's site configuration: the server name it serves (checked against
    /// `server_name`, or taken when none is given) and whether passwords are enabled. A failure
    /// after the token was issued revokes it.
    pub async fn connect(
        http: Http,
        server_name: Option<String>,
        client: MasClient,
        skip_password_check: bool,
        pace: LoginPace,
    ) -> Result<Mas, Error> {
        let action = "reading MAS's discovery document";
        let reply =
            http.send(Request::get("/.well-known/openid-configuration", action)).await.map_err(|e| named(e, &http))?;
        if !reply.body.is_object() {
            return Err(not_mas(&reply, http.base_url()));
        }
        let endpoint = reply.body.get("token_endpoint").and_then(Value::as_str).filter(|_| reply.is_success());
        let Some(endpoint) = endpoint else {
            return Err(reply
                .refused(action, Some("check {mas_url}: it should be MAS's own base URL"))
                .about(&[Setting::MasUrl]));
        };
        // Both receive the client secret: each must be a plain path, used on mas_url.
        let odd = |name: &'static str| {
            move |problem: String| Error::BadAnswer {
                action: format!("{action} (its {name})"),
                problem: format!("{problem}; check {{mas_url}}: it should be MAS's own base URL"),
                about: &[Setting::MasUrl],
            }
        };
        let token_path = endpoint_path(endpoint).map_err(odd("token_endpoint"))?;
        let revoke_path = reply
            .body
            .get("revocation_endpoint")
            .and_then(Value::as_str)
            .map(endpoint_path)
            .transpose()
            .map_err(odd("revocation_endpoint"))?;
        let mut mas = Mas {
            http,
            server_name: server_name.clone().unwrap_or_default(),
            client,
            skip_password_check,
            token_path,
            revoke_path: revoke_path.unwrap_or_else(|| REVOKE_PATH.to_string()),
            token: Mutex::new(None),
            ids: Mutex::new(HashMap::new()),
            site: None,
            unfinished: Mutex::new(HashSet::new()),
            limiter: Mutex::new(Limiter {
                pace,
                limited: false,
                last_attempt: None,
                waited: Duration::ZERO,
                expected: 0,
                done: 0,
            }),
            progress: Progress::default(),
        };
        mas.token(false).await.map_err(|e| named(e, &mas.http))?;
        match mas.site_config(server_name).await {
            Ok((name, site)) => {
                mas.server_name = name;
                mas.site = site;
                Ok(mas)
            }
            Err(e) => {
                // The token's session must not outlive the run, however it ends.
                let _ = mas.close().await;
                Err(e)
            }
        }
    }

    /// MAS's "Password is too weak", with the strength it wants.
    fn explain_weak(&self, error: Error) -> Error {
        let minimum = self.site.as_ref().and_then(|site| site.minimum_password_complexity);
        match (error, minimum) {
            (Error::Refused { action, status, errcode, message, .. }, Some(minimum))
                if message.contains("too weak") =>
            {
                Error::Refused {
                    action,
                    status,
                    errcode,
                    message,
                    hint: Some(format!(
                        "MAS wants a strength score of at least {minimum} of 4 (zxcvbn; minimum_password_complexity): \
                         choose a stronger password (a few unrelated words, or more random characters), or set \
                         {{skip_password_check}} to let MAS take it anyway"
                    )),
                    about: &[Setting::SkipPasswordCheck],
                }
            }
            (error, _) => error,
        }
    }

    /// Progress lines on long waits (MAS's login rate limit) go to `report`.
    pub fn on_progress(&mut self, report: ProgressFn) {
        self.progress = Progress(Some(report));
    }

    fn report(&self, line: &str) {
        if let Some(report) = &self.progress.0 {
            report(line);
        }
    }

    /// The server name and site configuration. MAS before v1.3.0 has no `site-config`: the
    /// given server name is then taken as it is.
    async fn site_config(&self, given: Option<String>) -> Result<(String, Option<SiteConfig>), Error> {
        let action = "reading MAS's site configuration";
        let path = format!("{API}/site-config");
        let reply = self.admin(|token| Request::get(path.as_str(), action).bearer(Some(token))).await?;
        if reply.status == 404 {
            return given.map(|name| (name, None)).ok_or(Error::NeedsSetting {
                action: "knowing the server's domain from a MAS older than v1.3.0 (no site-config)".into(),
                setting: Setting::ServerName,
            });
        }
        let served = reply.body.get("server_name").and_then(Value::as_str).filter(|_| reply.is_success());
        let Some(served) = served else {
            return Err(admin_error(&reply, action));
        };
        if let Some(given) = given.filter(|given| !given.eq_ignore_ascii_case(served)) {
            return Err(Error::WrongServerName { given, served: served.to_string() });
        }
        let site = SiteConfig {
            password_login_enabled: reply.body.get("password_login_enabled").and_then(Value::as_bool).unwrap_or(true),
            minimum_password_complexity: reply
                .body
                .get("minimum_password_complexity")
                .and_then(Value::as_u64)
                .map(|n| n.min(4) as u8),
        };
        Ok((served.to_string(), Some(site)))
    }

    /// Why no password can be set or checked here, when MAS has passwords turned off.
    fn passwords_off(&self) -> Option<&'static str> {
        self.site.as_ref().filter(|site| !site.password_login_enabled).map(|_| {
            "MAS has passwords turned off (passwords.enabled: false in its config; site-config says \
             password_login_enabled: false): enable them, or leave this user to MAS's other ways of logging in"
        })
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
    pub(crate) async fn admin(&self, request: impl Fn(&Secret) -> Request<'_>) -> Result<Reply, Error> {
        let named = |e| named(e, &self.http);
        let token = self.token(false).await.map_err(named)?;
        let reply = self.http.send(request(&token)).await.map_err(named)?;
        if reply.status != 401 {
            return Ok(reply);
        }
        let token = self.token(true).await.map_err(named)?;
        self.http.send(request(&token)).await.map_err(named)
    }

    /// A password-check login through MAS's compatibility API, at the pace MAS's login rate
    /// limit allows: one at a time; once MAS has refused one (429, with no hint of how long to
    /// wait), each next one waits the pace's interval after the last, which grows when MAS still
    /// refuses. The run's whole wait is bounded by `mas_login_wait`.
    async fn paced_login(&self, user: &UserId, password: &Secret) -> Result<Option<Login>, Error> {
        let action = format!("logging in as {user} to check its password");
        if let Some(off) = self.passwords_off() {
            return Err(Error::Refused {
                action,
                status: 400,
                errcode: None,
                message: "MAS does not take password logins".into(),
                hint: Some(off.to_string()),
                about: &[],
            });
        }
        let body = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user.to_string()},
            "password": password.expose(),
            "initial_device_display_name": "matrix-user password check",
        });
        let mut limiter = self.limiter.lock().await;
        let reply = loop {
            if limiter.limited {
                let since = limiter.last_attempt.map_or(limiter.pace.interval, |at| at.elapsed());
                let wait = limiter.pace.interval.saturating_sub(since);
                let pending = limiter.pending();
                let needed = wait + limiter.pace.interval * (pending.saturating_sub(1) as u32);
                if limiter.waited + wait > limiter.pace.max_wait {
                    return Err(Error::LoginRateLimited {
                        action,
                        limit: "429 \"Too many login attempts\", with no hint of how long to wait".into(),
                        pending,
                        interval_secs: limiter.pace.interval.as_secs_f64(),
                        needed_secs: needed.as_secs_f64(),
                        wait_secs: limiter.pace.max_wait.as_secs_f64(),
                        waited_secs: limiter.waited.as_secs_f64(),
                    });
                }
                if wait >= PROGRESS_MIN_WAIT {
                    self.report(&format!(
                        "MAS limits password-check logins (429 \"Too many login attempts\"): one every {:.0} s; \
                         {pending} to go, about {:.0} s more (waited {:.0} s of mas_login_wait's {:.0} s)",
                        limiter.pace.interval.as_secs_f64(),
                        needed.as_secs_f64(),
                        limiter.waited.as_secs_f64(),
                        limiter.pace.max_wait.as_secs_f64(),
                    ));
                }
                tokio::time::sleep(wait).await;
                limiter.waited += wait;
            }
            // An attempt made a full interval after the last that MAS still refuses: its limit
            // is stricter than the pace, which then grows.
            let paced = limiter.limited;
            let request = Request::post("/_matrix/client/v3/login", &action).json(body.clone()).rate_limit_is_mine();
            let reply = self.http.send(request).await.map_err(|e| named(e, &self.http));
            // Counted from the answer: MAS counted the attempt at some moment before it.
            limiter.last_attempt = Some(Instant::now());
            let reply = reply?;
            if reply.status != 429 {
                limiter.done += 1;
                break reply;
            }
            if paced {
                limiter.pace.interval = (limiter.pace.interval * 3 / 2).min(MAX_LOGIN_INTERVAL);
            }
            limiter.limited = true;
        };
        drop(limiter);
        match (reply.status, reply.errcode()) {
            (403, Some("M_FORBIDDEN")) => Ok(None),
            (401, Some("M_USER_LOCKED")) => Err(reply.refused(
                &action,
                Some(&format!(
                    "the account is locked in MAS; unlock it (mas-cli manage unlock-user {}, or the Admin API's \
                     POST /api/admin/v1/users/{{id}}/unlock) and run again",
                    user.localpart()
                )),
            )),
            (400, _) if reply.message().contains("Invalid login type") => Err(reply
                .refused(&action, Some("MAS does not take password logins: passwords.enabled is off in its config"))),
            _ => match access_token(&reply) {
                Some(session) => {
                    log_out(&self.http, &session, user).await.map_err(|e| named(e, &self.http))?;
                    Ok(Some(Login { admin: None }))
                }
                None => Err(reply.refused(&action, None)),
            },
        }
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
            about: &[],
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
                let account = account_of(attributes);
                self.ids.lock().await.insert(user.localpart().to_string(), id.clone());
                if account.unfinished {
                    self.unfinished.lock().await.insert(user.localpart().to_string());
                }
                Ok(Some((id, account)))
            }
            404 => Ok(None),
            _ => Err(admin_error(&reply, &action)),
        }
    }

    /// A POST to a user's action endpoint (`set-admin`, `set-password`, `lock`, `unlock`; a `Null`
    /// body is none), expecting success.
    async fn user_action(&self, user: &UserId, what: &str, body: Value, action: &str) -> Result<(), Error> {
        let id = self.existing_id(user, action).await?;
        let path = format!("{API}/users/{}/{what}", escape(&id));
        let reply = self
            .admin(|token| {
                let request = Request::post(path.as_str(), action).bearer(Some(token));
                if body.is_null() {
                    request
                } else {
                    request.json(body.clone())
                }
            })
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(admin_error(&reply, action))
        }
    }
}

/// A user resource's attributes as an account. One locked within [`UNFINISHED_WINDOW`] of its
/// creation is one this tool locked because its creation did not finish.
fn account_of(attributes: &Value) -> Account {
    let time = |key: &str| attributes[key].as_str().and_then(unix_seconds);
    let unfinished = match (time("created_at"), time("locked_at")) {
        (Some(created), Some(locked)) => locked >= created && locked - created <= UNFINISHED_WINDOW.as_secs() as i64,
        _ => false,
    };
    Account {
        admin: attributes["admin"].as_bool(),
        deactivated: !attributes["deactivated_at"].is_null(),
        locked: !attributes["locked_at"].is_null(),
        unfinished,
        // Not in MAS's user resource: it lives on the homeserver.
        displayname: None,
    }
}

/// Seconds since 1970 of an RFC 3339 time as MAS writes them (`2026-12-01T15:30:48.123456Z`, or
/// with an offset); `None` for anything else.
pub(crate) fn unix_seconds(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let zone = text[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match zone {
        "Z" | "z" => 0,
        _ if zone.len() == 6 && zone.as_bytes()[3] == b':' => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            sign * (zone[1..3].parse::<i64>().ok()? * 3600 + zone[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Days from the civil date (proleptic Gregorian calendar).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// A transport error, naming the setting that points at MAS (`mas_url`) where it would name
/// `homeserver_url`.
fn named(error: Error, http: &Http) -> Error {
    match error {
        Error::Unreachable { waited_secs, cause, .. } => {
            Error::MasUnreachable { url: http.base_url().to_string(), waited_secs, cause }
        }
        other => other,
    }
}

/// What answered at `mas_url` is not MAS (an HTML page, a proxy's text): one line, no page.
fn not_mas(reply: &Reply, url: &str) -> Error {
    let what = match (&reply.not_json, &reply.body) {
        (Some(description), _) => description.clone(),
        (None, Value::Null) => "an empty answer".to_string(),
        _ => "JSON that is not a discovery document".to_string(),
    };
    Error::Refused {
        action: "reading MAS's discovery document (GET /.well-known/openid-configuration)".into(),
        status: reply.status,
        errcode: None,
        message: format!("{url} answered with {what}, not MAS's discovery document"),
        hint: Some("{mas_url} should be MAS's own base URL (its HTTP listener with the adminapi resource)".into()),
        about: &[Setting::MasUrl],
    }
}

/// The path of an endpoint the discovery document names (token, revocation), to be used on
/// `mas_url`: the issuer's public address may not be reachable from here, and a client secret
/// must never be sent anywhere but to `mas_url`. Only an absolute http(s) URL with a plain path
/// is accepted.
fn endpoint_path(endpoint: &str) -> Result<String, String> {
    let refused = |why: &str| Err(format!("MAS named an endpoint that {why}, so it is not used"));
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
pub(crate) fn admin_error(reply: &Reply, action: &str) -> Error {
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
            Some("choose a stronger password, or set {skip_password_check} to bypass MAS's complexity check")
        }
        409 | 400 if titles.iter().any(|t| t.contains("reserved")) => Some(
            "the name is in an application service's namespace (a bridge's users): choose another name, or \
             register it through that application service",
        ),
        500 => Some("MAS failed, often because it could not reach the homeserver (Synapse): check that it is running"),
        _ => None,
    };
    Error::Refused {
        action: action.to_string(),
        status: reply.status,
        errcode: None,
        message: if titles.is_empty() { reply.message() } else { titles.join(": ") },
        hint: hint.map(str::to_string),
        about: if reply.status == 400 && titles.iter().any(|t| t.contains("too weak")) {
            &[Setting::SkipPasswordCheck]
        } else {
            &[]
        },
    }
}

fn token_error(reply: &Reply, action: &str) -> Error {
    let code = reply.body.get("error").and_then(Value::as_str).unwrap_or_default();
    let about: &'static [Setting] = match code {
        "invalid_client" => &[Setting::MasClientId, Setting::MasClientSecret],
        "unauthorized_client" | "invalid_scope" => &[],
        _ => &[Setting::MasUrl, Setting::MasClientId, Setting::MasClientSecret],
    };
    let hint = match code {
        "invalid_client" => {
            "MAS does not know this client or its secret: check {mas_client_id} and {mas_client_secret}"
        }
        "unauthorized_client" => "this client may not use the client_credentials grant",
        "invalid_scope" => {
            "this client may not have the urn:mas:admin scope: add its ID to policy.data.admin_clients in MAS's config"
        }
        _ => "check {mas_url}, {mas_client_id} and {mas_client_secret}",
    };
    Error::Refused {
        action: action.to_string(),
        status: reply.status,
        errcode: (!code.is_empty()).then(|| code.to_string()),
        message: reply.body.get("error_description").and_then(Value::as_str).unwrap_or(code).to_string(),
        hint: Some(hint.to_string()),
        about,
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

    /// Passwords turned off in MAS: no password can be set, so nothing is created. (Whether MAS
    /// finds a password strong enough is known from its answer only: estimating it here would need
    /// zxcvbn's dictionaries, which would make the binary copied to every host half as large again.)
    fn passwords_refused(&self) -> Option<String> {
        self.passwords_off().map(str::to_string)
    }

    fn missing_for(&self, _operation: Operation) -> Option<Setting> {
        None
    }

    fn unsupported(&self, operation: Operation) -> Option<&'static str> {
        match operation {
            // The Admin API takes a display name only when it creates the user; the name lives on
            // the homeserver, which this backend does not reach.
            Operation::SetDisplayname => Some(
                "MAS's Admin API neither shows nor changes an existing user's display name (it lives on the \
                 homeserver); leave out {displayname} for existing users, or set it with the homeserver's admin API",
            ),
            Operation::CreateWithUserType => Some("MAS's Admin API has no user types; leave out {user_type}"),
            _ => None,
        }
    }

    fn unforeseeable(&self, operation: Operation) -> Option<&'static str> {
        match operation {
            Operation::Create if self.skip_password_check => Some(
                "check mode cannot foresee whether MAS accepts the name (one in an application service's \
                 namespace is refused) or reaches the homeserver to provision the user",
            ),
            Operation::Create => Some(
                "check mode cannot foresee whether MAS accepts the name (one in an application service's \
                 namespace is refused), finds the password strong enough, or reaches the homeserver to provision \
                 the user",
            ),
            Operation::SetPassword if !self.skip_password_check => {
                Some("check mode cannot foresee whether MAS finds the password strong enough")
            }
            _ => None,
        }
    }

    async fn look_up(&self, user: &UserId) -> Result<Lookup, Error> {
        Ok(self.fetch(user).await?.map_or(Lookup::Missing, |(_, account)| Lookup::Found(account)))
    }

    /// One paged listing (`GET /users`, [`LIST_PAGE`] a page) instead of a look-up per user, when
    /// MAS has few enough users for that to be cheaper.
    async fn list_accounts(&self, wanted: usize) -> Result<Option<HashMap<String, Account>>, Error> {
        if wanted < LIST_MIN_USERS {
            return Ok(None);
        }
        let mut accounts = HashMap::new();
        // More pages than the look-ups they replace: look the users up instead.
        let worth = |total: u64| total.div_ceil(LIST_PAGE as u64) * LIST_MIN_USERS as u64 <= wanted as u64;
        let listed = self.each_listed_user(worth, |username, account| {
            accounts.insert(username.to_string(), account);
        });
        Ok(listed.await?.then_some(accounts))
    }

    async fn list_everyone(&self) -> Result<Option<Vec<Listed>>, Error> {
        let mut everyone = Vec::new();
        self.each_listed_user(
            |_| true,
            // Application services register their users with Synapse, not MAS; MAS has no guests.
            |username, account| {
                everyone.push(Listed {
                    localpart: username.to_string(),
                    account,
                    guest: false,
                    appservice: Some(false),
                })
            },
        )
        .await?;
        Ok(Some(everyone))
    }

    fn expect_logins(&self, count: usize) {
        if let Ok(mut limiter) = self.limiter.try_lock() {
            limiter.expected += count;
        }
    }

    async fn log_in(&self, user: &UserId, password: &Secret) -> Result<Option<Login>, Error> {
        self.paced_login(user, password).await
    }

    /// Revokes the admin token (`POST /oauth2/revoke`), which ends the OAuth 2.0 session its
    /// grant opened in MAS.
    async fn close(&self) -> Result<(), Error> {
        let Some((token, _)) = self.token.lock().await.take() else {
            return Ok(());
        };
        let action = "revoking the admin token (ending its session in MAS)";
        let reply = self
            .http
            .send(
                Request::post(self.revoke_path.as_str(), action)
                    .basic(&self.client.client_id, &self.client.client_secret)
                    .form(&[("token", token.expose()), ("token_type_hint", "access_token")]),
            )
            .await
            .map_err(|e| named(e, &self.http))?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(token_error(&reply, action))
        }
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
        let Err(e) = finish.await else {
            return Ok(());
        };
        // Locked at once, it cannot be used half-made, and the next run tells it apart from a
        // finished account (which MAS does not show: it never says whether a user has a password).
        let locked = self.user_action(user, "lock", Value::Null, &format!("locking the unfinished {user}")).await;
        let state = match locked {
            Ok(()) => "it is locked, without a usable password, until a run with update_password: always finishes it",
            Err(_) => "it has no usable password (locking it failed too)",
        };
        Err(Error::HalfDone { user_id: user.to_string(), cause: format!("{e}; {state}") })
    }

    async fn set_admin(&self, user: &UserId, admin: bool) -> Result<(), Error> {
        let action = if admin {
            format!("making {user} an admin in MAS")
        } else {
            format!("removing admin rights from {user} in MAS")
        };
        self.user_action(user, "set-admin", json!({"admin": admin}), &action).await
    }

    /// Sets the password; an account left unfinished (and locked) by an earlier run is then
    /// unlocked, since it is now finished.
    async fn set_password(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        let action = format!("setting the password of {user} in MAS");
        let mut body = json!({"password": password.expose()});
        if self.skip_password_check {
            body["skip_password_check"] = true.into();
        }
        self.user_action(user, "set-password", body, &action).await.map_err(|e| self.explain_weak(e))?;
        if self.unfinished.lock().await.remove(user.localpart()) {
            let action = format!("unlocking {user}, finished now");
            self.user_action(user, "unlock", Value::Null, &action).await?;
        }
        Ok(())
    }

    /// `lock` / `unlock`: MAS keeps a locked user's sessions, refused until it is unlocked.
    async fn set_locked(&self, user: &UserId, locked: bool) -> Result<(), Error> {
        let (what, action) = if locked {
            ("lock", format!("locking {user} in MAS"))
        } else {
            ("unlock", format!("unlocking {user} in MAS"))
        };
        self.user_action(user, what, Value::Null, &action).await?;
        // Locked or unlocked on purpose now: no longer an unfinished creation of this tool.
        self.unfinished.lock().await.remove(user.localpart());
        Ok(())
    }

    /// `deactivate`: MAS ends the user's sessions and asks the homeserver to make it leave its
    /// rooms; it asks the homeserver to erase the user too unless told `skip_erase`.
    async fn deactivate(&self, user: &UserId, erase: bool, _password: Option<&Secret>) -> Result<(), Error> {
        let action = if erase {
            format!("deactivating and erasing {user} in MAS")
        } else {
            format!("deactivating {user} in MAS")
        };
        self.user_action(user, "deactivate", json!({"skip_erase": !erase}), &action).await
    }

    /// `reactivate`, then the password: MAS's reactivation leaves a lock in place (unlocking is
    /// its own action in the plan).
    async fn reactivate(&self, user: &UserId, password: &Secret) -> Result<(), Error> {
        let action = format!("reactivating {user} in MAS");
        self.user_action(user, "reactivate", Value::Null, &action).await?;
        // A refused password leaves the account reactivated with the password it had: said so.
        self.set_password(user, password).await.map_err(|e| match e {
            Error::Refused { action, status, errcode, message, hint, about } => Error::Refused {
                action: format!("{action}, after reactivating it (it is active again, with the password it had)"),
                status,
                errcode,
                message,
                hint,
                about,
            },
            other => other,
        })
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
    fn times_as_mas_writes_them() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2026-12-01T15:30:48.123456Z"), Some(1_796_139_048));
        assert_eq!(unix_seconds("2026-12-01T16:30:48+01:00"), Some(1_796_139_048));
        assert_eq!(unix_seconds("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(unix_seconds("not a time"), None);
        assert_eq!(unix_seconds("2026-12-01"), None);
    }

    #[test]
    fn a_user_locked_right_after_its_creation_is_unfinished() {
        let user = |created: &str, locked: Value| {
            account_of(&json!({"admin": false, "created_at": created, "locked_at": locked, "deactivated_at": null}))
        };
        assert!(user("2026-12-01T15:30:48Z", json!("2026-12-01T15:30:49.5Z")).unfinished);
        let locked_later = user("2026-12-01T15:30:48Z", json!("2026-12-02T09:00:00Z"));
        assert!(locked_later.locked && !locked_later.unfinished);
        assert!(!user("2026-12-01T15:30:48Z", Value::Null).locked);
    }

    #[test]
    fn token_endpoint_path_is_kept_and_the_host_dropped() {
        assert_eq!(endpoint_path("https://auth.example.com/oauth2/token").unwrap(), "/oauth2/token");
        assert_eq!(endpoint_path("http://127.0.0.1:8080/prefix/oauth2/token").unwrap(), "/prefix/oauth2/token");
        assert_eq!(endpoint_path("https://auth.example.com").unwrap(), "/");
        assert_eq!(endpoint_path("https://auth.example.com/a/../oauth2/token").unwrap(), "/oauth2/token");
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
            assert!(endpoint_path(endpoint).is_err(), "{endpoint:?} was accepted");
        }
    }
}
