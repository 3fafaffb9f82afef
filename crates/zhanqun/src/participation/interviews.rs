//! Online interviews (在线访谈): guests answer questions the public sends in advance and
//! during the interview; questions are moderated; the transcript becomes a document.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::workflow::Role;

use crate::app::App;
use crate::documents::NewDocument;
use crate::kernel::actor::require_role;
use crate::kernel::time::{fmt_local, now_ms, parse_time};
use crate::kernel::{Actor, AppError, AppResult, Audit};

const STAFF: &[Role] = &[Role::Editor, Role::SiteAdmin];

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInterview {
    pub title: String,
    pub guests: String,
    /// RFC 3339.
    pub starts_at: String,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct InterviewQuestion {
    pub id: i64,
    pub author_name: String,
    pub body: String,
    pub status: String,
    pub answer: Option<String>,
    /// RFC 3339, China Standard Time.
    #[serde(serialize_with = "crate::kernel::time::ser_time")]
    #[schema(value_type = String)]
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InterviewView {
    pub id: i64,
    pub site_id: i64,
    pub title: String,
    pub guests: String,
    /// RFC 3339, China Standard Time.
    pub starts_at: String,
    /// The same, as people read it (`2026-12-05 09:30`).
    pub starts_local: String,
    /// `upcoming`, `live` or `ended`.
    pub state: &'static str,
    /// Approved questions, answered or not, in order.
    pub questions: Vec<InterviewQuestion>,
    pub transcript_document_id: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
struct InterviewRow {
    id: i64,
    site_id: i64,
    title: String,
    guests: String,
    starts_at: i64,
    ended_at: Option<i64>,
    transcript_document_id: Option<i64>,
}

impl App {
    async fn interview_row(&self, id: i64) -> AppResult<InterviewRow> {
        sqlx::query_as("SELECT id, site_id, title, guests, starts_at, ended_at, transcript_document_id FROM interviews WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::not_found("在线访谈", id))
    }

    pub async fn create_interview(&self, actor: &Actor, site_id: i64, i: NewInterview) -> AppResult<InterviewView> {
        let mut e = FieldErrors::new();
        e.required("title", "访谈主题", &i.title);
        e.max_chars("title", "访谈主题", &i.title, 200);
        e.required("guests", "嘉宾", &i.guests);
        e.max_chars("guests", "嘉宾", &i.guests, 500);
        let starts = parse_time(&i.starts_at);
        if starts.is_none() {
            e.add("starts_at", "datetime", "访谈时间格式不对，示例：2026-12-01T09:30:00+08:00");
        }
        e.into_result()?;
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site_id).await?;
        cmd.require_role(site_id, STAFF).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO interviews (site_id, title, guests, starts_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(site_id)
        .bind(i.title.trim())
        .bind(i.guests.trim())
        .bind(starts.unwrap_or_default())
        .bind(actor.user_id)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(Some(site_id), "interview", id, "create", serde_json::json!({"title": i.title.trim()})))
            .await?;
        cmd.commit().await?;
        self.interview(id).await
    }

    /// The public view: approved questions with their answers.
    pub async fn interview(&self, id: i64) -> AppResult<InterviewView> {
        let r = self.interview_row(id).await?;
        let questions: Vec<InterviewQuestion> = sqlx::query_as(
            "SELECT id, author_name, body, status, answer, created_at FROM interview_questions WHERE interview_id = $1 AND status IN ('approved', 'answered') ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?;
        let state = if r.ended_at.is_some() {
            "ended"
        } else if now_ms() < r.starts_at {
            "upcoming"
        } else {
            "live"
        };
        Ok(InterviewView {
            id: r.id,
            site_id: r.site_id,
            title: r.title,
            guests: r.guests,
            starts_at: crate::kernel::time::fmt_time(r.starts_at),
            starts_local: fmt_local(r.starts_at),
            state,
            questions,
            transcript_document_id: r.transcript_document_id,
        })
    }

    /// A question from the public, before or during the interview; held for moderation.
    pub async fn ask_question(&self, id: i64, name: &str, contact: &str, body: &str) -> AppResult<i64> {
        let r = self.interview_row(id).await?;
        if r.ended_at.is_some() {
            return Err(AppError::Conflict("访谈已经结束，不再接受提问".into()));
        }
        let mut e = FieldErrors::new();
        e.required("name", "姓名", name);
        e.max_chars("name", "姓名", name, 30);
        e.required("contact", "联系方式", contact);
        e.max_chars("contact", "联系方式", contact, 100);
        e.required("body", "问题", body);
        e.max_chars("body", "问题", body, 1000);
        e.into_result()?;
        let public = Actor::public("公众");
        let mut cmd = self.begin(&public).await?;
        let qid: i64 = sqlx::query_scalar(
            "INSERT INTO interview_questions (interview_id, author_name, author_contact, body, status, created_at) VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id",
        )
        .bind(id)
        .bind(name.trim())
        .bind(self.personal.seal(crate::kernel::personal::Field::QuestionAuthorContact, contact.trim())?)
        .bind(body.trim())
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(
            Audit::event(Some(r.site_id), "interview_question", qid, "ask", serde_json::json!({"interview": id}))
                .moved(None, Some("pending")),
        )
        .await?;
        cmd.commit().await?;
        Ok(qid)
    }

    pub async fn pending_questions(&self, actor: &Actor, id: i64) -> AppResult<Vec<InterviewQuestion>> {
        let r = self.interview_row(id).await?;
        let mut c = self.db.pool.acquire().await?;
        require_role(&mut c, actor, r.site_id, STAFF).await?;
        Ok(sqlx::query_as(
            "SELECT id, author_name, body, status, answer, created_at FROM interview_questions WHERE interview_id = $1 AND status = 'pending' ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *c)
        .await?)
    }

    /// `approve`, `reject`, or `answer` (with the guest's answer; approves too).
    pub async fn handle_question(&self, actor: &Actor, qid: i64, action: &str, answer: Option<&str>) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        let row: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT i.site_id, i.id, q.status FROM interview_questions q JOIN interviews i ON i.id = q.interview_id WHERE q.id = $1",
        )
        .bind(qid)
        .fetch_optional(cmd.conn())
        .await?;
        let (site_id, _, status) = row.ok_or_else(|| AppError::not_found("问题", qid))?;
        cmd.require_role(site_id, STAFF).await?;
        let (to, answer) = match (action, status.as_str()) {
            ("approve", "pending") => ("approved", None),
            ("reject", "pending") => ("rejected", None),
            ("answer", "pending" | "approved") => {
                let a = answer.map(str::trim).unwrap_or("");
                if a.is_empty() {
                    return Err(AppError::field("answer", "required", "请填写嘉宾的回答"));
                }
                ("answered", Some(a.to_string()))
            }
            ("approve" | "reject" | "answer", _) => {
                return Err(AppError::Conflict(format!("问题当前为「{status}」，不能再这样处理")));
            }
            _ => return Err(AppError::field("action", "one_of", "操作应为 approve、reject 或 answer")),
        };
        sqlx::query("UPDATE interview_questions SET status = $1, answer = COALESCE($2, answer), answered_by = COALESCE($3, answered_by) WHERE id = $4")
            .bind(to)
            .bind(&answer)
            .bind(answer.as_ref().map(|_| actor.name.clone()))
            .bind(qid)
            .execute(cmd.conn())
            .await?;
        cmd.audit(Audit {
            site_id: Some(site_id),
            entity: "interview_question",
            entity_id: qid,
            action,
            from_state: Some(&status),
            to_state: Some(to),
            comment: "",
            detail: serde_json::json!({}),
        })
        .await?;
        cmd.commit().await?;
        Ok(())
    }

    /// Ends the interview and writes its transcript as a draft document in `column_id`,
    /// which then goes through secrecy and editorial review like any other.
    pub async fn end_interview(&self, actor: &Actor, id: i64, column_id: i64) -> AppResult<InterviewView> {
        let r = self.interview_row(id).await?;
        if r.ended_at.is_some() {
            return Err(AppError::Conflict("访谈已经结束".into()));
        }
        let v = self.interview(id).await?;
        let mut body = format!("**访谈嘉宾：** {}\n\n**访谈时间：** {}\n\n", v.guests, v.starts_local);
        for q in v.questions.iter().filter(|q| q.answer.is_some()) {
            body.push_str(&format!(
                "**网友「{}」：** {}\n\n**嘉宾：** {}\n\n",
                // The public's words are text in an official transcript, never links or images.
                crate::kernel::content::markdown_literal(&q.author_name),
                crate::kernel::content::markdown_literal(&q.body),
                q.answer.as_deref().unwrap_or("")
            ));
        }
        let doc = self
            .create_document(
                actor,
                r.site_id,
                NewDocument {
                    title: format!("在线访谈实录：{}", r.title),
                    subtitle: String::new(),
                    source: String::new(),
                    author: String::new(),
                    keywords: "在线访谈".into(),
                    summary: String::new(),
                    body,
                    body_format: "markdown".into(),
                    locale: "zh-CN".into(),
                    columns: vec![column_id],
                    canonical_column_id: None,
                },
            )
            .await?;
        let mut cmd = self.begin(actor).await?;
        let n = sqlx::query(
            "UPDATE interviews SET ended_at = $1, transcript_document_id = $2 WHERE id = $3 AND ended_at IS NULL",
        )
        .bind(now_ms())
        .bind(doc.id)
        .bind(id)
        .execute(cmd.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(AppError::Conflict("访谈已经结束".into()));
        }
        cmd.audit(
            Audit::event(Some(r.site_id), "interview", id, "end", serde_json::json!({"transcript_document": doc.id}))
                .moved(None, Some("ended")),
        )
        .await?;
        cmd.commit().await?;
        self.interview(id).await
    }

    pub async fn list_interviews(&self) -> AppResult<Vec<InterviewView>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM interviews ORDER BY starts_at DESC, id DESC")
            .fetch_all(&self.db.pool)
            .await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.interview(id).await?);
        }
        Ok(out)
    }
}
