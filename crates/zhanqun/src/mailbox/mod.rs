//! The mailbox (R6.1–R6.4): letters from citizens, assigned to a handling body and a
//! contact person, answered within 7 working days (15 when extended), on record and in
//! public statistics. Writers' names and contacts are seen only by the people handling
//! the letter, and every such look is recorded.

pub mod admin;
pub mod api;
pub mod import;
pub mod public;

use futures_util::future::BoxFuture;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::{fmt_date, parse_date};
use zhanqun_domain::mailbox::{
    CODE_ALPHABET, CONSULTATION_MAX_DAYS, Channel, EXTENDED_DAYS, LetterAction, LetterState, REPLY_DAYS, format_code,
    normalize_code,
};

use crate::app::App;
use crate::kernel::jobs::{JobCtx, JobKind, Recurring};
use crate::kernel::personal::{Field, mask_contact, mask_name};
use crate::kernel::time::{now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit, Event};

#[derive(Debug, Clone, FromRow)]
pub struct LetterRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub to_body_id: Option<i64>,
    pub site_id: Option<i64>,
    pub subject: String,
    pub body: String,
    pub writer_name: String,
    pub writer_contact: String,
    pub may_publish: i64,
    pub code_hash: String,
    #[sqlx(try_from = "String")]
    pub state: LetterState,
    pub held: i64,
    pub handling_body_id: Option<i64>,
    pub contact_person: Option<String>,
    pub arrived_on: String,
    pub due_on: String,
    pub due_estimated: i64,
    pub extended: i64,
    pub extension_reason: Option<String>,
    pub reply: Option<String>,
    pub replied_on: Option<String>,
    pub reply_working_days: Option<i64>,
    pub on_time: Option<i64>,
    pub not_handled_reason: Option<String>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub imported: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// A new letter as a citizen writes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewLetter {
    pub channel: String,
    pub to_body_id: Option<i64>,
    pub site_id: Option<i64>,
    pub subject: String,
    pub body: String,
    pub writer_name: String,
    pub writer_contact: String,
    pub may_publish: bool,
    /// One optional file: (file name, bytes).
    #[serde(skip)]
    pub attachment: Option<(String, Vec<u8>)>,
}

/// A file attached to a letter (seen only by the people handling it).
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct LetterAttachment {
    pub id: i64,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// What anyone may see of a letter (the writer with the code; the public when published).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicLetter {
    pub id: i64,
    pub channel: String,
    pub channel_label: &'static str,
    pub subject: String,
    pub body: String,
    pub state: String,
    pub state_label: &'static str,
    pub handling_body: Option<String>,
    pub arrived_on: String,
    pub due_on: String,
    pub due_estimated: bool,
    pub reply: Option<String>,
    pub replied_on: Option<String>,
    pub not_handled_reason: Option<String>,
    pub rating: Option<i64>,
}

/// What the people handling a letter see, personal data included.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffLetter {
    #[serde(flatten)]
    pub public: PublicLetter,
    pub writer_name: String,
    pub writer_contact: String,
    pub may_publish: bool,
    pub held: bool,
    pub handling_body_id: Option<i64>,
    pub contact_person: Option<String>,
    pub extended: bool,
    pub extension_reason: Option<String>,
    pub overdue: bool,
    pub attachments: Vec<LetterAttachment>,
    pub version: i64,
}

/// A submitted letter: its number and the code to follow it with (shown once).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: i64,
    pub code: String,
    pub due_on: String,
    pub held: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LetterActionInput {
    /// `assign`, `transfer`, `extend`, `reply`, `not_handled` or `close`.
    pub action: String,
    pub body_id: Option<i64>,
    pub contact_person: Option<String>,
    pub reason: Option<String>,
    pub reply: Option<String>,
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct BodyStats {
    pub body_id: i64,
    pub body: String,
    pub received: i64,
    pub replied: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub avg_working_days: Option<f64>,
}

/// A letter late (`overdue`) or due within two working days (`near`) on some day.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Reminder {
    pub letter_id: i64,
    pub subject: String,
    pub kind: String,
    pub handling_body: Option<String>,
    pub handling_body_id: Option<i64>,
}

fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(format!("zhanqun-letter:{code}").as_bytes()))
}

fn new_code() -> String {
    let mut rng = rand::rng();
    (0..16).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect()
}

pub(crate) fn check_contact(c: &str) -> bool {
    let c = c.trim();
    let phone =
        c.len() >= 7 && c.len() <= 20 && c.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'+' || b == b' ');
    let email = c.len() <= 100
        && c.split_once('@').is_some_and(|(u, d)| {
            !u.is_empty() && d.contains('.') && !d.starts_with('.') && !c.contains(char::is_whitespace)
        });
    phone || email
}

impl LetterRow {
    fn public(&self, body_name: Option<String>) -> PublicLetter {
        PublicLetter {
            id: self.id,
            channel: self.channel.as_str().into(),
            channel_label: self.channel.label(),
            subject: self.subject.clone(),
            body: self.body.clone(),
            state: self.state.as_str().into(),
            state_label: self.state.label(),
            handling_body: body_name,
            arrived_on: self.arrived_on.clone(),
            due_on: self.due_on.clone(),
            due_estimated: self.due_estimated != 0,
            reply: self.reply.clone(),
            replied_on: self.replied_on.clone(),
            not_handled_reason: self.not_handled_reason.clone(),
            rating: self.rating,
        }
    }
}

impl App {
    /// Whether the actor is a member of a handling body (handles letters).
    pub async fn handles_letters(&self, actor: &Actor) -> AppResult<bool> {
        let Some(id) = actor.user_id else { return Ok(false) };
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM body_members WHERE user_id = $1")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(n > 0)
    }

    /// What the people handling a letter see. The writer's name and contact are opened
    /// from their sealed form; `whole` is for the one letter someone opened (a look the
    /// caller records), lists show them masked.
    fn staff_view(&self, l: &LetterRow, body: Option<String>, whole: bool) -> AppResult<StaffLetter> {
        let name = self.personal.open(Field::LetterWriterName, &l.writer_name)?;
        let contact = self.personal.open(Field::LetterWriterContact, &l.writer_contact)?;
        let (writer_name, writer_contact) =
            if whole { (name, contact) } else { (mask_name(&name), mask_contact(&contact)) };
        Ok(StaffLetter {
            public: l.public(body),
            writer_name,
            writer_contact,
            may_publish: l.may_publish != 0,
            held: l.held != 0,
            handling_body_id: l.handling_body_id,
            contact_person: l.contact_person.clone(),
            extended: l.extended != 0,
            extension_reason: l.extension_reason.clone(),
            overdue: l.state.is_open() && l.due_on < fmt_date(today()),
            attachments: Vec::new(),
            version: l.version,
        })
    }

    /// Accepts a letter. Returns its query code once; only the code's hash is kept.
    pub async fn submit_letter(&self, l: NewLetter) -> AppResult<Receipt> {
        let mut e = FieldErrors::new();
        let channel = Channel::parse(&l.channel);
        if channel.is_none() {
            e.add("channel", "one_of", "请选择信箱类别");
        }
        if channel == Some(Channel::Body) && l.to_body_id.is_none() {
            e.add("to_body_id", "required", "请选择要写信的部门");
        }
        e.required("subject", "标题", &l.subject);
        e.max_chars("subject", "标题", &l.subject, 100);
        e.required("body", "内容", &l.body);
        e.max_chars("body", "内容", &l.body, 5000);
        e.required("writer_name", "姓名", &l.writer_name);
        e.max_chars("writer_name", "姓名", &l.writer_name, 30);
        if !check_contact(&l.writer_contact) {
            e.add("writer_contact", "contact", "请填写有效的手机号码、电话号码或电子邮箱");
        }
        e.into_result()?;
        let checked = match &l.attachment {
            Some((name, bytes)) => Some((
                crate::kernel::content::check_attachment(name, bytes, self.config.max_attachment_bytes())?,
                hex::encode(Sha256::digest(bytes)),
            )),
            None => None,
        };
        let channel = channel.unwrap_or(Channel::Mayor);
        let contact = l.writer_contact.trim().to_string();
        let contact_index = self.personal.index(&contact);
        let now = now_ms();
        let recent: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM letters WHERE writer_contact_index = $1 AND created_at > $2")
                .bind(&contact_index)
                .bind(now - 3_600_000)
                .fetch_one(&self.db.pool)
                .await?;
        if recent >= 5 {
            return Err(AppError::TooManyAttempts("同一联系方式一小时内最多提交 5 封来信，请稍后再试".into()));
        }
        if let Some(b) = l.to_body_id
            && self.body_name(Some(b)).await?.is_none()
        {
            return Err(AppError::field("to_body_id", "exists", "所选部门不存在"));
        }
        let words: Vec<String> =
            sqlx::query_scalar("SELECT word FROM sensitive_words").fetch_all(&self.db.pool).await?;
        let text = format!("{} {}", l.subject, l.body);
        let held = words.iter().any(|w| !w.is_empty() && text.contains(w.as_str()));
        let arrived = today();
        let due = self
            .calendar
            .load()
            .add_working_days(arrived, REPLY_DAYS)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("calendar range")))?;
        let code = new_code();
        let citizen = Actor::public("来信人");
        let mut cmd = self.begin(&citizen).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO letters (channel, to_body_id, site_id, subject, body, writer_name, writer_contact, may_publish, code_hash, state, held, \
             handling_body_id, arrived_on, due_on, due_estimated, created_at, updated_at, writer_contact_index) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', $10, $11, $12, $13, $14, $15, $15, $16) RETURNING id",
        )
        .bind(channel.as_str())
        .bind(l.to_body_id)
        .bind(l.site_id)
        .bind(l.subject.trim())
        .bind(l.body.trim())
        .bind(self.personal.seal(Field::LetterWriterName, l.writer_name.trim())?)
        .bind(self.personal.seal(Field::LetterWriterContact, &contact)?)
        .bind(i64::from(l.may_publish))
        .bind(code_hash(&code))
        .bind(i64::from(held))
        .bind(l.to_body_id)
        .bind(fmt_date(arrived))
        .bind(fmt_date(due.due))
        .bind(i64::from(due.estimated))
        .bind(now)
        .bind(&contact_index)
        .fetch_one(cmd.conn())
        .await?;
        if let (Some((file, sha)), Some((_, bytes))) = (&checked, &l.attachment) {
            self.blobs.store(sha, bytes).await?;
            sqlx::query(
                "INSERT INTO letter_attachments (letter_id, file_name, media_type, size_bytes, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(&file.file_name)
            .bind(&file.media_type)
            .bind(bytes.len() as i64)
            .bind(sha)
            .bind(now)
            .execute(cmd.conn())
            .await?;
        }
        cmd.audit(
            Audit::event(
                l.site_id,
                "letter",
                id,
                "submit",
                serde_json::json!({"channel": channel.as_str(), "held": held}),
            )
            .moved(None, Some("received")),
        )
        .await?;
        cmd.emit(Event::LetterReceived { letter_id: id, site_id: l.site_id }).await?;
        cmd.commit().await?;
        Ok(Receipt { id, code: format_code(&code), due_on: fmt_date(due.due), held })
    }

    /// What the writer sees with the query code. A wrong code says nothing about any letter.
    pub async fn track_letter(&self, code: &str) -> AppResult<PublicLetter> {
        let not_found = || AppError::NotFound("没有找到这个查询码对应的来信，请核对后重试".into());
        let code = normalize_code(code).ok_or_else(not_found)?;
        let l: LetterRow = sqlx::query_as("SELECT * FROM letters WHERE code_hash = $1")
            .bind(code_hash(&code))
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(not_found)?;
        Ok(l.public(self.body_name(l.handling_body_id).await?))
    }

    /// The writer rates the answer, once.
    pub async fn rate_letter(&self, code: &str, rating: i64, comment: &str) -> AppResult<PublicLetter> {
        if !(1..=5).contains(&rating) {
            return Err(AppError::field("rating", "range", "评价应为 1 到 5 星"));
        }
        let code = normalize_code(code).ok_or_else(|| AppError::NotFound("查询码无效".into()))?;
        let citizen = Actor::public("来信人");
        let mut cmd = self.begin(&citizen).await?;
        let l: LetterRow = sqlx::query_as("SELECT * FROM letters WHERE code_hash = $1")
            .bind(code_hash(&code))
            .fetch_optional(cmd.conn())
            .await?
            .ok_or_else(|| AppError::NotFound("查询码无效".into()))?;
        if l.reply.is_none() && l.not_handled_reason.is_none() {
            return Err(AppError::Conflict("来信尚未答复，暂不能评价".into()));
        }
        if l.rating.is_some() {
            return Err(AppError::Conflict("已经评价过了".into()));
        }
        sqlx::query("UPDATE letters SET rating = $1, rating_comment = $2, updated_at = $3 WHERE id = $4")
            .bind(rating)
            .bind(comment.trim().chars().take(500).collect::<String>())
            .bind(now_ms())
            .bind(l.id)
            .execute(cmd.conn())
            .await?;
        cmd.audit(Audit::event(l.site_id, "letter", l.id, "rate", serde_json::json!({"rating": rating}))).await?;
        cmd.commit().await?;
        self.track_letter(&code).await
    }

    /// A letter with the writer's personal data, for the people handling it; every look is recorded.
    pub async fn get_letter(&self, actor: &Actor, id: i64) -> AppResult<StaffLetter> {
        let l: LetterRow = sqlx::query_as("SELECT * FROM letters WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::not_found("来信", id))?;
        if !self.is_member(actor, l.handling_body_id).await? {
            return Err(AppError::Forbidden("只有承办机构的经办人和市政府办公厅可以查看来信人信息".into()));
        }
        let mut cmd = self.begin(actor).await?;
        cmd.audit(Audit::event(l.site_id, "letter", id, "view_personal_data", serde_json::json!({}))).await?;
        cmd.commit().await?;
        let mut v = self.staff_view(&l, self.body_name(l.handling_body_id).await?, true)?;
        v.attachments = sqlx::query_as("SELECT id, file_name, media_type, size_bytes, sha256 FROM letter_attachments WHERE letter_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(v)
    }

    /// A letter's attachment for the people handling it (the look is recorded).
    pub async fn letter_attachment(&self, actor: &Actor, id: i64) -> AppResult<LetterAttachment> {
        let row: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT a.letter_id, l.handling_body_id FROM letter_attachments a JOIN letters l ON l.id = a.letter_id WHERE a.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        let (letter_id, body) = row.ok_or_else(|| AppError::not_found("附件", id))?;
        if !self.is_member(actor, body).await? {
            return Err(AppError::Forbidden("只有承办机构的经办人和市政府办公厅可以查看来信附件".into()));
        }
        let a: LetterAttachment = sqlx::query_as(
            "SELECT id, file_name, media_type, size_bytes, sha256 FROM letter_attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.db.pool)
        .await?;
        let mut cmd = self.begin(actor).await?;
        cmd.audit(Audit::event(None, "letter", letter_id, "view_attachment", serde_json::json!({"attachment": id})))
            .await?;
        cmd.commit().await?;
        Ok(a)
    }

    /// Letters for the people handling them: `due` = `overdue`, `near` (due within 2 working
    /// days), `consultation_3m` (the national three-month rule), or a state.
    pub async fn list_letters(&self, actor: &Actor, filter: Option<&str>) -> AppResult<Vec<StaffLetter>> {
        let today_s = fmt_date(today());
        let rows: Vec<LetterRow> = if actor.is_admin {
            sqlx::query_as("SELECT * FROM letters ORDER BY due_on, id LIMIT 1000").fetch_all(&self.db.pool).await?
        } else {
            sqlx::query_as(
                "SELECT * FROM letters WHERE handling_body_id IN (SELECT body_id FROM body_members WHERE user_id = $1) ORDER BY due_on, id LIMIT 1000",
            )
            .bind(actor.user_id.unwrap_or_default())
            .fetch_all(&self.db.pool)
            .await?
        };
        let near = self.calendar.load().add_working_days(today(), 2).map(|d| fmt_date(d.due)).unwrap_or_default();
        let three_months_ago =
            today().checked_sub(time::Duration::days(CONSULTATION_MAX_DAYS)).map(fmt_date).unwrap_or_default();
        let mut out = Vec::new();
        for l in rows {
            let open = l.state.is_open();
            let keep = match filter {
                None | Some("") => true,
                Some("overdue") => open && l.due_on < today_s,
                Some("near") => open && l.due_on >= today_s && l.due_on <= near,
                Some("consultation_3m") => {
                    open && l.channel == Channel::Consultation && l.arrived_on < three_months_ago
                }
                Some(s) if LetterState::parse(s).is_some() => l.state.as_str() == s,
                Some(other) => return Err(AppError::field("filter", "one_of", format!("筛选条件「{other}」无效"))),
            };
            if keep {
                let name = self.body_name(l.handling_body_id).await?;
                out.push(self.staff_view(&l, name, false)?);
            }
        }
        Ok(out)
    }

    /// One step of handling a letter, checked, recorded and applied in one transaction.
    pub async fn letter_action(&self, actor: &Actor, id: i64, input: LetterActionInput) -> AppResult<StaffLetter> {
        let action = LetterAction::parse(&input.action).ok_or_else(|| {
            AppError::field("action", "one_of", "操作应为 assign、transfer、extend、reply、not_handled 或 close")
        })?;
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
        let mut cmd = self.begin(actor).await?;
        let l: LetterRow = sqlx::query_as("SELECT * FROM letters WHERE id = $1")
            .bind(id)
            .fetch_optional(cmd.conn())
            .await?
            .ok_or_else(|| AppError::not_found("来信", id))?;
        if let Some(v) = input.version
            && v != l.version
        {
            return Err(AppError::StaleVersion {
                message: "来信已被他人处理，请刷新后再试".into(),
                current_version: l.version,
            });
        }
        let from = l.state;
        let city_office = matches!(action, LetterAction::Assign | LetterAction::Transfer | LetterAction::Close);
        if city_office {
            actor.require_admin().map_err(|_| {
                AppError::Forbidden(format!("「{}」须由市政府办公厅（系统管理员）办理", action.label()))
            })?;
        } else if !self.is_member(actor, l.handling_body_id).await? {
            return Err(AppError::Forbidden(format!("只有承办机构的经办人可以「{}」", action.label())));
        }
        let to = action.apply(from, l.extended != 0).ok_or_else(|| {
            if action == LetterAction::Extend && l.extended != 0 {
                AppError::Conflict("已经申请过延期，不能再次延期".into())
            } else {
                AppError::Conflict(format!("来信当前为「{}」，不能「{}」", from.label(), action.label()))
            }
        })?;
        let now = now_ms();
        let today_d = today();
        let arrived =
            parse_date(&l.arrived_on).ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad arrival date")))?;
        let c = cmd.conn();
        let claimed = sqlx::query(
            "UPDATE letters SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(l.version)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if claimed != 1 {
            return Err(AppError::Conflict("来信刚刚已被他人处理，请刷新后再试".into()));
        }
        let mut detail = serde_json::json!({});
        match action {
            LetterAction::Assign | LetterAction::Transfer => {
                let body = input.body_id.ok_or_else(|| AppError::field("body_id", "required", "请选择承办机构"))?;
                let name = crate::bodies::name_of(&mut *c, body)
                    .await?
                    .ok_or_else(|| AppError::field("body_id", "exists", "承办机构不存在"))?;
                if action == LetterAction::Transfer && Some(body) == l.handling_body_id {
                    return Err(AppError::field("body_id", "different", "转办须转给另一个机构"));
                }
                let person = text(&input.contact_person);
                if person.is_empty() {
                    return Err(AppError::field("contact_person", "required", "请填写联系人"));
                }
                sqlx::query("UPDATE letters SET handling_body_id = $1, contact_person = $2 WHERE id = $3")
                    .bind(body)
                    .bind(&person)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                detail = serde_json::json!({"from_body": l.handling_body_id, "body": body, "body_name": name, "contact_person": person});
            }
            LetterAction::Extend => {
                let reason = text(&input.reason);
                if reason.is_empty() {
                    return Err(AppError::field("reason", "required", "申请延期须说明理由"));
                }
                let due = self
                    .calendar
                    .load()
                    .add_working_days(arrived, EXTENDED_DAYS)
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("calendar range")))?;
                sqlx::query("UPDATE letters SET extended = 1, extension_reason = $1, due_on = $2, due_estimated = $3 WHERE id = $4")
                    .bind(&reason)
                    .bind(fmt_date(due.due))
                    .bind(i64::from(due.estimated))
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                detail = serde_json::json!({"due_on": fmt_date(due.due), "reason": reason});
            }
            LetterAction::Reply | LetterAction::NotHandled => {
                let (field, content) = if action == LetterAction::Reply {
                    ("reply", text(&input.reply))
                } else {
                    ("reason", text(&input.reason))
                };
                if content.is_empty() {
                    let msg = if action == LetterAction::Reply {
                        "请填写答复内容"
                    } else {
                        "不予办理须说明理由"
                    };
                    return Err(AppError::field(field, "required", msg));
                }
                if content.chars().count() > 10_000 {
                    return Err(AppError::field(field, "max_length", "内容不能超过 10000 个字符"));
                }
                let days = i64::from(self.calendar.load().working_days_between(arrived, today_d));
                let on_time = fmt_date(today_d) <= l.due_on;
                let sql = if action == LetterAction::Reply {
                    "UPDATE letters SET reply = $1, replied_on = $2, reply_working_days = $3, on_time = $4 WHERE id = $5"
                } else {
                    "UPDATE letters SET not_handled_reason = $1, replied_on = $2, reply_working_days = $3, on_time = $4 WHERE id = $5"
                };
                sqlx::query(sql)
                    .bind(&content)
                    .bind(fmt_date(today_d))
                    .bind(days)
                    .bind(i64::from(on_time))
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                detail = serde_json::json!({"working_days": days, "on_time": on_time});
            }
            LetterAction::Close => {}
        }
        let comment = text(&input.reason);
        cmd.audit(
            Audit::event(l.site_id, "letter", id, action.as_str(), detail)
                .moved(Some(from.as_str()), Some(to.as_str()))
                .saying(&comment),
        )
        .await?;
        let l: LetterRow = sqlx::query_as("SELECT * FROM letters WHERE id = $1").bind(id).fetch_one(cmd.conn()).await?;
        cmd.commit().await?;
        self.staff_view(&l, self.body_name(l.handling_body_id).await?, false)
    }

    /// Per-body figures for a year, or a month of it (`month` 1–12): received, replied,
    /// on time, overdue and the average working days to a reply.
    pub async fn mailbox_stats(&self, year: i32, month: Option<u32>) -> AppResult<Vec<BodyStats>> {
        if !(2000..=2200).contains(&year) {
            return Err(AppError::field("year", "range", "年份无效"));
        }
        let (from, to) = match month {
            Some(m) if (1..=12).contains(&m) => (format!("{year:04}-{m:02}-01"), format!("{year:04}-{m:02}-31")),
            Some(_) => return Err(AppError::field("month", "range", "月份应为 1 到 12")),
            None => (format!("{year:04}-01-01"), format!("{year:04}-12-31")),
        };
        let today_s = fmt_date(today());
        Ok(sqlx::query_as(
            "SELECT b.id AS body_id, b.name AS body, COUNT(l.id) AS received, \
             CAST(COALESCE(SUM(CASE WHEN l.replied_on IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS replied, \
             CAST(COALESCE(SUM(CASE WHEN l.on_time = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_time, \
             CAST(COALESCE(SUM(CASE WHEN l.on_time = 0 OR (l.replied_on IS NULL AND l.state IN ('received', 'assigned', 'extended') AND l.due_on < $3) THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue, \
             CAST(AVG(l.reply_working_days) AS DOUBLE PRECISION) AS avg_working_days \
             FROM bodies b JOIN letters l ON l.handling_body_id = b.id \
             WHERE l.arrived_on >= $1 AND l.arrived_on <= $2 GROUP BY b.id, b.name ORDER BY b.id",
        )
        .bind(from)
        .bind(to)
        .bind(today_s)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Moves a letter's arrival back (the demo's letters near and past their deadlines).
    pub async fn backdate_letter(&self, id: i64, arrived: time::Date) -> AppResult<()> {
        let due = self.calendar.load().add_working_days(arrived, REPLY_DAYS).map(|d| d.due).unwrap_or(arrived);
        let mut w = self.db.begin_write().await?;
        sqlx::query("UPDATE letters SET arrived_on = $1, due_on = $2 WHERE id = $3")
            .bind(fmt_date(arrived))
            .bind(fmt_date(due))
            .bind(id)
            .execute(w.conn())
            .await?;
        w.commit().await?;
        Ok(())
    }

    /// Reminders recorded for a day, for the letters the caller handles.
    pub async fn reminders(&self, actor: &Actor, day: &str) -> AppResult<Vec<Reminder>> {
        let day =
            parse_date(day).map(fmt_date).ok_or_else(|| AppError::field("day", "date", "日期格式应为 YYYY-MM-DD"))?;
        let rows: Vec<Reminder> = sqlx::query_as(
            "SELECT l.id AS letter_id, l.subject, r.kind, b.name AS handling_body, l.handling_body_id FROM letter_reminders r \
             JOIN letters l ON l.id = r.letter_id LEFT JOIN bodies b ON b.id = l.handling_body_id WHERE r.day = $1 ORDER BY r.kind DESC, l.due_on",
        )
        .bind(day)
        .fetch_all(&self.db.pool)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            if self.is_member(actor, r.handling_body_id).await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Published letters: the writer allowed it, it is answered, and not held.
    pub async fn published_letters(&self, limit: i64) -> AppResult<Vec<PublicLetter>> {
        let rows: Vec<LetterRow> = sqlx::query_as(
            "SELECT * FROM letters WHERE may_publish = 1 AND held = 0 AND reply IS NOT NULL ORDER BY replied_on DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        let mut out = Vec::new();
        for l in rows {
            let name = self.body_name(l.handling_body_id).await?;
            out.push(l.public(name));
        }
        Ok(out)
    }

    pub async fn published_letter(&self, id: i64) -> AppResult<PublicLetter> {
        let l: LetterRow = sqlx::query_as(
            "SELECT * FROM letters WHERE id = $1 AND may_publish = 1 AND held = 0 AND reply IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| AppError::NotFound("该来信未公开".into()))?;
        Ok(l.public(self.body_name(l.handling_body_id).await?))
    }

    /// The words that hold letters for moderation, which only system administrators keep
    /// (and see); others get none.
    pub async fn sensitive_words_for(&self, actor: &Actor) -> AppResult<Vec<String>> {
        if !actor.is_admin {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar("SELECT word FROM sensitive_words ORDER BY word").fetch_all(&self.db.pool).await?)
    }

    /// Words that hold a letter for moderation (never dropped silently).
    pub async fn set_sensitive_words(&self, actor: &Actor, words: &[String]) -> AppResult<Vec<String>> {
        actor.require_admin()?;
        let mut cmd = self.begin(actor).await?;
        sqlx::query("DELETE FROM sensitive_words").execute(cmd.conn()).await?;
        let mut kept = Vec::new();
        for word in words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
            if word.chars().count() > 50 {
                return Err(AppError::field("words", "max_length", format!("敏感词「{word}」过长")));
            }
            if kept.iter().any(|k| k == word) {
                continue;
            }
            sqlx::query("INSERT INTO sensitive_words (word, created_by, created_at) VALUES ($1, $2, $3)")
                .bind(word)
                .bind(&actor.name)
                .bind(now_ms())
                .execute(cmd.conn())
                .await?;
            kept.push(word.to_string());
        }
        cmd.audit(Audit::event(None, "sensitive_words", 0, "replace", serde_json::json!({"count": kept.len()})))
            .await?;
        cmd.commit().await?;
        Ok(kept)
    }

    /// Releases a held letter after moderation.
    pub async fn release_letter(&self, actor: &Actor, id: i64) -> AppResult<()> {
        actor.require_admin()?;
        let mut cmd = self.begin(actor).await?;
        let n = sqlx::query("UPDATE letters SET held = 0, version = version + 1 WHERE id = $1 AND held = 1")
            .bind(id)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::Conflict("该来信不在待审核状态".into()));
        }
        cmd.audit(Audit::event(None, "letter", id, "release", serde_json::json!({}))).await?;
        cmd.commit().await
    }
}

/// The daily reminder run: records today's overdue and near-due letters, once per letter,
/// kind and day (run again, it adds nothing). Comes back every day at 08:00.
pub struct LetterReminders;

impl JobKind for LetterReminders {
    fn name(&self) -> &'static str {
        "letter_reminders"
    }

    fn label(&self) -> &'static str {
        "来信到期提醒"
    }

    fn recurring(&self) -> Option<Recurring> {
        Some(Recurring::DailyAt(8))
    }

    fn run<'a>(&'a self, ctx: &'a JobCtx, _: &'a str) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let n = ctx.app.record_reminders().await?;
            ctx.progress(&format!("记录 {n} 条提醒")).await
        })
    }
}

impl App {
    async fn record_reminders(&self) -> AppResult<usize> {
        let today_d = today();
        let today_s = fmt_date(today_d);
        let near = self
            .calendar
            .load()
            .add_working_days(today_d, 2)
            .map(|d| fmt_date(d.due))
            .unwrap_or_else(|| today_s.clone());
        let open: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, due_on FROM letters WHERE state IN ('received', 'assigned', 'extended') AND due_on <= $1",
        )
        .bind(&near)
        .fetch_all(&self.db.pool)
        .await?;
        let mut n = 0;
        // In batches, so the writer is never held for long.
        for chunk in open.chunks(500) {
            let mut w = self.db.begin_write().await?;
            for (id, due) in chunk {
                let kind = if *due < today_s { "overdue" } else { "near" };
                n += sqlx::query(
                    "INSERT INTO letter_reminders (letter_id, kind, day, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (letter_id, kind, day) DO NOTHING",
                )
                .bind(id)
                .bind(kind)
                .bind(&today_s)
                .bind(now_ms())
                .execute(w.conn())
                .await?
                .rows_affected() as usize;
            }
            w.commit().await?;
        }
        tracing::info!(reminders = n, "letter reminders recorded");
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts() {
        for ok in ["13800138000", "0532-85912345", "+86 138 0013 8000", "li@example.cn"] {
            assert!(check_contact(ok), "{ok}");
        }
        for bad in ["", "abc", "123", "li@", "@x.cn", "a b@c.cn"] {
            assert!(!check_contact(bad), "{bad}");
        }
    }

    #[test]
    fn codes_are_long_and_random() {
        let a = new_code();
        let b = new_code();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert!(normalize_code(&format_code(&a)).is_some());
    }
}
