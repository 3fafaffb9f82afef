//! Named states stored as text: each parses back into its enum or fails loudly. A value the
//! program does not know (a row written by a newer version, or edited by hand) is an error,
//! never silently read as some default state.

/// A stored name that is not one of its enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} in the database")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// Implements `TryFrom<String>` (what `sqlx`'s `#[sqlx(try_from = "String")]` calls) from
/// each enum's own `parse`.
macro_rules! stored {
    ($($ty:ty => $what:literal),* $(,)?) => {
        $(impl TryFrom<String> for $ty {
            type Error = UnknownValue;
            fn try_from(value: String) -> Result<Self, UnknownValue> {
                <$ty>::parse(&value).ok_or(UnknownValue { what: $what, value })
            }
        })*
    };
}

use crate::calendar::DayKind;
use crate::column::{ColumnKind, ColumnStatus};
use crate::mailbox::{Channel, LetterState};
use crate::site::{SiteKind, SiteState};
use crate::workflow::{DocState, Role, UnpublishMode};

stored!(
    SiteKind => "site kind",
    SiteState => "site state",
    ColumnKind => "column kind",
    ColumnStatus => "column status",
    DocState => "document state",
    UnpublishMode => "unpublish mode",
    Role => "role",
    Channel => "mailbox channel",
    LetterState => "letter state",
    DayKind => "calendar day kind",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_parse_back_or_fail() {
        assert_eq!(SiteState::try_from("online".to_string()), Ok(SiteState::Online));
        assert_eq!(DocState::try_from("editorial_review".to_string()), Ok(DocState::EditorialReview));
        let e = SiteState::try_from("onlin".to_string()).unwrap_err();
        assert_eq!(e.to_string(), "unknown site state \"onlin\" in the database");
    }
}
