//! The review workflow (R2.2): submit → secrecy review → editorial review → published (at
//! once, or at a scheduled time), rejection with a reason at either review, and taking a
//! document off the public site. Each step checks the state and the actor's role, changes
//! state and records the step in one command; the rules themselves are pure functions in
//! `zhanqun_domain::workflow`.

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use zhanqun_domain::workflow::{DocAction, DocState, UnpublishMode, unpublish_step, workflow_step};

use super::queries::{load_document, load_edition};
use super::{DocumentRow, DocumentView, EditionRow, doc_audit, stale};
use crate::app::App;
use crate::kernel::jobs::{JobCtx, JobKind};
use crate::kernel::time::{fmt_opt, fmt_time, now_ms, parse_time};
use crate::kernel::{Actor, AppError, AppResult, Command, Event, Versioned};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// `submit`, `approve`, `reject` or `unpublish`.
    pub action: String,
    /// A reason (required with `reject`, and with `unpublish` as `withdrawn`).
    pub comment: Option<String>,
    /// RFC 3339; with the editorial `approve`, publish then instead of at once.
    pub publish_at: Option<String>,
    /// With `unpublish`: `withdrawn` (default), `redirect` or `gone`.
    pub mode: Option<String>,
    pub redirect_url: Option<String>,
    /// When given, the transition is refused if the document changed since.
    pub version: Option<i64>,
    /// With `submit`: the editor has checked the wrong expressions (错误表述) the edition
    /// carries and submits it as it is (forbidden ones are never let through).
    pub confirm_expressions: Option<bool>,
}

/// The job payload of a scheduled publication.
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishJob {
    pub document_id: i64,
    pub edition_id: i64,
}

pub const PUBLISH: &str = "publish";

/// Makes `edition_id` the live edition of `doc` now. Handlers of `DocumentPublished` run in
/// this transaction (the index number is assigned with it).
async fn publish_edition(cmd: &mut Command<'_>, doc: &DocumentRow, edition_id: i64, now: i64) -> AppResult<()> {
    let c = cmd.conn();
    if let Some(prev) = doc.live_edition_id.filter(|&p| p != edition_id) {
        sqlx::query("UPDATE editions SET state = 'superseded', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(prev)
            .execute(&mut *c)
            .await?;
    }
    sqlx::query("UPDATE editions SET state = 'published', published_at = $1, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(edition_id)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE documents SET state = 'published', live_edition_id = $1, draft_edition_id = NULL, \
         first_published_at = COALESCE(first_published_at, $2), unpublish_mode = NULL, unpublish_note = NULL, \
         redirect_url = NULL, reject_reason = NULL, updated_at = $2 WHERE id = $3",
    )
    .bind(edition_id)
    .bind(now)
    .bind(doc.id)
    .execute(&mut *c)
    .await?;
    cmd.emit(Event::DocumentPublished { site_id: doc.site_id, document_id: doc.id }).await
}

/// Why a site's "the reviewer is not the author" rule refuses `actor` a review of `edition`,
/// if it does: nobody reviews what they wrote or submitted, and the two reviews of an
/// edition are done by two people.
fn independence_refusal(actor: &Actor, required: bool, doc: &DocumentRow, edition: &EditionRow) -> Option<AppError> {
    let me = actor.user_id?;
    if !required {
        return None;
    }
    let authors = [Some(edition.created_by), edition.submitted_by, Some(doc.created_by)];
    if authors.contains(&Some(me)) {
        return Some(AppError::Forbidden("本站要求审核人不能是作者或报送人，请由其他审核人办理".into()));
    }
    if edition.state == DocState::EditorialReview && edition.secrecy_reviewed_by == Some(me) {
        return Some(AppError::Forbidden(
            "本站要求保密审查和编辑把关由两人分别办理：您已办理本版本的保密审查，请由其他编辑审核员把关".into(),
        ));
    }
    None
}

impl App {
    /// One workflow step: checks the state and the actor's role, changes state and records
    /// the step, all in one command.
    pub async fn transition_document(&self, actor: &Actor, id: i64, input: TransitionInput) -> AppResult<DocumentView> {
        let action = DocAction::parse(&input.action).ok_or_else(|| {
            AppError::field(
                "action",
                "one_of",
                format!("操作「{}」无效，应为 submit、approve、reject 或 unpublish", input.action),
            )
        })?;
        let comment = input.comment.as_deref().map(str::trim).unwrap_or("").to_string();
        if comment.chars().count() > 2000 {
            return Err(AppError::field("comment", "max_length", "意见不能超过 2000 个字符"));
        }
        let now = now_ms();
        let publish_at = match input.publish_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => {
                let t = parse_time(s).ok_or_else(|| {
                    AppError::field(
                        "publish_at",
                        "datetime",
                        format!("定时发布时间「{s}」格式不对，示例：2026-12-01T09:00:00+08:00"),
                    )
                })?;
                if t < now - 60_000 {
                    return Err(AppError::field("publish_at", "future", "定时发布时间已过，请重新选择"));
                }
                Some(t)
            }
        };
        let mut cmd = self.begin(actor).await?;
        let doc = load_document(cmd.conn(), id).await?;
        if let Some(v) = input.version
            && v != doc.version
        {
            return Err(stale(&doc, v));
        }
        let site = crate::sites::load_site(cmd.conn(), doc.site_id).await?;
        if action == DocAction::Unpublish {
            return self.unpublish(cmd, doc, &input, comment).await;
        }
        let Some(edition_id) = doc.draft_edition_id else {
            return Err(AppError::Conflict(format!("文档当前为「{}」，没有待处理的版本", doc.state.label())));
        };
        let edition = load_edition(cmd.conn(), edition_id).await?;
        let from = edition.state;
        let scheduled = publish_at.is_some_and(|t| t > now);
        let step = workflow_step(from, action, scheduled).ok_or_else(|| {
            AppError::Conflict(format!("文档当前为「{}」，不能执行「{}」", from.label(), action.label()))
        })?;
        if publish_at.is_some() && !(action == DocAction::Approve && from == DocState::EditorialReview) {
            return Err(AppError::field("publish_at", "not_applicable", "只有编辑把关通过时才能设定定时发布时间"));
        }
        cmd.require_role(doc.site_id, step.roles).await?;
        if step.is_review
            && let Some(refusal) = independence_refusal(actor, site.require_distinct_reviewer != 0, &doc, &edition)
        {
            return Err(refusal);
        }
        if action == DocAction::Reject && comment.is_empty() {
            return Err(AppError::field("comment", "required", "退回时请填写退回理由"));
        }
        // The 错敏词 gate: what the edition carries is checked as it is submitted.
        let expressions = if action == DocAction::Submit {
            let confirmed = input.confirm_expressions.unwrap_or(false);
            let check = super::checks::check_edition(&self.expressions.load_full(), (&edition).into());
            super::checks::gate(&check, confirmed)?;
            (!check.hits.is_empty()).then(|| super::checks::audit_detail(&check, confirmed))
        } else {
            None
        };
        cmd.claim(Versioned::Documents, doc.id, doc.version).await?;
        match step.to {
            DocState::Published => publish_edition(&mut cmd, &doc, edition_id, now).await?,
            to => {
                let c = cmd.conn();
                sqlx::query(
                    "UPDATE editions SET state = $1, submitted_by = COALESCE($2, submitted_by), publish_at = $3, updated_at = $4, \
                     secrecy_reviewed_by = CASE WHEN $5 THEN $6 ELSE secrecy_reviewed_by END WHERE id = $7",
                )
                .bind(to.as_str())
                .bind(if action == DocAction::Submit { actor.user_id } else { None })
                .bind(if to == DocState::Scheduled { publish_at } else { None })
                .bind(now)
                .bind(action == DocAction::Approve && from == DocState::Submitted)
                .bind(actor.user_id)
                .bind(edition_id)
                .execute(&mut *c)
                .await?;
                let reason = (action == DocAction::Reject).then(|| comment.clone());
                sqlx::query("UPDATE documents SET state = $1, reject_reason = $2, updated_at = $3 WHERE id = $4")
                    .bind(to.as_str())
                    .bind(reason)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            }
        }
        if step.to == DocState::Scheduled {
            let payload = serde_json::to_string(&PublishJob { document_id: id, edition_id })
                .map_err(|e| AppError::Internal(e.into()))?;
            cmd.enqueue(PUBLISH, &payload, publish_at.unwrap_or(now)).await?;
        }
        let mut detail = serde_json::json!({"edition": edition.number, "publish_at": publish_at.map(fmt_time)});
        if let Some(x) = expressions {
            detail["expressions"] = x;
        }
        cmd.audit(
            doc_audit(&doc, action.as_str(), detail)
                .moved(Some(from.as_str()), Some(step.to.as_str()))
                .saying(&comment),
        )
        .await?;
        let doc = load_document(cmd.conn(), id).await?;
        let view = self.document_view(cmd.conn(), &doc).await?;
        cmd.commit().await?;
        Ok(view)
    }

    /// The workflow actions `actor` may take on the document now (`submit`, `approve`,
    /// `reject`, `unpublish`), by the rules [`App::transition_document`] applies: the admin
    /// offers only these.
    pub async fn document_actions(&self, actor: &Actor, id: i64) -> AppResult<Vec<&'static str>> {
        let mut c = self.db.pool.acquire().await?;
        let doc = load_document(&mut c, id).await?;
        let site = crate::sites::load_site(&mut c, doc.site_id).await?;
        let mut out = Vec::new();
        if let Some(eid) = doc.draft_edition_id {
            let edition = load_edition(&mut c, eid).await?;
            for action in [DocAction::Submit, DocAction::Approve, DocAction::Reject] {
                let Some(step) = workflow_step(edition.state, action, false) else { continue };
                if crate::kernel::actor::require_role(&mut c, actor, doc.site_id, step.roles).await.is_err() {
                    continue;
                }
                if step.is_review
                    && independence_refusal(actor, site.require_distinct_reviewer != 0, &doc, &edition).is_some()
                {
                    continue;
                }
                out.push(action.as_str());
            }
        }
        if let Some(l) = doc.live_edition_id
            && load_edition(&mut c, l).await?.state == DocState::Published
            && crate::kernel::actor::require_role(&mut c, actor, doc.site_id, unpublish_step().roles).await.is_ok()
        {
            out.push(DocAction::Unpublish.as_str());
        }
        Ok(out)
    }

    async fn unpublish(
        &self,
        mut cmd: Command<'_>,
        doc: DocumentRow,
        input: &TransitionInput,
        comment: String,
    ) -> AppResult<DocumentView> {
        let live = match doc.live_edition_id {
            Some(l) => Some(load_edition(cmd.conn(), l).await?),
            None => None,
        };
        let Some(live) = live.filter(|l| l.state == DocState::Published) else {
            return Err(AppError::Conflict("文档不在发布状态，无需撤稿".into()));
        };
        cmd.require_role(doc.site_id, unpublish_step().roles).await?;
        let mode_s = input.mode.as_deref().unwrap_or("withdrawn");
        let mode = UnpublishMode::parse(mode_s).ok_or_else(|| {
            AppError::field(
                "mode",
                "one_of",
                format!("撤稿方式「{mode_s}」无效，应为 withdrawn（保留页面并说明）、redirect（跳转）或 gone（删除）"),
            )
        })?;
        let redirect = match mode {
            UnpublishMode::Redirect => {
                let u = input.redirect_url.as_deref().map(str::trim).unwrap_or("");
                let ok = (u.starts_with('/') && !u.starts_with("//"))
                    || url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
                if !ok {
                    return Err(AppError::field(
                        "redirect_url",
                        "url",
                        "跳转地址须为 http(s):// 开头的网址或以 / 开头的站内路径",
                    ));
                }
                Some(u.to_string())
            }
            _ => None,
        };
        if mode == UnpublishMode::Gone {
            let interpretations = crate::disclosure::interpretations::count_for_policy(cmd.conn(), doc.id).await?;
            if interpretations > 0 {
                return Err(AppError::Conflict(format!(
                    "这份政策有 {interpretations} 篇解读与之关联，不能删除；可以改为保留页面并说明（withdrawn），或先处理解读"
                )));
            }
        }
        if mode == UnpublishMode::Withdrawn && comment.is_empty() {
            return Err(AppError::field("comment", "required", "保留页面撤稿时请填写撤稿说明，它将显示在原页面上"));
        }
        let now = now_ms();
        cmd.claim(Versioned::Documents, doc.id, doc.version).await?;
        let c = cmd.conn();
        sqlx::query("UPDATE editions SET state = 'unpublished', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(live.id)
            .execute(&mut *c)
            .await?;
        let state = match doc.draft_edition_id {
            Some(_) => doc.state,
            None => DocState::Unpublished,
        };
        sqlx::query(
            "UPDATE documents SET state = $1, unpublish_mode = $2, unpublish_note = $3, redirect_url = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(state.as_str())
        .bind(mode.as_str())
        .bind(&comment)
        .bind(&redirect)
        .bind(now)
        .bind(doc.id)
        .execute(&mut *c)
        .await?;
        let detail = serde_json::json!({"edition": live.number, "mode": mode.as_str(), "redirect_url": redirect});
        cmd.audit(doc_audit(&doc, "unpublish", detail).moved(Some("published"), Some("unpublished")).saying(&comment))
            .await?;
        cmd.emit(match mode {
            UnpublishMode::Gone => Event::DocumentDeleted { site_id: doc.site_id, document_id: doc.id },
            m => Event::DocumentWithdrawn {
                site_id: doc.site_id,
                document_id: doc.id,
                redirected: m == UnpublishMode::Redirect,
            },
        })
        .await?;
        let doc = load_document(cmd.conn(), doc.id).await?;
        let view = self.document_view(cmd.conn(), &doc).await?;
        cmd.commit().await?;
        Ok(view)
    }

    /// Runs a due scheduled publication. Does nothing when the edition was rejected or
    /// replaced meanwhile, or is already published (a job run again after a crash).
    async fn run_publication(&self, job: &PublishJob) -> AppResult<()> {
        let actor = Actor::system("定时发布");
        let mut cmd = self.begin(&actor).await?;
        let Some(doc) = super::find_document(cmd.conn(), job.document_id).await? else { return Ok(()) };
        if doc.draft_edition_id != Some(job.edition_id) {
            return Ok(());
        }
        let e = load_edition(cmd.conn(), job.edition_id).await?;
        if e.state != DocState::Scheduled {
            return Ok(());
        }
        let now = now_ms();
        cmd.claim(Versioned::Documents, doc.id, doc.version).await?;
        publish_edition(&mut cmd, &doc, e.id, now).await?;
        let detail = serde_json::json!({"edition": e.number, "publish_at": fmt_opt(e.publish_at)});
        cmd.audit(doc_audit(&doc, "publish", detail).moved(Some("scheduled"), Some("published"))).await?;
        cmd.commit().await
    }
}

/// Publishes a scheduled edition when its time comes.
pub struct ScheduledPublication;

impl JobKind for ScheduledPublication {
    fn name(&self) -> &'static str {
        PUBLISH
    }

    fn label(&self) -> &'static str {
        "定时发布"
    }

    fn backoff(&self, attempts: i64) -> std::time::Duration {
        // A publication that fails is tried again soon: readers are waiting for it.
        std::time::Duration::from_secs(5u64.saturating_mul(1 << attempts.clamp(0, 6)))
    }

    fn run<'a>(&'a self, ctx: &'a JobCtx, payload: &'a str) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let job: PublishJob = serde_json::from_str(payload)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("bad publish job payload: {e}")))?;
            ctx.app.run_publication(&job).await
        })
    }
}
