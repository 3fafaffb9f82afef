//! The city's one mailbox (R6.1–R6.4): letters, who handles them and by when.

use serde::{Deserialize, Serialize};

/// Where a letter was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 市长信箱
    Mayor,
    /// A body's own mailbox (部门信箱).
    Body,
    /// 咨询
    Consultation,
    /// 投诉
    Complaint,
    /// 建议
    Suggestion,
}

impl Channel {
    pub const ALL: [Channel; 5] =
        [Channel::Mayor, Channel::Body, Channel::Consultation, Channel::Complaint, Channel::Suggestion];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Mayor => "mayor",
            Channel::Body => "body",
            Channel::Consultation => "consultation",
            Channel::Complaint => "complaint",
            Channel::Suggestion => "suggestion",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Mayor => "市长信箱",
            Channel::Body => "部门信箱",
            Channel::Consultation => "咨询",
            Channel::Complaint => "投诉",
            Channel::Suggestion => "建议",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterState {
    Received,
    Assigned,
    Extended,
    Replied,
    NotHandled,
    Closed,
}

impl LetterState {
    pub const ALL: [LetterState; 6] = [
        LetterState::Received,
        LetterState::Assigned,
        LetterState::Extended,
        LetterState::Replied,
        LetterState::NotHandled,
        LetterState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LetterState::Received => "received",
            LetterState::Assigned => "assigned",
            LetterState::Extended => "extended",
            LetterState::Replied => "replied",
            LetterState::NotHandled => "not_handled",
            LetterState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<LetterState> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            LetterState::Received => "已受理",
            LetterState::Assigned => "办理中",
            LetterState::Extended => "延期办理",
            LetterState::Replied => "已答复",
            LetterState::NotHandled => "不予办理",
            LetterState::Closed => "已办结",
        }
    }

    /// Still waiting for an answer.
    pub fn is_open(self) -> bool {
        matches!(self, LetterState::Received | LetterState::Assigned | LetterState::Extended)
    }
}

/// Actions on a letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterAction {
    /// The city office names the handling body and contact person.
    Assign,
    /// The city office moves it to another body; the arrival date stays.
    Transfer,
    /// The body asks for 15 working days instead of 7 (complex case), once.
    Extend,
    Reply,
    /// The body explains why it cannot handle it.
    NotHandled,
    Close,
}

impl LetterAction {
    pub const ALL: [LetterAction; 6] = [
        LetterAction::Assign,
        LetterAction::Transfer,
        LetterAction::Extend,
        LetterAction::Reply,
        LetterAction::NotHandled,
        LetterAction::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LetterAction::Assign => "assign",
            LetterAction::Transfer => "transfer",
            LetterAction::Extend => "extend",
            LetterAction::Reply => "reply",
            LetterAction::NotHandled => "not_handled",
            LetterAction::Close => "close",
        }
    }

    pub fn parse(s: &str) -> Option<LetterAction> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            LetterAction::Assign => "交办",
            LetterAction::Transfer => "转办",
            LetterAction::Extend => "申请延期",
            LetterAction::Reply => "答复",
            LetterAction::NotHandled => "不予办理",
            LetterAction::Close => "办结",
        }
    }

    /// The state this action leads to, or `None` when the letter's state forbids it.
    /// `already_extended` refuses a second extension.
    pub fn apply(self, from: LetterState, already_extended: bool) -> Option<LetterState> {
        use LetterState::*;
        match (self, from) {
            (LetterAction::Assign, Received) => Some(Assigned),
            (LetterAction::Transfer, Assigned | Extended) => Some(from),
            (LetterAction::Extend, Assigned) if !already_extended => Some(Extended),
            (LetterAction::Reply, Assigned | Extended) => Some(Replied),
            (LetterAction::NotHandled, Assigned | Extended) => Some(NotHandled),
            (LetterAction::Close, Replied | NotHandled) => Some(Closed),
            _ => None,
        }
    }
}

/// Working days to answer: 7, or 15 for a complex case (R6.3).
pub const REPLY_DAYS: u32 = 7;
pub const EXTENDED_DAYS: u32 = 15;
/// The national rule: no consultation left unanswered for more than three months.
pub const CONSULTATION_MAX_DAYS: i64 = 90;

/// Query codes: 16 characters from an alphabet without look-alikes, shown in groups of four.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Normalises a query code as a person might type it (spaces, dashes, lower case).
pub fn normalize_code(s: &str) -> Option<String> {
    let c: String = s.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (c.len() == 16 && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

/// `ABCD-EFGH-JKLM-NPQR`.
pub fn format_code(c: &str) -> String {
    c.as_bytes().chunks(4).map(|g| String::from_utf8_lossy(g).into_owned()).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use LetterAction::*;
    use LetterState::*;

    #[test]
    fn the_letter_lifecycle() {
        assert_eq!(Assign.apply(Received, false), Some(Assigned));
        assert_eq!(Extend.apply(Assigned, false), Some(Extended));
        assert_eq!(Extend.apply(Extended, true), None, "an extension is asked once");
        assert_eq!(Extend.apply(Assigned, true), None, "not again after a transfer either");
        assert_eq!(Reply.apply(Extended, true), Some(Replied));
        assert_eq!(Transfer.apply(Extended, true), Some(Extended), "a transfer keeps the state and the dates");
        assert_eq!(Close.apply(Replied, false), Some(Closed));
        assert_eq!(Reply.apply(Closed, false), None, "no reply after closing");
        assert_eq!(Reply.apply(Received, false), None, "assign first");
        assert_eq!(LetterAction::NotHandled.apply(Assigned, false), Some(LetterState::NotHandled));
    }

    #[test]
    fn codes() {
        assert_eq!(normalize_code("abcd-efgh jkmn-pqr2").as_deref(), Some("ABCDEFGHJKMNPQR2"));
        assert_eq!(normalize_code("ABCD-EFGH-JKMN-PQR1"), None, "1 is not in the alphabet");
        assert_eq!(normalize_code("ABC"), None);
        assert_eq!(format_code("ABCDEFGHJKMNPQR2"), "ABCD-EFGH-JKMN-PQR2");
    }
}
