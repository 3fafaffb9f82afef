//! Consultations on drafts (意见征集) and surveys (网上调查): the public takes part on any
//! site of the cluster; the site's editors moderate and report back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::{fmt_date, parse_date};
use zhanqun_domain::workflow::Role;

pub mod admin;
pub mod api;
pub mod interviews;
pub mod public;

use crate::app::App;
use crate::kernel::actor::require_role;
use crate::kernel::time::{now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

const STAFF: &[Role] = &[Role::Editor, Role::SiteAdmin];

fn check_period(e: &mut FieldErrors, opens: &str, closes: &str) -> Option<(String, String)> {
    let o = parse_date(opens);
    let c = parse_date(closes);
    if o.is_none() {
        e.add("opens_on", "date", "开始日期格式应为 YYYY-MM-DD");
    }
    if c.is_none() {
        e.add("closes_on", "date", "截止日期格式应为 YYYY-MM-DD");
    }
    match (o, c) {
        (Some(o), Some(c)) if c < o => {
            e.add("closes_on", "after_opens", "截止日期不能早于开始日期");
            None
        }
        (Some(o), Some(c)) => Some((fmt_date(o), fmt_date(c))),
        _ => None,
    }
}

/// `upcoming`, `open` or `closed` on today's date (China Standard Time).
fn period_state(opens: &str, closes: &str) -> &'static str {
    let t = fmt_date(today());
    if t.as_str() < opens {
        "upcoming"
    } else if t.as_str() > closes {
        "closed"
    } else {
        "open"
    }
}

// ---------- consultations ----------

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsultation {
    pub title: String,
    pub draft: String,
    pub opens_on: String,
    pub closes_on: String,
}

#[derive(Debug, Clone, FromRow)]
struct ConsultationRow {
    id: i64,
    site_id: i64,
    title: String,
    draft: String,
    opens_on: String,
    closes_on: String,
    feedback: Option<String>,
    feedback_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Comment {
    pub id: i64,
    pub paragraph: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub status: String,
    /// RFC 3339, China Standard Time.
    #[serde(serialize_with = "crate::kernel::time::ser_time")]
    #[schema(value_type = String)]
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Paragraph {
    pub number: i64,
    pub text: String,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsultationView {
    pub id: i64,
    pub site_id: i64,
    pub title: String,
    pub opens_on: String,
    pub closes_on: String,
    pub state: &'static str,
    pub paragraphs: Vec<Paragraph>,
    /// Comments on the draft as a whole.
    pub general_comments: Vec<Comment>,
    pub feedback: Option<String>,
    pub feedback_at: Option<String>,
}

fn paragraphs(draft: &str) -> Vec<String> {
    draft.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

impl App {
    pub async fn create_consultation(
        &self,
        actor: &Actor,
        site_id: i64,
        c: NewConsultation,
    ) -> AppResult<ConsultationView> {
        let mut e = FieldErrors::new();
        e.required("title", "标题", &c.title);
        e.max_chars("title", "标题", &c.title, 200);
        e.required("draft", "征求意见稿", &c.draft);
        e.max_chars("draft", "征求意见稿", &c.draft, 100_000);
        let period = check_period(&mut e, &c.opens_on, &c.closes_on);
        e.into_result()?;
        let (opens, closes) = period.ok_or_else(|| AppError::field("opens_on", "date", "日期无效"))?;
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site_id).await?;
        cmd.require_role(site_id, STAFF).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO consultations (site_id, title, draft, opens_on, closes_on, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(site_id)
        .bind(c.title.trim())
        .bind(c.draft.trim())
        .bind(&opens)
        .bind(&closes)
        .bind(actor.user_id)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(
            Some(site_id),
            "consultation",
            id,
            "create",
            serde_json::json!({"title": c.title.trim(), "opens_on": opens, "closes_on": closes}),
        ))
        .await?;
        cmd.commit().await?;
        self.consultation(id).await
    }

    async fn consultation_row(&self, id: i64) -> AppResult<ConsultationRow> {
        sqlx::query_as("SELECT id, site_id, title, draft, opens_on, closes_on, feedback, feedback_at FROM consultations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::not_found("意见征集", id))
    }

    /// The public view: the draft by paragraph with the approved comments.
    pub async fn consultation(&self, id: i64) -> AppResult<ConsultationView> {
        let c = self.consultation_row(id).await?;
        let comments: Vec<Comment> = sqlx::query_as(
            "SELECT id, paragraph, author_name, body, status, created_at FROM consultation_comments WHERE consultation_id = $1 AND status = 'approved' ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?;
        let paras: Vec<Paragraph> = paragraphs(&c.draft)
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                let n = i as i64 + 1;
                Paragraph {
                    number: n,
                    text,
                    comments: comments.iter().filter(|m| m.paragraph == Some(n)).cloned().collect(),
                }
            })
            .collect();
        Ok(ConsultationView {
            id: c.id,
            site_id: c.site_id,
            title: c.title,
            state: period_state(&c.opens_on, &c.closes_on),
            opens_on: c.opens_on,
            closes_on: c.closes_on,
            paragraphs: paras,
            general_comments: comments.iter().filter(|m| m.paragraph.is_none()).cloned().collect(),
            feedback: c.feedback,
            feedback_at: c.feedback_at.map(crate::kernel::time::fmt_local),
        })
    }

    pub async fn list_consultations(&self, site_id: Option<i64>) -> AppResult<Vec<ConsultationView>> {
        let ids: Vec<i64> = match site_id {
            Some(s) => {
                sqlx::query_scalar("SELECT id FROM consultations WHERE site_id = $1 ORDER BY opens_on DESC, id DESC")
                    .bind(s)
                    .fetch_all(&self.db.pool)
                    .await?
            }
            None => {
                sqlx::query_scalar("SELECT id FROM consultations ORDER BY opens_on DESC, id DESC")
                    .fetch_all(&self.db.pool)
                    .await?
            }
        };
        let mut out = Vec::new();
        for id in ids {
            out.push(self.consultation(id).await?);
        }
        Ok(out)
    }

    /// A comment from the public, held for moderation. `paragraph` None is on the whole draft.
    pub async fn submit_comment(
        &self,
        id: i64,
        paragraph: Option<i64>,
        name: &str,
        contact: &str,
        body: &str,
    ) -> AppResult<i64> {
        let c = self.consultation_row(id).await?;
        if period_state(&c.opens_on, &c.closes_on) != "open" {
            return Err(AppError::Conflict(format!(
                "本次意见征集的时间为 {} 至 {}，现在不在征集期内",
                c.opens_on, c.closes_on
            )));
        }
        let mut e = FieldErrors::new();
        e.required("name", "姓名", name);
        e.max_chars("name", "姓名", name, 30);
        e.required("contact", "联系方式", contact);
        e.max_chars("contact", "联系方式", contact, 100);
        e.required("body", "意见", body);
        e.max_chars("body", "意见", body, 2000);
        if let Some(p) = paragraph
            && !(1..=paragraphs(&c.draft).len() as i64).contains(&p)
        {
            e.add("paragraph", "range", format!("第 {p} 段不存在"));
        }
        e.into_result()?;
        let public = Actor::public("公众");
        let mut cmd = self.begin(&public).await?;
        let cid: i64 = sqlx::query_scalar(
            "INSERT INTO consultation_comments (consultation_id, paragraph, author_name, author_contact, body, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
        )
        .bind(id)
        .bind(paragraph)
        .bind(name.trim())
        .bind(self.personal.seal(crate::kernel::personal::Field::CommentAuthorContact, contact.trim())?)
        .bind(body.trim())
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(
            Audit::event(
                Some(c.site_id),
                "consultation_comment",
                cid,
                "submit",
                serde_json::json!({"consultation": id}),
            )
            .moved(None, Some("pending")),
        )
        .await?;
        cmd.commit().await?;
        Ok(cid)
    }

    /// The moderation queue of a consultation.
    pub async fn pending_comments(&self, actor: &Actor, id: i64) -> AppResult<Vec<Comment>> {
        let c = self.consultation_row(id).await?;
        let mut conn = self.db.pool.acquire().await?;
        require_role(&mut conn, actor, c.site_id, STAFF).await?;
        Ok(sqlx::query_as(
            "SELECT id, paragraph, author_name, body, status, created_at FROM consultation_comments WHERE consultation_id = $1 AND status = 'pending' ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?)
    }

    pub async fn moderate_comment(&self, actor: &Actor, comment_id: i64, approve: bool) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        let row: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT c.site_id, m.status, m.consultation_id FROM consultation_comments m JOIN consultations c ON c.id = m.consultation_id WHERE m.id = $1",
        )
        .bind(comment_id)
        .fetch_optional(cmd.conn())
        .await?;
        let (site_id, status, _) = row.ok_or_else(|| AppError::not_found("意见", comment_id))?;
        cmd.require_role(site_id, STAFF).await?;
        if status != "pending" {
            return Err(AppError::Conflict("这条意见已经审核过了".into()));
        }
        let to = if approve { "approved" } else { "rejected" };
        sqlx::query(
            "UPDATE consultation_comments SET status = $1, moderated_by = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(to)
        .bind(&actor.name)
        .bind(comment_id)
        .execute(cmd.conn())
        .await?;
        cmd.audit(
            Audit::event(Some(site_id), "consultation_comment", comment_id, "moderate", serde_json::json!({}))
                .moved(Some("pending"), Some(to)),
        )
        .await?;
        cmd.commit().await?;
        Ok(())
    }

    /// The feedback report (what was adopted and why not), once the consultation closed.
    pub async fn publish_feedback(&self, actor: &Actor, id: i64, report: &str) -> AppResult<ConsultationView> {
        let c = self.consultation_row(id).await?;
        let mut cmd = self.begin(actor).await?;
        cmd.require_role(c.site_id, STAFF).await?;
        if period_state(&c.opens_on, &c.closes_on) != "closed" {
            return Err(AppError::Conflict(format!("意见征集到 {} 截止，截止后才能发布反馈", c.closes_on)));
        }
        let mut e = FieldErrors::new();
        e.required("report", "反馈情况", report);
        e.max_chars("report", "反馈情况", report, 50_000);
        e.into_result()?;
        sqlx::query("UPDATE consultations SET feedback = $1, feedback_at = $2 WHERE id = $3")
            .bind(report.trim())
            .bind(now_ms())
            .bind(id)
            .execute(cmd.conn())
            .await?;
        cmd.audit(Audit::event(Some(c.site_id), "consultation", id, "feedback", serde_json::json!({}))).await?;
        cmd.commit().await?;
        self.consultation(id).await
    }
}

// ---------- surveys ----------

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// `single`, `multiple`, `scale` or `text`.
    pub kind: String,
    pub prompt: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
    /// Top of a `scale` question (1 to max).
    pub max: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSurvey {
    pub title: String,
    #[serde(default)]
    pub intro: String,
    pub questions: Vec<Question>,
    pub opens_on: String,
    pub closes_on: String,
    /// The stronger rule: one answer per phone number or e-mail address (asked on the form),
    /// instead of one per browser.
    #[serde(default)]
    pub require_contact: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SurveyView {
    pub id: i64,
    pub site_id: i64,
    pub title: String,
    pub intro: String,
    pub questions: Vec<Question>,
    pub opens_on: String,
    pub closes_on: String,
    pub require_contact: bool,
    pub state: &'static str,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OptionCount {
    pub label: String,
    pub count: i64,
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionResult {
    pub prompt: String,
    pub kind: String,
    pub answered: i64,
    pub options: Vec<OptionCount>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SurveyResults {
    pub survey: SurveyView,
    pub responses: i64,
    pub questions: Vec<QuestionResult>,
}

#[derive(Debug, Clone, FromRow)]
struct SurveyRow {
    id: i64,
    site_id: i64,
    title: String,
    intro: String,
    questions: String,
    opens_on: String,
    closes_on: String,
    require_contact: i64,
}

/// Answers by question index: the chosen options' labels, the scale value, or the text.
pub type Answers = BTreeMap<usize, Vec<String>>;

fn check_questions(qs: &[Question], e: &mut FieldErrors) {
    if qs.is_empty() {
        e.add("questions", "required", "至少要有一个问题");
    }
    for (i, q) in qs.iter().enumerate() {
        let f = format!("questions[{i}]");
        if q.prompt.trim().is_empty() {
            e.add(&format!("{f}.prompt"), "required", format!("第 {} 题缺少题目", i + 1));
        }
        match q.kind.as_str() {
            "single" | "multiple" => {
                if q.options.len() < 2 || q.options.iter().any(|o| o.trim().is_empty()) {
                    e.add(&format!("{f}.options"), "options", format!("第 {} 题至少要有两个非空选项", i + 1));
                }
            }
            "scale" => {
                if !q.max.is_some_and(|m| (2..=10).contains(&m)) {
                    e.add(&format!("{f}.max"), "range", format!("第 {} 题的量表上限应为 2 到 10", i + 1));
                }
            }
            "text" => {}
            other => e.add(
                &format!("{f}.kind"),
                "one_of",
                format!("第 {} 题的类型「{other}」无效，应为 single、multiple、scale 或 text", i + 1),
            ),
        }
    }
}

fn voter_hash(survey: i64, token: &str) -> String {
    hex::encode(Sha256::digest(format!("zhanqun-voter:{survey}:{token}").as_bytes()))
}

impl App {
    pub async fn create_survey(&self, actor: &Actor, site_id: i64, s: NewSurvey) -> AppResult<SurveyView> {
        let mut e = FieldErrors::new();
        e.required("title", "标题", &s.title);
        e.max_chars("title", "标题", &s.title, 200);
        e.max_chars("intro", "说明", &s.intro, 5000);
        check_questions(&s.questions, &mut e);
        let period = check_period(&mut e, &s.opens_on, &s.closes_on);
        e.into_result()?;
        let (opens, closes) = period.ok_or_else(|| AppError::field("opens_on", "date", "日期无效"))?;
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site_id).await?;
        cmd.require_role(site_id, STAFF).await?;
        let qs = serde_json::to_string(&s.questions).map_err(|e| AppError::Internal(e.into()))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO surveys (site_id, title, intro, questions, opens_on, closes_on, created_by, created_at, require_contact) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(site_id)
        .bind(s.title.trim())
        .bind(s.intro.trim())
        .bind(qs)
        .bind(&opens)
        .bind(&closes)
        .bind(actor.user_id)
        .bind(now_ms())
        .bind(i64::from(s.require_contact))
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(Some(site_id), "survey", id, "create", serde_json::json!({"title": s.title.trim()})))
            .await?;
        cmd.commit().await?;
        self.survey(id).await
    }

    /// Every survey, newest first.
    pub async fn list_surveys(&self) -> AppResult<Vec<SurveyView>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM surveys ORDER BY id DESC").fetch_all(&self.db.pool).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.survey(id).await?);
        }
        Ok(out)
    }

    pub async fn survey(&self, id: i64) -> AppResult<SurveyView> {
        let row: Option<SurveyRow> = sqlx::query_as(
            "SELECT id, site_id, title, intro, questions, opens_on, closes_on, require_contact FROM surveys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        let r = row.ok_or_else(|| AppError::not_found("网上调查", id))?;
        let questions: Vec<Question> = serde_json::from_str(&r.questions).map_err(|e| AppError::Internal(e.into()))?;
        Ok(SurveyView {
            id: r.id,
            site_id: r.site_id,
            title: r.title,
            intro: r.intro,
            questions,
            state: period_state(&r.opens_on, &r.closes_on),
            opens_on: r.opens_on,
            closes_on: r.closes_on,
            require_contact: r.require_contact != 0,
        })
    }

    /// One answer per voter (a cookie token), or per contact when the survey asks for one;
    /// every required question answered, every choice one of the options.
    pub async fn answer_survey(&self, id: i64, voter: &str, contact: Option<&str>, answers: &Answers) -> AppResult<()> {
        let s = self.survey(id).await?;
        if s.state != "open" {
            return Err(AppError::Conflict(format!(
                "本次调查的时间为 {} 至 {}，现在不在调查期内",
                s.opens_on, s.closes_on
            )));
        }
        let mut e = FieldErrors::new();
        let contact = contact.map(|c| c.trim().to_ascii_lowercase().replace([' ', '-'], "")).unwrap_or_default();
        if s.require_contact && !crate::mailbox::check_contact(&contact) {
            e.add("contact", "contact", "本调查每个手机号或邮箱只能参加一次，请填写有效的手机号码或电子邮箱");
        }
        let voter = if s.require_contact { format!("contact:{contact}") } else { voter.to_string() };
        for (i, q) in s.questions.iter().enumerate() {
            let field = format!("q{i}");
            let a: Vec<&str> = answers
                .get(&i)
                .map(|v| v.iter().map(|x| x.trim()).filter(|x| !x.is_empty()).collect())
                .unwrap_or_default();
            if a.is_empty() {
                if q.required {
                    e.add(&field, "required", format!("请回答第 {} 题", i + 1));
                }
                continue;
            }
            match q.kind.as_str() {
                "single" if a.len() != 1 || !q.options.iter().any(|o| o == a[0]) => {
                    e.add(&field, "one_of", format!("第 {} 题请选择一个选项", i + 1))
                }
                "multiple" if a.iter().any(|x| !q.options.iter().any(|o| o == x)) => {
                    e.add(&field, "one_of", format!("第 {} 题的选项无效", i + 1))
                }
                "scale"
                    if a.len() != 1 || !a[0].parse::<i64>().is_ok_and(|v| (1..=q.max.unwrap_or(5)).contains(&v)) =>
                {
                    e.add(&field, "range", format!("第 {} 题请选择 1 到 {} 之间的分值", i + 1, q.max.unwrap_or(5)))
                }
                "text" if a.iter().map(|x| x.chars().count()).sum::<usize>() > 1000 => {
                    e.add(&field, "max_length", format!("第 {} 题不能超过 1000 个字符", i + 1))
                }
                _ => {}
            }
        }
        e.into_result()?;
        let clean: Answers =
            answers.iter().filter(|(i, _)| **i < s.questions.len()).map(|(i, v)| (*i, v.clone())).collect();
        let json = serde_json::to_string(&clean).map_err(|e| AppError::Internal(e.into()))?;
        let public = Actor::public("公众");
        let mut cmd = self.begin(&public).await?;
        let res = sqlx::query(
            "INSERT INTO survey_responses (survey_id, voter_hash, answers, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(voter_hash(id, &voter))
        .bind(json)
        .bind(now_ms())
        .execute(cmd.conn())
        .await;
        match res {
            Ok(_) => {}
            Err(e) if crate::kernel::db::is_unique_violation(&e) => {
                let who = if s.require_contact {
                    "这个手机号或邮箱已经参加过本次调查"
                } else {
                    "您已经参加过本次调查"
                };
                return Err(AppError::Conflict(format!("{who}，谢谢")));
            }
            Err(e) => return Err(e.into()),
        }
        cmd.commit().await?;
        Ok(())
    }

    /// Counts per option for choice and scale questions; free text is counted, not shown.
    pub async fn survey_results(&self, id: i64) -> AppResult<SurveyResults> {
        let survey = self.survey(id).await?;
        let rows: Vec<String> = sqlx::query_scalar("SELECT answers FROM survey_responses WHERE survey_id = $1")
            .bind(id)
            .fetch_all(&self.db.pool)
            .await?;
        let all: Vec<Answers> = rows
            .iter()
            .map(|r| serde_json::from_str(r))
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored survey answers do not parse: {e}")))?;
        let questions = survey
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let answered = all.iter().filter(|a| a.get(&i).is_some_and(|v| !v.is_empty())).count() as i64;
                let labels: Vec<String> = match q.kind.as_str() {
                    "single" | "multiple" => q.options.clone(),
                    "scale" => (1..=q.max.unwrap_or(5)).map(|v| v.to_string()).collect(),
                    _ => Vec::new(),
                };
                let options = labels
                    .into_iter()
                    .map(|label| {
                        let count = all.iter().filter(|a| a.get(&i).is_some_and(|v| v.contains(&label))).count() as i64;
                        let percent =
                            if answered > 0 { (count as f64 * 1000.0 / answered as f64).round() / 10.0 } else { 0.0 };
                        OptionCount { label, count, percent }
                    })
                    .collect();
                QuestionResult { prompt: q.prompt.clone(), kind: q.kind.clone(), answered, options }
            })
            .collect();
        Ok(SurveyResults { survey, responses: all.len() as i64, questions })
    }

    /// Every response as CSV, one column per question (staff only).
    pub async fn survey_csv(&self, actor: &Actor, id: i64) -> AppResult<String> {
        let s = self.survey(id).await?;
        let mut conn = self.db.pool.acquire().await?;
        require_role(&mut conn, actor, s.site_id, STAFF).await?;
        let rows: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT id, created_at, answers FROM survey_responses WHERE survey_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
        let mut w = crate::kernel::export::Csv::default();
        let mut header = vec!["编号".to_string(), "提交时间".to_string()];
        header.extend(s.questions.iter().map(|q| q.prompt.clone()));
        w.row(&header)?;
        for (rid, at, answers) in rows {
            let a: Answers = serde_json::from_str(&answers).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("stored answers of response {rid} do not parse: {e}"))
            })?;
            let mut rec = vec![rid.to_string(), crate::kernel::time::fmt_local(at)];
            rec.extend((0..s.questions.len()).map(|i| a.get(&i).map(|v| v.join("；")).unwrap_or_default()));
            w.row(&rec)?;
        }
        w.finish()
    }
}
