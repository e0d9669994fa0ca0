//! HTTP to a homeserver: JSON in and out, waiting out a server that is starting or busy.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{Error, Secret};

/// How to reach a homeserver.
#[derive(Debug, Clone)]
pub struct Transport {
    /// Base URL of the client-server API, e.g. `http://127.0.0.1:8008`.
    pub base_url: String,
    /// Longest wait for one answer.
    pub timeout: Duration,
    /// How long a homeserver that refuses connections, answers 502/503/504 or asks to slow down
    /// is waited for before giving up.
    pub wait_timeout: Duration,
    pub validate_certs: bool,
    /// PEM file of a CA to trust besides the system's.
    pub ca_path: Option<std::path::PathBuf>,
}

/// A JSON HTTP client for one homeserver.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    transport: Transport,
}

/// An HTTP answer: status and JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// What the body was when it was not JSON: its content type and length, never its text.
    pub not_json: Option<String>,
    /// The wait a `Retry-After` header asked for (in whole seconds), if any.
    pub retry_after: Option<Duration>,
}

/// The longest error message of a server that is quoted. A longer one is not cut (a cut could
/// split a secret it echoes into pieces no mask knows): it is described instead.
const QUOTED_MAX: usize = 300;

impl Reply {
    pub fn errcode(&self) -> Option<&str> {
        self.body.get("errcode").and_then(Value::as_str)
    }

    /// The server's own words: Matrix `error` or Dendrite's `message`, from a JSON body. Nothing
    /// else is ever quoted: a proxy or server that echoes the request would echo a password, in
    /// encodings (HTML, form, split lines) no mask can foresee. A body that is not JSON is
    /// described by its content type and length.
    pub fn message(&self) -> String {
        for key in ["error", "message"] {
            if let Some(m) = self.body.get(key).and_then(Value::as_str) {
                return if m.chars().count() <= QUOTED_MAX {
                    m.to_string()
                } else {
                    format!("(an error message of {} characters, not quoted)", m.chars().count())
                };
            }
        }
        match (&self.body, &self.not_json) {
            (_, Some(description)) => description.clone(),
            (Value::Null, None) => "(empty body)".to_string(),
            _ => "(JSON without an error message)".to_string(),
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// This answer as an error of `action`, with a hint for the person fixing it.
    pub fn refused(&self, action: &str, hint: Option<&str>) -> Error {
        Error::Refused {
            action: action.to_string(),
            status: self.status,
            errcode: self.errcode().map(str::to_string),
            message: self.message(),
            hint: hint.map(str::to_string),
            about: &[],
        }
    }
}

/// One request. `action` describes it for error messages (for example "looking up @john:example.com").
pub struct Request<'a> {
    method: Method,
    path: String,
    action: String,
    auth: Auth<'a>,
    body: Body,
    idempotent: bool,
    /// Whether a 429 is waited out here (else it is the caller's answer to judge).
    retry_rate_limited: bool,
    /// The most of the answer that is read.
    body_max: usize,
}

enum Auth<'a> {
    None,
    Bearer(&'a Secret),
    Basic(&'a str, &'a Secret),
}

enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
}

impl<'a> Request<'a> {
    pub fn new(method: Method, path: impl Into<String>, action: impl Into<String>) -> Request<'a> {
        Request {
            method,
            path: path.into(),
            action: action.into(),
            auth: Auth::None,
            body: Body::None,
            idempotent: true,
            retry_rate_limited: true,
            body_max: BODY_MAX,
        }
    }

    pub fn get(path: impl Into<String>, action: impl Into<String>) -> Request<'a> {
        Request::new(Method::GET, path, action)
    }

    pub fn post(path: impl Into<String>, action: impl Into<String>) -> Request<'a> {
        Request::new(Method::POST, path, action)
    }

    pub fn put(path: impl Into<String>, action: impl Into<String>) -> Request<'a> {
        Request::new(Method::PUT, path, action)
    }

    /// `Authorization: Bearer`, when there is a token.
    pub fn bearer(mut self, token: Option<&'a Secret>) -> Request<'a> {
        if let Some(token) = token {
            self.auth = Auth::Bearer(token);
        }
        self
    }

    /// HTTP Basic authentication, as OAuth2's `client_secret_basic`.
    pub fn basic(mut self, user: &'a str, secret: &'a Secret) -> Request<'a> {
        self.auth = Auth::Basic(user, secret);
        self
    }

    pub fn json(mut self, body: Value) -> Request<'a> {
        self.body = Body::Json(body);
        self
    }

    /// A form-encoded body.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Request<'a> {
        self.body = Body::Form(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        self
    }

    /// Marks a request that must not be sent twice: once it may have reached the server, it is
    /// not re-sent; the caller gets [`Error::Interrupted`] and decides.
    pub fn once(mut self) -> Request<'a> {
        self.idempotent = false;
        self
    }

    /// A 429 is returned as the answer, not waited out: for a caller that paces itself (MAS's
    /// login limiter, which gives no hint of how long to wait).
    /// A page of a listing: read up to [`PAGE_MAX`] rather than [`BODY_MAX`].
    pub fn page(mut self) -> Request<'a> {
        self.body_max = PAGE_MAX;
        self
    }

    pub fn rate_limit_is_mine(mut self) -> Request<'a> {
        self.retry_rate_limited = false;
        self
    }
}

/// The most of an answer that is read: every API used answers in a few KiB; an endless body must
/// fail, not fill the memory.
pub const BODY_MAX: usize = 1024 * 1024;

/// The most of a page of a listing that is read (a page of 5,000 Synapse users is about 1.2 MiB).
pub const PAGE_MAX: usize = 8 * 1024 * 1024;

/// Why one attempt at a request failed before an answer could be used.
enum Failure {
    Transport(reqwest::Error),
    /// The answer was larger than the request's limit ([`BODY_MAX`], or [`PAGE_MAX`] for a page).
    TooLarge,
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Failure {
        Failure::Transport(e)
    }
}

impl Http {
    pub fn new(transport: Transport) -> Result<Http, String> {
        let base = reqwest::Url::parse(&transport.base_url)
            .map_err(|e| format!("{} is not a URL: {e}", transport.base_url))?;
        let mut builder = reqwest::Client::builder()
            .timeout(transport.timeout)
            .user_agent(concat!("matrix-user/", env!("CARGO_PKG_VERSION")))
            // A redirect could carry the password or a token to another server: none is followed.
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(!transport.validate_certs);
        // Traffic to this machine never goes through a proxy: `http_proxy` set for the internet
        // would otherwise receive the admin token and passwords in clear text. Other hosts follow
        // the standard variables (`https_proxy`, `http_proxy`, `all_proxy`, `no_proxy`).
        if is_loopback(&base) {
            builder = builder.no_proxy();
        }
        if let Some(path) = &transport.ca_path {
            let pem = read_ca(path).map_err(|e| format!("cannot read ca_path {}: {e}", path.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| format!("ca_path {} is not a PEM certificate: {e}", path.display()))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| format!("cannot set up HTTPS: {e}"))?;
        Ok(Http { client, transport })
    }

    pub fn base_url(&self) -> &str {
        &self.transport.base_url
    }

    /// The longest wait for one answer (`timeout`); Dendrite's database is bounded by it too.
    pub fn timeout(&self) -> Duration {
        self.transport.timeout
    }

    pub fn wait_timeout(&self) -> Duration {
        self.transport.wait_timeout
    }

    /// The URL of `path` on the base URL. A path that would lead to another scheme, host or port
    /// (`@evil.example/`, `.evil.example`) is refused: secrets go to the configured server only.
    fn url(&self, path: &str, action: &str) -> Result<reqwest::Url, Error> {
        let base = self.transport.base_url.trim_end_matches('/');
        let odd = || Error::BadAnswer {
            action: action.to_string(),
            problem: format!("the request path would leave {base}; nothing was sent"),
            about: &[],
        };
        let url = reqwest::Url::parse(&format!("{base}{path}")).map_err(|_| odd())?;
        let base = reqwest::Url::parse(base).map_err(|_| odd())?;
        if !path.starts_with('/') || url.origin() != base.origin() || !url.username().is_empty() {
            return Err(odd());
        }
        Ok(url)
    }

    /// Sends a request, waiting for a homeserver that is down, restarting or rate-limiting, for
    /// up to `wait_timeout`. Any answer other than those is returned for the caller to judge.
    pub async fn send(&self, request: Request<'_>) -> Result<Reply, Error> {
        let url = self.url(&request.path, &request.action)?;
        let started = Instant::now();
        let deadline = after(started, self.transport.wait_timeout);
        // Whether waiting `wait` more still ends before the deadline.
        let fits = |wait: Duration| after(Instant::now(), wait) <= deadline;
        let mut pause = Duration::from_millis(100);
        loop {
            let retry_after = match self.send_once(&url, &request).await {
                Ok(reply) if reply.status == StatusCode::TOO_MANY_REQUESTS.as_u16() && request.retry_rate_limited => {
                    // The server did not act on it, so even a non-idempotent request may go again.
                    let wait = retry_after(&reply).unwrap_or(Duration::from_millis(1000));
                    if !fits(wait) {
                        return Err(Error::RateLimited {
                            action: request.action,
                            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        });
                    }
                    wait
                }
                Ok(reply) if matches!(reply.status, 502..=504) => {
                    if !request.idempotent {
                        return Err(Error::Interrupted {
                            action: request.action,
                            cause: format!("HTTP {} from a proxy or a restarting server", reply.status),
                        });
                    }
                    if !fits(pause) {
                        return Err(Error::Unreachable {
                            url: self.transport.base_url.clone(),
                            waited_secs: started.elapsed().as_secs_f64(),
                            cause: format!("HTTP {}: {}", reply.status, reply.message()),
                        });
                    }
                    pause
                }
                Ok(reply) => return Ok(reply),
                Err(Failure::TooLarge) => {
                    return Err(Error::BadAnswer {
                        action: request.action,
                        problem: format!(
                            "the answer was larger than {} KiB, more than any this tool expects",
                            request.body_max / 1024
                        ),
                        about: &[],
                    })
                }
                // A read that took too long changed nothing: it fails now. A write may have been
                // done all the same: one that must not go twice is the caller's to settle
                // (`Interrupted`); any other is sent again, which settles it, while wait_timeout
                // allows.
                Err(Failure::Transport(e)) if e.is_timeout() => {
                    let secs = self.transport.timeout.as_secs_f64();
                    if request.method != Method::GET && !request.idempotent {
                        return Err(Error::Interrupted {
                            action: request.action,
                            cause: format!("no answer within the timeout of {secs} s"),
                        });
                    }
                    if request.method == Method::GET || !fits(pause) {
                        return Err(Error::TimedOut { action: request.action, secs });
                    }
                    pause
                }
                // Waiting does not mend a certificate that is not trusted, or a server that does
                // not speak TLS: that fails at once.
                Err(Failure::Transport(e)) if e.is_connect() && is_tls_failure(&e) => {
                    let cause = describe(&e);
                    let hint = if cause.contains("certificate") || cause.contains("Certificate") {
                        "if a CA of your own signed the homeserver's certificate, set {ca_path} to that CA's certificate (PEM file); {validate_certs: false} skips the check, which lets anyone on the way pose as the homeserver"
                    } else {
                        "check that the homeserver speaks HTTPS at that address; if it speaks plain HTTP, use an http:// URL"
                    };
                    return Err(Error::Tls { url: self.transport.base_url.clone(), cause, hint });
                }
                Err(Failure::Transport(e)) if e.is_connect() => {
                    if !fits(pause) {
                        return Err(Error::Unreachable {
                            url: self.transport.base_url.clone(),
                            waited_secs: started.elapsed().as_secs_f64(),
                            cause: describe(&e),
                        });
                    }
                    pause
                }
                Err(Failure::Transport(e)) => {
                    if !request.idempotent || !fits(pause) {
                        return Err(Error::Interrupted { action: request.action, cause: describe(&e) });
                    }
                    pause
                }
            };
            tokio::time::sleep(retry_after).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    async fn send_once(&self, url: &reqwest::Url, request: &Request<'_>) -> Result<Reply, Failure> {
        let mut builder = self.client.request(request.method.clone(), url.clone());
        builder = match request.auth {
            Auth::None => builder,
            Auth::Bearer(token) => builder.bearer_auth(token.expose()),
            Auth::Basic(user, secret) => {
                builder.header(reqwest::header::AUTHORIZATION, basic_authorization(user, secret).expose())
            }
        };
        builder = match &request.body {
            Body::None => builder,
            Body::Json(body) => builder.json(body),
            Body::Form(fields) => builder.form(fields),
        };
        let mut response = builder.send().await?;
        let status = response.status().as_u16();
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after =
            header(reqwest::header::RETRY_AFTER).and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs);
        let location = header(reqwest::header::LOCATION);
        let content_type = header(reqwest::header::CONTENT_TYPE);
        if response.content_length().is_some_and(|length| length > request.body_max as u64) {
            return Err(Failure::TooLarge);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if bytes.len() + chunk.len() > request.body_max {
                return Err(Failure::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        let (mut body, not_json) = if bytes.iter().all(u8::is_ascii_whitespace) {
            (Value::Null, None)
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(value) => (value, None),
                Err(_) => {
                    let kind = content_type.as_deref().and_then(|t| t.split(';').next()).unwrap_or("untyped");
                    let kind: String = kind.chars().filter(|c| c.is_ascii_graphic()).take(60).collect();
                    (Value::Null, Some(format!("(a {kind} body of {} bytes, not JSON: not quoted)", bytes.len())))
                }
            }
        };
        if (300..400).contains(&status) {
            // Only where it leads, not its path or query: a hostile server could put an echoed
            // secret there.
            let to = location
                .and_then(|l| url.join(&l).ok())
                .map_or_else(|| "elsewhere".to_string(), |l| format!("to {}", l.origin().ascii_serialization()));
            body = serde_json::json!({"error": format!(
                "the homeserver redirects {to}; redirects are not followed (one could carry the password or a token to another server): set the URL to where it leads"
            )});
        }
        Ok(Reply { status, body, not_json, retry_after })
    }
}

/// `Basic base64(user:secret)`, the `Authorization` value of OAuth2's `client_secret_basic`: a
/// secret of its own (it decodes to the client secret), so it is made a [`Secret`] the moment it
/// exists and masked in all output like the others.
fn basic_authorization(user: &str, secret: &Secret) -> Secret {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", secret.expose()));
    Secret::obtained(&encoded);
    Secret::obtained(format!("Basic {encoded}"))
}

/// `start + wait`, or the far future when that does not fit in an `Instant`.
fn after(start: Instant, wait: Duration) -> Instant {
    start.checked_add(wait).unwrap_or_else(|| start + Duration::from_secs(100 * 365 * 86_400))
}

/// Whether `url` names this machine: `localhost`, 127.0.0.0/8 or ::1.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    match host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// How long a 429 asks to wait: Matrix's `retry_after_ms` in the body, else the `Retry-After`
/// header's seconds.
fn retry_after(reply: &Reply) -> Option<Duration> {
    reply.body.get("retry_after_ms").and_then(Value::as_u64).map(Duration::from_millis).or(reply.retry_after)
}

/// The most a `ca_path` file may hold: a CA bundle is a few hundred KiB; `/dev/zero` must fail,
/// not fill the memory.
const CA_FILE_MAX: u64 = 4 * 1024 * 1024;

fn read_ca(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut pem = Vec::new();
    std::fs::File::open(path)?.take(CA_FILE_MAX + 1).read_to_end(&mut pem)?;
    if pem.len() as u64 > CA_FILE_MAX {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "larger than 4 MiB: not a CA certificate"));
    }
    Ok(pem)
}

/// Whether a connection failed in its TLS handshake: rustls reports its errors (an untrusted
/// certificate, a name that does not match, a server that does not speak TLS) as `InvalidData`
/// I/O errors, which the connector wraps in an I/O error of its own.
fn is_tls_failure(error: &reqwest::Error) -> bool {
    fn invalid_data(error: &(dyn std::error::Error + 'static)) -> bool {
        match error.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == std::io::ErrorKind::InvalidData => true,
            Some(io) => io.get_ref().is_some_and(|inner| invalid_data(inner)),
            None => error.source().is_some_and(invalid_data),
        }
    }
    std::error::Error::source(error).is_some_and(invalid_data)
}

/// The innermost cause of a transport error, which is the one that says what happened
/// ("Connection refused", "certificate unknown issuer").
fn describe(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}
