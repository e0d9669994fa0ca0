//! Exact mode: the accounts a directory does not name are brought to a declared state. Which
//! ones ([`unlisted`]) and whether there are too many ([`MaxChanges`]) are pure decisions,
//! tested as tables; the run carries them out as items of [`crate::ensure_many`].

use std::collections::{HashMap, HashSet};

use homeserver::{Account, Backend, Listed, UserId};

use crate::plan::AccountState;

/// What exact mode is asked to do with the accounts the list does not name.
#[derive(Debug, Clone)]
pub struct Exact {
    pub absent: AbsentState,
    pub keep: Keep,
    pub max_changes: MaxChanges,
}

/// Why exact mode did not run: nothing was changed, for the listed users either.
#[derive(Debug, Clone, PartialEq)]
pub enum ExactError {
    /// This backend cannot list every account.
    CannotList,
    /// Listing the accounts (or telling an appservice's) failed: never pruned on a partial view.
    Homeserver(homeserver::Error),
    /// More accounts to prune than `max_changes` allows.
    TooMany { count: usize, limit: u64, max_changes: MaxChanges, accounts: usize },
}

impl ExactError {
    /// The message, naming the guard as the front end does (`max_changes`, `--max-changes`).
    pub fn message(&self, max_changes_name: &str) -> String {
        match self {
            ExactError::TooMany { .. } => self.to_string().replace("max_changes", max_changes_name),
            _ => self.to_string(),
        }
    }
}

impl std::fmt::Display for ExactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExactError::CannotList => f.write_str(
                "exact mode needs a listing of every account on the server, which this backend cannot give; nothing \
                 was changed",
            ),
            ExactError::Homeserver(e) => write!(f, "exact mode needs a full listing of the server's accounts: {e}"),
            ExactError::TooMany { count, limit, max_changes, accounts } => write!(
                f,
                "exact mode would prune {count} of the server's {accounts} accounts, more than max_changes \
                 ({max_changes}: {limit}) allows; nothing was changed"
            ),
        }
    }
}

/// The server's accounts as listed, and those to prune (in the listing's order).
#[derive(Debug)]
pub struct Pruning {
    pub accounts: HashMap<String, Account>,
    pub pruned: Vec<UserId>,
}

/// Lists every account, picks the unlisted ones to prune (asking the server whether a candidate
/// is an appservice's where the listing does not say) and checks them against `max_changes`.
/// Writes nothing.
pub async fn select<B: Backend>(backend: &B, named: &HashSet<&str>, exact: &Exact) -> Result<Pruning, ExactError> {
    let mut everyone = backend.list_everyone().await.map_err(ExactError::Homeserver)?.ok_or(ExactError::CannotList)?;
    let mut pruned = Vec::new();
    for account in &mut everyone {
        let why = spared(account, named, &exact.keep, exact.absent);
        let ask = why == Some(Spared::Appservice) && account.appservice.is_none();
        if why.is_some() && !ask {
            continue;
        }
        // A name the server holds but this tool would not register cannot be acted on.
        let Ok(user) = UserId::parse(&account.localpart, backend.server_name(), &backend.rules()) else { continue };
        if ask {
            account.appservice = backend.appservice(&user).await.map_err(ExactError::Homeserver)?;
        }
        if spared(account, named, &exact.keep, exact.absent).is_none() {
            pruned.push(user);
        }
    }
    let limit = exact.max_changes.limit(everyone.len());
    if pruned.len() as u64 > limit {
        return Err(ExactError::TooMany {
            count: pruned.len(),
            limit,
            max_changes: exact.max_changes,
            accounts: everyone.len(),
        });
    }
    let accounts = everyone.into_iter().map(|listed| (listed.localpart, listed.account)).collect();
    Ok(Pruning { accounts, pruned })
}

/// The state unlisted accounts are brought to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbsentState {
    Locked,
    Deactivated,
}

impl AbsentState {
    pub fn state(self) -> AccountState {
        match self {
            AbsentState::Locked => AccountState::Locked,
            AbsentState::Deactivated => AccountState::Deactivated { erase: false },
        }
    }

    /// Whether an account is already as this state wants an unlisted one: deactivated is, for
    /// either (a deactivated account cannot log in, and locking it would mean reactivating it).
    fn holds(self, account: &Listed) -> bool {
        account.account.deactivated || (self == AbsentState::Locked && account.account.locked)
    }
}

/// Localpart patterns never pruned unless listed: `*` any run of characters, `?` any one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keep(Vec<String>);

impl Keep {
    pub fn new(patterns: Vec<String>) -> Keep {
        Keep(patterns)
    }

    pub fn matches(&self, localpart: &str) -> bool {
        self.0.iter().any(|pattern| glob(pattern.as_bytes(), localpart.as_bytes()))
    }
}

/// Shell-style matching of `*` and `?`, iterative: no recursion for a hostile pattern to exhaust.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it stands for so far.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == b'?' || *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|c| *c == b'*')
}

/// Why an account the directory does not name is left alone; `None` from [`spared`]: pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spared {
    Named,
    Admin,
    Appservice,
    Guest,
    Kept,
    AlreadyAbsent,
}

/// Whether, and why, an account is left alone by exact mode.
pub fn spared(account: &Listed, named: &HashSet<&str>, keep: &Keep, absent: AbsentState) -> Option<Spared> {
    let localpart = account.localpart.as_str();
    if named.contains(localpart) {
        Some(Spared::Named)
    } else if account.account.admin != Some(false) {
        // An admin, or an account whose flag is unknown: never pruned.
        Some(Spared::Admin)
    } else if account.guest {
        Some(Spared::Guest)
    } else if keep.matches(localpart) {
        Some(Spared::Kept)
    } else if absent.holds(account) {
        Some(Spared::AlreadyAbsent)
    } else if account.appservice != Some(false) {
        // Last: where the listing does not say, only the accounts otherwise pruned are asked about.
        Some(Spared::Appservice)
    } else {
        None
    }
}

/// The accounts to prune: on the server, not named, and not spared, in the listing's order.
pub fn unlisted<'a>(listed: &'a [Listed], named: &HashSet<&str>, keep: &Keep, absent: AbsentState) -> Vec<&'a Listed> {
    listed.iter().filter(|account| spared(account, named, keep, absent).is_none()).collect()
}

/// The most accounts one run may prune: a count, or a share of the server's accounts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxChanges {
    Count(u64),
    Percent(f64),
}

impl MaxChanges {
    /// `25` or `2.5%`; the problem, said for the parameter, otherwise.
    pub fn parse(text: &str) -> Result<MaxChanges, String> {
        let text = text.trim();
        let problem =
            || "must be a count (such as 25) or a percentage of the server's accounts (such as 2%)".to_string();
        match text.strip_suffix('%') {
            Some(percent) => match percent.trim().parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => Ok(MaxChanges::Percent(p)),
                _ => Err(problem()),
            },
            None => text.parse::<u64>().map(MaxChanges::Count).map_err(|_| problem()),
        }
    }

    /// The most accounts to prune on a server of `accounts` accounts.
    pub fn limit(self, accounts: usize) -> u64 {
        match self {
            MaxChanges::Count(count) => count,
            MaxChanges::Percent(percent) => (accounts as f64 * percent / 100.0).floor() as u64,
        }
    }
}

impl std::fmt::Display for MaxChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxChanges::Count(count) => write!(f, "{count}"),
            MaxChanges::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use homeserver::Account;

    use super::*;
    use crate::fake::{Call, Fake, Stored};
    use crate::many::{ensure_listed, Item};
    use crate::plan::{Action, UpdatePassword, Wanted};

    fn account(localpart: &str, admin: Option<bool>, appservice: Option<bool>, guest: bool) -> Listed {
        Listed {
            localpart: localpart.to_string(),
            account: Account { admin, deactivated: false, locked: false, unfinished: false, displayname: None },
            guest,
            appservice,
        }
    }

    fn user(localpart: &str) -> Listed {
        account(localpart, Some(false), Some(false), false)
    }

    #[test]
    fn who_is_spared_and_why() {
        let named: HashSet<&str> = ["alice", "root"].into();
        let keep = Keep::new(vec!["svc-*".into(), "bot?".into()]);
        let locked = Listed { account: Account { locked: true, ..user("x").account }, ..user("locked") };
        let gone = Listed { account: Account { deactivated: true, ..user("x").account }, ..user("gone") };
        use AbsentState::{Deactivated, Locked};
        use Spared::*;
        for (account, absent, expected) in [
            (user("alice"), Locked, Some(Named)),
            // Listed wins over every protection: the directory says what it wants of it.
            (account("root", Some(true), Some(true), false), Locked, Some(Named)),
            (user("bob"), Locked, None),
            (user("bob"), Deactivated, None),
            (account("admin", Some(true), Some(false), false), Locked, Some(Admin)),
            (account("unknown", None, Some(false), false), Locked, Some(Admin)),
            (account("bridge", Some(false), Some(true), false), Locked, Some(Appservice)),
            (account("maybe-bridge", Some(false), None, false), Locked, Some(Appservice)),
            (account("guest", Some(false), Some(false), true), Locked, Some(Guest)),
            (user("svc-backup"), Locked, Some(Kept)),
            (user("bot1"), Locked, Some(Kept)),
            (user("bot12"), Locked, None),
            (locked.clone(), Locked, Some(AlreadyAbsent)),
            (locked, Deactivated, None),
            (gone.clone(), Locked, Some(AlreadyAbsent)),
            (gone, Deactivated, Some(AlreadyAbsent)),
        ] {
            assert_eq!(spared(&account, &named, &keep, absent), expected, "{} {absent:?}", account.localpart);
        }
    }

    fn exact(max_changes: u64) -> Exact {
        Exact {
            absent: AbsentState::Locked,
            keep: Keep::new(vec!["svc-*".into()]),
            max_changes: MaxChanges::Count(max_changes),
        }
    }

    /// alice is listed; bob and erin are plain, unlisted; the others are spared each for a reason.
    fn server() -> Fake {
        Fake::new()
            .listing()
            .with("alice", Stored::new("pw", false))
            .with("bob", Stored::new("pw", false))
            .with("erin", Stored::new("pw", false))
            .with("carol", Stored::new("pw", true))
            .with("bridge", Stored::new("pw", false))
            .with("dave", Stored { locked: true, ..Stored::new("pw", false) })
            .with("svc-backup", Stored::new("pw", false))
            .appservice("bridge")
    }

    #[tokio::test]
    async fn select_lists_once_asks_only_about_candidates_and_writes_nothing() {
        let fake = server();
        let pruning = select(&fake, &HashSet::from(["alice"]), &exact(2)).await.unwrap();
        let pruned: Vec<&str> = pruning.pruned.iter().map(UserId::localpart).collect();
        assert_eq!(pruned, ["bob", "erin"]);
        assert_eq!(pruning.accounts.len(), 7);
        // One listing; the appservice question only for the three otherwise pruned.
        let calls: Vec<(Call, String)> = fake.calls();
        assert_eq!(calls.iter().filter(|(call, _)| *call == Call::List).count(), 1);
        let asked: Vec<&str> =
            calls.iter().filter(|(call, _)| *call == Call::LookUp).map(|(_, name)| name.as_str()).collect();
        assert_eq!(asked, ["bob", "bridge", "erin"]);
        assert_eq!(fake.writes(), vec![]);
    }

    #[tokio::test]
    async fn the_guard_and_a_backend_that_cannot_list_refuse_before_any_change() {
        let fake = server();
        let refused = select(&fake, &HashSet::from(["alice"]), &exact(1)).await.unwrap_err();
        assert_eq!(refused, ExactError::TooMany { count: 2, limit: 1, max_changes: MaxChanges::Count(1), accounts: 7 });
        assert!(refused.message("--max-changes").contains("more than --max-changes (1: 1) allows"), "{refused}");
        assert_eq!(fake.writes(), vec![]);
        let unlisting = Fake::new().with("bob", Stored::new("pw", false));
        assert_eq!(select(&unlisting, &HashSet::new(), &exact(5)).await.unwrap_err(), ExactError::CannotList);
        let failing = server().failing(Call::List, None, refused_error());
        assert!(matches!(select(&failing, &HashSet::new(), &exact(5)).await, Err(ExactError::Homeserver(_))));
    }

    fn refused_error() -> homeserver::Error {
        crate::fake::refused("listing the server's users")
    }

    #[tokio::test]
    async fn check_mode_prunes_exactly_what_the_real_run_does() {
        let run = |check_mode: bool| async move {
            let fake = server();
            let pruning = select(&fake, &HashSet::from(["alice"]), &exact(2)).await.unwrap();
            let wanted = Wanted {
                password: None,
                state: AbsentState::Locked.state(),
                admin: None,
                update_password: UpdatePassword::OnCreate,
                displayname: None,
                user_type: None,
                email: None,
            };
            let items: Vec<Item> =
                pruning.pruned.iter().map(|user| Item { user: user.clone(), wanted: wanted.clone() }).collect();
            let outcomes = ensure_listed(&fake, &items, Some(&pruning.accounts), 2, check_mode, |_| ()).await;
            let plans: Vec<_> = outcomes.into_iter().map(|outcome| outcome.unwrap().plan).collect();
            (plans, fake)
        };
        let (check, checked) = run(true).await;
        let (real, done) = run(false).await;
        assert_eq!(check, real);
        assert!(check.iter().all(|plan| plan.actions == vec![Action::Lock]));
        assert_eq!(checked.writes(), vec![]);
        assert!(done.account("bob").unwrap().locked && done.account("erin").unwrap().locked);
        assert!(!done.account("alice").unwrap().locked && !done.account("bridge").unwrap().locked);
        // Run again: nothing left to prune.
        let again = select(&done, &HashSet::from(["alice"]), &exact(0)).await.unwrap();
        assert!(again.pruned.is_empty());
    }

    #[test]
    fn unlisted_keeps_the_listing_order() {
        let listed = vec![user("carol"), user("alice"), user("bob"), account("admin", Some(true), Some(false), false)];
        let named: HashSet<&str> = ["alice"].into();
        let pruned: Vec<&str> = unlisted(&listed, &named, &Keep::default(), AbsentState::Locked)
            .into_iter()
            .map(|a| a.localpart.as_str())
            .collect();
        assert_eq!(pruned, ["carol", "bob"]);
    }

    #[test]
    fn globs() {
        for (pattern, text, matches) in [
            ("*", "", true),
            ("*", "anything", true),
            ("svc-*", "svc-", true),
            ("svc-*", "svc-backup", true),
            ("svc-*", "xsvc-backup", false),
            ("*-bot", "irc-bot", true),
            ("*-bot", "irc-bots", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("?", "a", true),
            ("?", "", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("", "", true),
            ("", "a", false),
        ] {
            assert_eq!(glob(pattern.as_bytes(), text.as_bytes()), matches, "{pattern:?} {text:?}");
        }
        // A pattern of many stars against a long text ends quickly.
        let text = "a".repeat(10_000);
        assert!(!glob(format!("{}b", "*a".repeat(50)).as_bytes(), text.as_bytes()));
    }

    #[test]
    fn max_changes_as_count_or_share() {
        for (text, accounts, limit) in [
            ("0", 1000, 0),
            ("25", 1000, 25),
            (" 7 ", 3, 7),
            ("1%", 10_000, 100),
            ("2.5%", 1000, 25),
            ("10%", 9, 0),
            ("100%", 5, 5),
        ] {
            assert_eq!(MaxChanges::parse(text).unwrap().limit(accounts), limit, "{text} of {accounts}");
        }
        for bad in ["", "-1", "ten", "101%", "-1%", "5 %%", "1e3"] {
            assert!(MaxChanges::parse(bad).unwrap_err().contains("a count (such as 25)"), "{bad:?}");
        }
        assert_eq!(MaxChanges::parse("2.5%").unwrap().to_string(), "2.5%");
    }
}
