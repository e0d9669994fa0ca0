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

/// An HTTP answer: status and JSON body (`Null` when empty, a string when not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn errcode(&self) -> Option<&str> {
        self.body.get("errcode").and_then(Value::as_str)
    }

    /// The server's own words: Matrix `error`, Dendrite's `message`, or the raw body.
    pub fn message(&self) -> String {
        for key in ["error", "message"] {
            if let Some(m) = self.body.get(key).and_then(Value::as_str) {
                return m.to_string();
            }
        }
        match &self.body {
            Value::Null => "(empty body)".to_string(),
            Value::String(s) => s.chars().take(200).collect(),
            other => other.to_string().chars().take(200).collect(),
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
        }
    }
}

/// One request. `action` describes it for error messages (for example "looking up @john:example.com").
pub struct Request<'a> {
    pub method: Method,
    pub path: String,
    pub token: Option<&'a Secret>,
    pub body: Option<Value>,
    pub action: String,
    /// Whether sending it twice does no harm. A request that is not is never re-sent once it may
    /// have reached the server; the caller gets [`Error::Interrupted`] and decides.
    pub idempotent: bool,
}

impl Http {
    pub fn new(transport: Transport) -> Result<Http, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(transport.timeout)
            .user_agent(concat!("matrix-user/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(!transport.validate_certs);
        if let Some(path) = &transport.ca_path {
            let pem = std::fs::read(path).map_err(|e| format!("cannot read ca_path {}: {e}", path.display()))?;
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

    pub fn wait_timeout(&self) -> Duration {
        self.transport.wait_timeout
    }

    /// Sends a request, waiting for a homeserver that is down, restarting or rate-limiting, for
    /// up to `wait_timeout`. Any answer other than those is returned for the caller to judge.
    pub async fn send(&self, request: Request<'_>) -> Result<Reply, Error> {
        let started = Instant::now();
        let deadline = started + self.transport.wait_timeout;
        let url = format!("{}{}", self.transport.base_url.trim_end_matches('/'), request.path);
        let mut pause = Duration::from_millis(100);
        loop {
            let retry_after = match self.send_once(&url, &request).await {
                Ok(reply) if reply.status == StatusCode::TOO_MANY_REQUESTS.as_u16() => {
                    // The server did not act on it, so even a non-idempotent request may go again.
                    let wait = Duration::from_millis(retry_after_ms(&reply).unwrap_or(1000));
                    if Instant::now() + wait > deadline {
                        return Err(Error::RateLimited { action: request.action, wait_ms: wait.as_millis() as u64 });
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
                    if Instant::now() + pause > deadline {
                        return Err(Error::Unreachable {
                            url: self.transport.base_url.clone(),
                            waited_secs: started.elapsed().as_secs_f64(),
                            cause: format!("HTTP {}: {}", reply.status, reply.message()),
                        });
                    }
                    pause
                }
                Ok(reply) => return Ok(reply),
                Err(e) if e.is_timeout() => {
                    return Err(Error::TimedOut { action: request.action, secs: self.transport.timeout.as_secs_f64() })
                }
                Err(e) if e.is_connect() => {
                    if Instant::now() + pause > deadline {
                        return Err(Error::Unreachable {
                            url: self.transport.base_url.clone(),
                            waited_secs: started.elapsed().as_secs_f64(),
                            cause: describe(&e),
                        });
                    }
                    pause
                }
                Err(e) => {
                    if !request.idempotent || Instant::now() + pause > deadline {
                        return Err(Error::Interrupted { action: request.action, cause: describe(&e) });
                    }
                    pause
                }
            };
            tokio::time::sleep(retry_after).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    async fn send_once(&self, url: &str, request: &Request<'_>) -> Result<Reply, reqwest::Error> {
        let mut builder = self.client.request(request.method.clone(), url);
        if let Some(token) = request.token {
            builder = builder.bearer_auth(token.expose());
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let header_wait = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = response.text().await?;
        let mut body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if let (Some(secs), Value::Object(map)) = (header_wait, &mut body) {
            map.entry("retry_after_ms").or_insert((secs * 1000).into());
        }
        Ok(Reply { status, body })
    }
}

fn retry_after_ms(reply: &Reply) -> Option<u64> {
    reply.body.get("retry_after_ms").and_then(Value::as_u64)
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
