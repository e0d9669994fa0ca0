//! How each action is said, in one table: the module's sentences (`msg`), the command-line
//! tool's per-user lines and the totals of a list, done and (in check mode) to be done.

use homeserver::UserId;

use crate::plan::{AccountState, Action, Note};

/// The words of one kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wording {
    /// In a sentence, to be done / done: "create" / "created".
    pub verb: (&'static str, &'static str),
    /// What follows the verb; `{user}` is the user ID.
    pub object: &'static str,
    /// In a per-user line, to be done / done: "change password" / "password changed".
    pub line: (&'static str, &'static str),
    /// In the totals, to be done / done: "password to change" / "password changed".
    pub total: (&'static str, &'static str),
}

const CREATE: Wording = Wording {
    verb: ("create", "created"),
    object: "{user}",
    line: ("create", "created"),
    total: ("to create", "created"),
};
const PROMOTE: Wording = Wording {
    verb: ("promote", "promoted"),
    object: "{user} to admin",
    line: ("promote", "promoted"),
    total: ("to promote", "promoted"),
};
const DEMOTE: Wording = Wording {
    verb: ("demote", "demoted"),
    object: "{user} from admin",
    line: ("demote", "demoted"),
    total: ("to demote", "demoted"),
};
const SET_PASSWORD: Wording = Wording {
    verb: ("change", "changed"),
    object: "the password of {user}",
    line: ("change password", "password changed"),
    total: ("password to change", "password changed"),
};
const ADD_EMAIL: Wording = Wording {
    verb: ("add", "added"),
    object: "a verified email address to {user}",
    line: ("add email", "email added"),
    total: ("email to add", "email added"),
};

const SET_DISPLAYNAME: Wording = Wording {
    verb: ("set", "set"),
    object: "the display name of {user}",
    line: ("set display name", "display name set"),
    total: ("display name to set", "display name set"),
};

const LOCK: Wording =
    Wording { verb: ("lock", "locked"), object: "{user}", line: ("lock", "locked"), total: ("to lock", "locked") };
const UNLOCK: Wording = Wording {
    verb: ("unlock", "unlocked"),
    object: "{user}",
    line: ("unlock", "unlocked"),
    total: ("to unlock", "unlocked"),
};
const DEACTIVATE: Wording = Wording {
    verb: ("deactivate", "deactivated"),
    object: "{user}",
    line: ("deactivate", "deactivated"),
    total: ("to deactivate", "deactivated"),
};
const DEACTIVATE_ERASE: Wording = Wording {
    verb: ("deactivate and erase", "deactivated and erased"),
    object: "{user}",
    line: ("deactivate and erase", "deactivated and erased"),
    total: ("to deactivate and erase", "deactivated and erased"),
};
const REACTIVATE: Wording = Wording {
    verb: ("reactivate", "reactivated"),
    object: "{user} with the password",
    line: ("reactivate", "reactivated"),
    total: ("to reactivate", "reactivated"),
};

/// Accounts left as they were, and accounts that failed: counted in the totals.
pub const UNCHANGED: &str = "unchanged";
pub const FAILED: &str = "failed";

fn pick(pair: (&'static str, &'static str), done: bool) -> &'static str {
    if done {
        pair.1
    } else {
        pair.0
    }
}

impl Action {
    /// The words of this action.
    pub fn wording(self) -> Wording {
        match self {
            Action::Create { .. } | Action::CreateUnlessExists { .. } => CREATE,
            Action::SetAdmin(true) => PROMOTE,
            Action::SetAdmin(false) => DEMOTE,
            Action::SetPassword => SET_PASSWORD,
            Action::AddEmail => ADD_EMAIL,
            Action::SetDisplayname => SET_DISPLAYNAME,
            Action::Lock => LOCK,
            Action::Unlock => UNLOCK,
            Action::Deactivate { erase: false } => DEACTIVATE,
            Action::Deactivate { erase: true } => DEACTIVATE_ERASE,
            Action::Reactivate => REACTIVATE,
        }
    }

    /// "created @john:example.com as an admin", "promote @john:example.com to admin".
    pub fn sentence(self, user: &UserId, done: bool) -> String {
        let wording = self.wording();
        let admin = matches!(self, Action::Create { admin: true } | Action::CreateUnlessExists { admin: true });
        format!(
            "{} {}{}",
            pick(wording.verb, done),
            wording.object.replace("{user}", &user.to_string()),
            if admin { " as an admin" } else { "" }
        )
    }

    /// "created", "change password": the action in a per-user line.
    pub fn line_word(self, done: bool) -> &'static str {
        pick(self.wording().line, done)
    }
}

/// The totals' label of a count: the created count is "created" or, in check mode, "to create".
pub fn total_word(wording: Wording, done: bool) -> &'static str {
    pick(wording.total, done)
}

impl Note {
    /// "@john:example.com is missing: nothing to lock".
    pub fn sentence(self, user: &UserId) -> String {
        match self {
            Note::Missing(AccountState::Locked) => format!("{user} is missing: nothing to lock"),
            Note::Missing(_) => format!("{user} is missing: nothing to deactivate"),
            Note::DeactivatedNotLocked => format!(
                "{user} is deactivated, which keeps it from logging in as a lock would: left deactivated (locking \
                 it would need it reactivated first)"
            ),
        }
    }
}

/// The kinds of change in the order totals list them.
pub(crate) const TOTALS_ORDER: [Wording; 11] = [
    CREATE,
    PROMOTE,
    DEMOTE,
    SET_PASSWORD,
    ADD_EMAIL,
    SET_DISPLAYNAME,
    LOCK,
    UNLOCK,
    DEACTIVATE,
    DEACTIVATE_ERASE,
    REACTIVATE,
];
