//! The PostgreSQL connection string of `dendrite_database`: libpq's `sslmode` and `sslrootcert`,
//! which tokio-postgres knows only in part, and the rule that the password leaves this machine
//! only inside TLS.
//!
//! Nothing here connects: a connection string is judged before any traffic. No message quotes
//! the connection string (it holds the password).

use std::net::IpAddr;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use tokio_postgres::config::{Config, Host};

/// libpq's `sslmode` values. Without one, libpq's default applies: `prefer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    /// Tried as `prefer` (TLS first, then without): tokio-postgres has no "without first".
    Allow,
    Prefer,
    /// Encrypted; the certificate is not checked (unless `sslrootcert` is given, as in libpq).
    Require,
    /// Encrypted; the certificate must be signed by a trusted CA, whatever name it is for.
    VerifyCa,
    /// Encrypted; the certificate must be signed by a trusted CA and be for the host.
    VerifyFull,
}

impl SslMode {
    const ALL: [SslMode; 6] =
        [SslMode::Disable, SslMode::Allow, SslMode::Prefer, SslMode::Require, SslMode::VerifyCa, SslMode::VerifyFull];

    fn parse(value: &str) -> Option<SslMode> {
        SslMode::ALL.into_iter().find(|mode| mode.name() == value)
    }

    /// The value as written in a URL.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the connection fails rather than go on without TLS.
    pub fn encrypts(self) -> bool {
        matches!(self, SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// How the server's certificate is checked once TLS is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Any certificate (encryption against passive listeners only).
    Nothing,
    /// Signed by a trusted CA.
    Chain,
    /// Signed by a trusted CA and issued for the host connected to.
    ChainAndName,
}

/// A parsed `dendrite_database` PostgreSQL URL.
#[derive(Debug)]
pub struct Target {
    /// tokio-postgres's settings (its `Debug` hides the password), TLS mode already set.
    pub config: Config,
    pub sslmode: SslMode,
    /// Whether the URL says `sslmode` (else it is libpq's default, `prefer`).
    sslmode_given: bool,
    /// `sslrootcert`: the CA certificates (PEM) to trust instead of the system's.
    pub root_cert: Option<PathBuf>,
}

impl Target {
    /// Parses a `postgres://` or `postgresql://` URL.
    pub fn parse(url: &str) -> Result<Target, String> {
        let (rest, sslmode, root_cert) = take_tls_params(url)?;
        let mut config: Config = rest.parse().map_err(|e: tokio_postgres::Error| {
            // The cause names the option or the part that is wrong, never its value.
            match std::error::Error::source(&e) {
                Some(cause) => format!("not a valid PostgreSQL URL: {e}: {cause}"),
                None => format!("not a valid PostgreSQL URL: {e}"),
            }
        })?;
        let sslmode_given = sslmode.is_some();
        let sslmode = sslmode.unwrap_or(SslMode::Prefer);
        config.ssl_mode(if sslmode == SslMode::Disable || only_unix_sockets(&config) {
            // PostgreSQL never offers TLS on a Unix socket, and libpq never asks for it there.
            tokio_postgres::config::SslMode::Disable
        } else if sslmode.encrypts() {
            tokio_postgres::config::SslMode::Require
        } else {
            tokio_postgres::config::SslMode::Prefer
        });
        Ok(Target { config, sslmode, sslmode_given, root_cert })
    }

    /// Whether TLS is ever tried.
    pub fn uses_tls(&self) -> bool {
        self.config.get_ssl_mode() != tokio_postgres::config::SslMode::Disable
    }

    /// How a certificate is checked. As in libpq, `require` with `sslrootcert` checks the chain.
    pub fn verify(&self) -> Verify {
        match self.sslmode {
            SslMode::VerifyFull => Verify::ChainAndName,
            SslMode::VerifyCa => Verify::Chain,
            SslMode::Require if self.root_cert.is_some() => Verify::Chain,
            _ => Verify::Nothing,
        }
    }

    /// Refuses a server off this machine unless the connection must be encrypted: the password
    /// (or the SCRAM exchange and then every query and answer) would cross the network in the
    /// clear. Loopback addresses, `localhost` and Unix sockets are on this machine.
    pub fn check_off_machine(&self) -> Result<(), String> {
        if self.sslmode.encrypts() {
            return Ok(());
        }
        match self.remote_hosts().first() {
            None => Ok(()),
            Some(host) => Err(format!(
                "the PostgreSQL server {} is not on this machine (not a loopback address, localhost or a Unix \
                 socket), and with {} the password and the accounts would cross the network unencrypted; add \
                 sslmode=verify-full to the URL (checks the server's certificate against the system's CAs, or \
                 those of sslrootcert=/path/to/ca.pem) or at least sslmode=require (encrypts without checking the \
                 certificate)",
                quotable(host).unwrap_or("named in the URL"),
                if self.sslmode_given { format!("sslmode={}", self.sslmode.name()) } else { "no sslmode".to_string() }
            )),
        }
    }

    /// The hosts the connection would go to that are not on this machine: for each server, its
    /// `hostaddr` when given (the address actually connected to), else its `host`.
    fn remote_hosts(&self) -> Vec<String> {
        let hosts = self.config.get_hosts();
        let addrs = self.config.get_hostaddrs();
        (0..hosts.len().max(addrs.len()))
            .filter_map(|i| match (addrs.get(i), hosts.get(i)) {
                (Some(addr), _) => (!is_loopback_ip(*addr)).then(|| addr.to_string()),
                (None, Some(Host::Tcp(name))) => (!is_loopback_name(name)).then(|| name.clone()),
                (None, Some(Host::Unix(_))) | (None, None) => None,
            })
            .collect()
    }
}

/// A host name or address as it may be quoted: one with other characters (an `@`, say) comes from
/// a URL whose password was not escaped, and may hold a piece of it.
fn quotable(host: &str) -> Option<&str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_');
    (host.len() <= 253 && host.chars().all(plain)).then_some(host)
}

fn only_unix_sockets(config: &Config) -> bool {
    config.get_hostaddrs().is_empty()
        && !config.get_hosts().is_empty()
        && config.get_hosts().iter().all(|host| matches!(host, Host::Unix(_)))
}

fn is_loopback_ip(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// `localhost`, 127.0.0.0/8 or ::1, as written in the URL (no name is looked up).
fn is_loopback_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(is_loopback_ip)
}

/// Splits `sslmode` and `sslrootcert` off the URL's query (tokio-postgres refuses `verify-*` and
/// does not know `sslrootcert`). The query is found where tokio-postgres finds it: after the
/// first `@` if there is one (the password may hold a `?`), at the first `?` after that.
fn take_tls_params(url: &str) -> Result<(String, Option<SslMode>, Option<PathBuf>), String> {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let after_credentials = url[scheme_end..].find('@').map_or(scheme_end, |i| scheme_end + i + 1);
    let Some(query_start) = url[after_credentials..].find('?').map(|i| after_credentials + i) else {
        return Ok((url.to_string(), None, None));
    };
    let (mut sslmode, mut root_cert) = (None, None);
    let mut kept = Vec::new();
    for pair in url[query_start + 1..].split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded_key = percent_decode_str(key).decode_utf8_lossy();
        match &*decoded_key {
            "sslmode" => {
                let value = percent_decode_str(value).decode_utf8_lossy();
                // The value is not quoted: in a URL whose password has an unescaped `@` or `?`, it
                // could be a piece of the password.
                sslmode = Some(SslMode::parse(&value).ok_or(
                    "the sslmode in the URL is not one of disable, allow, prefer, require, verify-ca, verify-full",
                )?);
            }
            "sslrootcert" => {
                let value = percent_decode_str(value).decode_utf8_lossy();
                // libpq's `system`: the system's CAs, which are used anyway without a file.
                root_cert = (value != "system" && !value.is_empty()).then(|| PathBuf::from(&*value));
            }
            _ => kept.push(pair),
        }
    }
    let mut rest = url[..query_start].to_string();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((rest, sslmode, root_cert))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        Target::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn refusal(url: &str) -> Option<String> {
        target(url).check_off_machine().err()
    }

    #[test]
    fn sslmode_values_are_libpqs() {
        for (value, mode) in [
            ("disable", SslMode::Disable),
            ("allow", SslMode::Allow),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
        ] {
            assert_eq!(target(&format!("postgresql://u:pw@db.example/d?sslmode={value}")).sslmode, mode);
        }
        assert_eq!(target("postgresql://u:pw@127.0.0.1/d").sslmode, SslMode::Prefer);
        let error = Target::parse("postgresql://u:secret-pw@127.0.0.1/d?sslmode=verify").unwrap_err();
        assert!(error.contains("sslmode in the URL is not one of"), "{error}");
        assert!(!error.contains("secret-pw"), "{error}");
        // An unescaped `@` in the password: what follows it is never quoted.
        let error = Target::parse("postgresql://u:secret@pw?sslmode=pw-part@127.0.0.1/d").unwrap_err();
        assert!(!error.contains("pw-part"), "{error}");
    }

    #[test]
    fn tls_params_are_taken_out_and_the_rest_kept() {
        let t = target("postgresql://u:pw@db.example:5433/dendrite?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3");
        assert_eq!(t.sslmode, SslMode::VerifyFull);
        assert_eq!(t.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(t.config.get_application_name(), Some("x"));
        assert_eq!(t.config.get_dbname(), Some("dendrite"));
        assert_eq!(t.config.get_ports(), &[5433]);
        assert_eq!(t.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(t.config.get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        assert_eq!(t.verify(), Verify::ChainAndName);

        // A `?` in the password is not the start of the query.
        let t = target("postgresql://u:p?ss@127.0.0.1/d?sslmode=require");
        assert_eq!(t.config.get_password(), Some(&b"p?ss"[..]));
        assert_eq!(t.sslmode, SslMode::Require);
        assert_eq!(t.verify(), Verify::Nothing);

        assert_eq!(target("postgres://u@127.0.0.1/d?sslmode=require&sslrootcert=ca.pem").verify(), Verify::Chain);
        assert_eq!(target("postgres://u@127.0.0.1/d?sslmode=verify-ca&sslrootcert=system").root_cert, None);
        assert_eq!(
            target("postgres://u@127.0.0.1/d?sslmode=disable").config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable
        );
        assert_eq!(target("postgres://u@127.0.0.1/d").config.get_ssl_mode(), tokio_postgres::config::SslMode::Prefer);
    }

    #[test]
    fn unknown_options_fail_without_quoting_the_password() {
        let error = Target::parse("postgresql://u:secret-pw@127.0.0.1/d?sslcert=x").unwrap_err();
        assert!(error.contains("sslcert"), "{error}");
        assert!(!error.contains("secret-pw"), "{error}");
    }

    #[test]
    fn loopback_and_sockets_need_no_tls() {
        for url in [
            "postgresql://u:pw@127.0.0.1:5432/d",
            "postgresql://u:pw@127.0.0.1/d?sslmode=disable",
            "postgresql://u:pw@127.1.2.3/d?sslmode=disable",
            "postgresql://u:pw@localhost/d?sslmode=disable",
            "postgresql://u:pw@LOCALHOST./d",
            "postgresql://u:pw@[::1]:5432/d?sslmode=disable",
            "postgresql://u:pw@[::ffff:127.0.0.1]/d",
            "postgresql://u:pw@%2Fvar%2Frun%2Fpostgresql/d",
            "postgresql://u:pw@/d?host=/var/run/postgresql&sslmode=disable",
            "postgresql://u:pw@db.example/d?hostaddr=127.0.0.1&sslmode=disable",
            "postgresql:///d",
        ] {
            assert_eq!(refusal(url), None, "{url}");
        }
        assert!(!target("postgresql://u@%2Frun%2Fpg/d?sslmode=require").uses_tls());
    }

    #[test]
    fn another_machine_needs_encryption() {
        for url in [
            "postgresql://u:secret-pw@192.0.2.1/d",
            "postgresql://u:secret-pw@192.0.2.1/d?sslmode=disable",
            "postgresql://u:secret-pw@192.0.2.1/d?sslmode=prefer",
            "postgresql://u:secret-pw@192.0.2.1/d?sslmode=allow",
            "postgresql://u:secret-pw@db.example/d",
            "postgresql://u:secret-pw@localhost.example/d",
            "postgresql://u:secret-pw@[2001:db8::1]/d",
            "postgresql://u:secret-pw@127.0.0.1,192.0.2.1/d",
            "postgresql://u:secret-pw@localhost/d?hostaddr=192.0.2.1",
            "postgresql://u:secret-pw@/d?host=/run/pg&host=192.0.2.1",
        ] {
            let error = refusal(url).unwrap_or_else(|| panic!("{url} was not refused"));
            assert!(error.contains("sslmode=verify-full") && error.contains("sslmode=require"), "{error}");
            assert!(!error.contains("secret-pw") && !error.contains("u:"), "{error}");
        }
        let error = refusal("postgresql://u:pw@192.0.2.1/d").unwrap();
        assert!(error.contains("server 192.0.2.1 is") && error.contains("no sslmode"), "{error}");
        let error = refusal("postgresql://u:pw@[2001:db8::1]/d?sslmode=disable").unwrap();
        assert!(error.contains("server 2001:db8::1 is") && error.contains("with sslmode=disable"), "{error}");
        // An unescaped `@` in the password makes a piece of it look like the host: not quoted.
        let error = refusal("postgresql://u:secret@pw-part@192.0.2.1/d").unwrap();
        assert!(!error.contains("pw-part") && error.contains("server named in the URL"), "{error}");
        for mode in ["require", "verify-ca", "verify-full"] {
            assert_eq!(refusal(&format!("postgresql://u:pw@192.0.2.1/d?sslmode={mode}")), None, "{mode}");
        }
    }
}
