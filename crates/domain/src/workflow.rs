//! The publishing workflow (R2.2): submit → secrecy review (保密审查) → editorial review
//! (编辑把关) → published, with rejection back to draft at either review.

use serde::{Deserialize, Serialize};

/// A role a person holds on one site. System administrators hold every right everywhere
/// and are not a site role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SiteAdmin,
    Editor,
    SecrecyReviewer,
    EditorialReviewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::SiteAdmin, Role::Editor, Role::SecrecyReviewer, Role::EditorialReviewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SiteAdmin => "site_admin",
            Role::Editor => "editor",
            Role::SecrecyReviewer => "secrecy_reviewer",
            Role::EditorialReviewer => "editorial_reviewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::SiteAdmin => "站点管理员",
            Role::Editor => "编辑",
            Role::SecrecyReviewer => "保密审查员",
            Role::EditorialReviewer => "编辑审核员",
        }
    }
}

/// The workflow state of an edition (and of its document, taken from the edition being worked on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocState {
    /// Being written or returned with a reason.
    Draft,
    /// Submitted and waiting for secrecy review.
    Submitted,
    /// Passed secrecy review, waiting for editorial review.
    EditorialReview,
    /// Passed both reviews; goes live at its publish time.
    Scheduled,
    /// Live on the public site.
    Published,
    /// Replaced by a newer published edition (editions only).
    Superseded,
    /// Taken off the public site.
    Unpublished,
}

impl DocState {
    pub const ALL: [DocState; 7] = [
        DocState::Draft,
        DocState::Submitted,
        DocState::EditorialReview,
        DocState::Scheduled,
        DocState::Published,
        DocState::Superseded,
        DocState::Unpublished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocState::Draft => "draft",
            DocState::Submitted => "submitted",
            DocState::EditorialReview => "editorial_review",
            DocState::Scheduled => "scheduled",
            DocState::Published => "published",
            DocState::Superseded => "superseded",
            DocState::Unpublished => "unpublished",
        }
    }

    pub fn parse(s: &str) -> Option<DocState> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            DocState::Draft => "草稿",
            DocState::Submitted => "待保密审查",
            DocState::EditorialReview => "待编辑把关",
            DocState::Scheduled => "定时发布",
            DocState::Published => "已发布",
            DocState::Superseded => "已被新版本取代",
            DocState::Unpublished => "已撤稿",
        }
    }

    /// Whether the edition's content may still be edited.
    pub fn is_editable(self) -> bool {
        self == DocState::Draft
    }
}

/// Workflow actions on the edition being worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocAction {
    Submit,
    Approve,
    Reject,
    Unpublish,
}

impl DocAction {
    pub const ALL: [DocAction; 4] = [DocAction::Submit, DocAction::Approve, DocAction::Reject, DocAction::Unpublish];

    pub fn as_str(self) -> &'static str {
        match self {
            DocAction::Submit => "submit",
            DocAction::Approve => "approve",
            DocAction::Reject => "reject",
            DocAction::Unpublish => "unpublish",
        }
    }

    pub fn parse(s: &str) -> Option<DocAction> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            DocAction::Submit => "报送",
            DocAction::Approve => "审核通过",
            DocAction::Reject => "退回",
            DocAction::Unpublish => "撤稿",
        }
    }
}

/// What a workflow step needs and where it leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub to: DocState,
    /// Any one of these roles on the document's site permits the step.
    pub roles: &'static [Role],
    /// The step is a review, so a site's "reviewer is not the author" rule applies.
    pub is_review: bool,
}

/// The step `action` takes from a working edition in state `from`; `scheduled` says the
/// editorial approval names a future publish time. `None` when the workflow forbids it.
/// Unpublishing acts on the live edition and is decided by [`unpublish_step`].
pub fn workflow_step(from: DocState, action: DocAction, scheduled: bool) -> Option<Step> {
    use DocState::*;
    const EDITOR: &[Role] = &[Role::Editor, Role::SiteAdmin];
    const SECRECY: &[Role] = &[Role::SecrecyReviewer];
    const EDITORIAL: &[Role] = &[Role::EditorialReviewer];
    match (action, from) {
        (DocAction::Submit, Draft) => Some(Step { to: Submitted, roles: EDITOR, is_review: false }),
        (DocAction::Approve, Submitted) => Some(Step { to: EditorialReview, roles: SECRECY, is_review: true }),
        (DocAction::Approve, EditorialReview) => {
            Some(Step { to: if scheduled { Scheduled } else { Published }, roles: EDITORIAL, is_review: true })
        }
        (DocAction::Reject, Submitted) => Some(Step { to: Draft, roles: SECRECY, is_review: true }),
        (DocAction::Reject, EditorialReview | Scheduled) => Some(Step { to: Draft, roles: EDITORIAL, is_review: true }),
        _ => None,
    }
}

/// Who may take a live edition off the public site.
pub fn unpublish_step() -> Step {
    Step { to: DocState::Unpublished, roles: &[Role::EditorialReviewer, Role::SiteAdmin], is_review: false }
}

/// How a document leaves the public site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnpublishMode {
    /// The page stays with a notice saying it was withdrawn and why.
    Withdrawn,
    /// The address answers 301 to another address.
    Redirect,
    /// The address answers 410 Gone.
    Gone,
}

impl UnpublishMode {
    pub fn as_str(self) -> &'static str {
        match self {
            UnpublishMode::Withdrawn => "withdrawn",
            UnpublishMode::Redirect => "redirect",
            UnpublishMode::Gone => "gone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [UnpublishMode::Withdrawn, UnpublishMode::Redirect, UnpublishMode::Gone].into_iter().find(|m| m.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocState::*;

    #[test]
    fn the_happy_path_needs_both_reviews() {
        let s = workflow_step(Draft, DocAction::Submit, false).unwrap();
        assert_eq!(s.to, Submitted);
        let s = workflow_step(Submitted, DocAction::Approve, false).unwrap();
        assert_eq!((s.to, s.roles), (EditorialReview, &[Role::SecrecyReviewer][..]));
        let s = workflow_step(EditorialReview, DocAction::Approve, false).unwrap();
        assert_eq!((s.to, s.roles), (Published, &[Role::EditorialReviewer][..]));
        assert_eq!(workflow_step(EditorialReview, DocAction::Approve, true).unwrap().to, Scheduled);
    }

    #[test]
    fn nothing_skips_a_step() {
        assert!(workflow_step(Draft, DocAction::Approve, false).is_none());
        assert!(workflow_step(Published, DocAction::Approve, false).is_none());
        assert!(workflow_step(Submitted, DocAction::Submit, false).is_none());
        assert!(workflow_step(Draft, DocAction::Reject, false).is_none());
        assert!(workflow_step(Published, DocAction::Unpublish, false).is_none(), "unpublish is not a workflow step");
    }

    #[test]
    fn rejection_goes_back_to_draft_from_either_review() {
        assert_eq!(workflow_step(Submitted, DocAction::Reject, false).unwrap().to, Draft);
        assert_eq!(workflow_step(EditorialReview, DocAction::Reject, false).unwrap().to, Draft);
        assert_eq!(workflow_step(Scheduled, DocAction::Reject, false).unwrap().to, Draft);
    }

    #[test]
    fn names_round_trip() {
        for s in DocState::ALL {
            assert_eq!(DocState::parse(s.as_str()), Some(s));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
