//! The people responsible for content and their training (R12), and outsourced operation
//! (R10.2): each body's site information officers (网站信息员), content supervisors (审核把关
//! 负责人) and staff, with their training records — at least one a year each, and whoever
//! had none is flagged (in January for the year just ended) — and each site's outsourcing
//! contracts (contractor, duties, term), warned before they run out. The web office keeps
//! the people; a site's admins keep its contracts.

use serde::{Deserialize, Serialize};
use zhanqun_domain::FieldErrors;
use zhanqun_domain::calendar::{fmt_date, parse_date};
use zhanqun_domain::workflow::Role;

pub mod admin;
pub mod api;

use crate::app::App;
use crate::kernel::time::{day_field, now_ms, today};
use crate::kernel::{Actor, AppError, AppResult, Audit};

pub const ROLES: &[(&str, &str)] =
    &[("officer", "网站信息员"), ("supervisor", "内容审核把关负责人"), ("staff", "网站工作人员")];

/// Days before a contract's end from which it is warned.
pub const CONTRACT_WARN_DAYS: i64 = 60;

fn role_label(r: &str) -> &'static str {
    ROLES.iter().find(|(k, _)| *k == r).map(|(_, l)| *l).unwrap_or("网站工作人员")
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    pub name: String,
    /// `officer`, `supervisor` or `staff`.
    pub role: String,
    #[serde(default)]
    pub position: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingInput {
    /// YYYY-MM-DD, not in the future.
    pub held_on: String,
    pub title: String,
    #[serde(default)]
    pub organiser: String,
    /// Class hours, 1–200.
    pub hours: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    pub contractor: String,
    /// The contractor's unified social credit code (统一社会信用代码).
    pub credit_code: String,
    pub duties: String,
    pub starts_on: String,
    pub ends_on: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Training {
    pub id: i64,
    pub held_on: String,
    pub title: String,
    pub organiser: String,
    pub hours: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: i64,
    pub body_id: i64,
    pub body_name: String,
    pub name: String,
    pub role: String,
    pub role_label: &'static str,
    pub position: String,
    /// Newest first.
    pub trainings: Vec<Training>,
    /// Trained in the year asked about.
    pub trained: bool,
}

/// A body and whether it has named its officer and supervisor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BodyPeople {
    pub body_id: i64,
    pub body_name: String,
    pub people: Vec<Person>,
    /// `officer` or `supervisor` when the body has named none.
    pub missing_roles: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contract {
    pub id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub contractor: String,
    pub credit_code: String,
    pub duties: String,
    pub starts_on: String,
    pub ends_on: String,
    /// `current`, `ending` (within 60 days), `ended` or `future`.
    pub status: &'static str,
    pub status_label: &'static str,
}

fn length(e: &mut FieldErrors, field: &str, s: &str, min: usize, max: usize, msg: &str) {
    let n = s.trim().chars().count();
    if n < min || n > max {
        e.add(field, "length", msg);
    }
}

type ContractRow = (i64, i64, String, String, String, String, String, String);

fn contract_view(r: ContractRow) -> Contract {
    let (id, site_id, site_name, contractor, credit_code, duties, starts_on, ends_on) = r;
    let today_s = fmt_date(today());
    let warn = fmt_date(today() + time::Duration::days(CONTRACT_WARN_DAYS));
    let status = if ends_on < today_s {
        "ended"
    } else if starts_on > today_s {
        "future"
    } else if ends_on <= warn {
        "ending"
    } else {
        "current"
    };
    Contract {
        id,
        site_id,
        site_name,
        contractor,
        credit_code,
        duties,
        starts_on,
        ends_on,
        status,
        status_label: match status {
            "ended" => "已到期",
            "future" => "未开始",
            "ending" => "即将到期",
            _ => "履行中",
        },
    }
}

impl App {
    /// Names a person of a body (the web office).
    pub async fn add_person(&self, actor: &Actor, body: i64, p: PersonInput) -> AppResult<Person> {
        let mut e = FieldErrors::new();
        length(&mut e, "name", &p.name, 1, 30, "姓名应为 1 到 30 个字");
        if !ROLES.iter().any(|(k, _)| *k == p.role) {
            e.add(
                "role",
                "one_of",
                "职责应为 officer（网站信息员）、supervisor（内容审核把关负责人）或 staff（网站工作人员）",
            );
        }
        length(&mut e, "position", &p.position, 0, 60, "职务不超过 60 个字");
        let mut cmd = self.begin(actor).await?;
        cmd.require_admin()?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM bodies WHERE id = $1").bind(body).fetch_optional(cmd.conn()).await?;
        if exists.is_none() {
            return Err(AppError::not_found("机构", body));
        }
        e.into_result()?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO staff_people (body_id, name, role, position, active, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING id",
        )
        .bind(body)
        .bind(p.name.trim())
        .bind(&p.role)
        .bind(p.position.trim())
        .bind(&actor.name)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(
            None,
            "staff_person",
            id,
            "create",
            serde_json::json!({"body_id": body, "role": p.role}),
        ))
        .await?;
        cmd.commit().await?;
        self.person_record(id, today().year()).await
    }

    /// Takes a person off the records (moved on); their training stays on record.
    pub async fn retire_person(&self, actor: &Actor, id: i64) -> AppResult<()> {
        let mut cmd = self.begin(actor).await?;
        cmd.require_admin()?;
        let n = sqlx::query("UPDATE staff_people SET active = 0 WHERE id = $1 AND active = 1")
            .bind(id)
            .execute(cmd.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AppError::not_found("人员", id));
        }
        cmd.audit(Audit::event(None, "staff_person", id, "retire", serde_json::json!({}))).await?;
        cmd.commit().await
    }

    /// Records a training a person attended (the web office).
    pub async fn record_training(&self, actor: &Actor, person: i64, t: TrainingInput) -> AppResult<Person> {
        let mut e = FieldErrors::new();
        let held = day_field(&mut e, "held_on", &t.held_on);
        if held.is_some_and(|d| d > today()) {
            e.add("held_on", "past", "培训日期不能晚于今天");
        }
        length(&mut e, "title", &t.title, 2, 100, "培训名称应为 2 到 100 个字");
        length(&mut e, "organiser", &t.organiser, 0, 60, "主办单位不超过 60 个字");
        if !(1..=200).contains(&t.hours) {
            e.add("hours", "range", "学时应为 1 到 200");
        }
        let mut cmd = self.begin(actor).await?;
        cmd.require_admin()?;
        let active: Option<i64> = sqlx::query_scalar("SELECT active FROM staff_people WHERE id = $1")
            .bind(person)
            .fetch_optional(cmd.conn())
            .await?;
        if active != Some(1) {
            return Err(AppError::not_found("人员", person));
        }
        e.into_result()?;
        let held = fmt_date(held.unwrap_or_else(today));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO staff_trainings (person_id, held_on, title, organiser, hours, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(person)
        .bind(&held)
        .bind(t.title.trim())
        .bind(t.organiser.trim())
        .bind(t.hours)
        .bind(&actor.name)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(
            None,
            "staff_training",
            id,
            "create",
            serde_json::json!({"person_id": person, "held_on": held}),
        ))
        .await?;
        cmd.commit().await?;
        self.person_record(person, parse_date(&held).map_or(today().year(), |d| d.year())).await
    }

    async fn person_record(&self, id: i64, year: i32) -> AppResult<Person> {
        let all = self.people_records(year).await?;
        all.into_iter().flat_map(|b| b.people).find(|p| p.id == id).ok_or_else(|| AppError::not_found("人员", id))
    }

    /// Every body with its active people and their training; `trained` says whether each
    /// had a training in `year`.
    pub async fn people_records(&self, year: i32) -> AppResult<Vec<BodyPeople>> {
        let bodies: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM bodies ORDER BY id").fetch_all(&self.db.pool).await?;
        let people: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, body_id, name, role, position FROM staff_people WHERE active = 1 ORDER BY body_id, id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let trainings: Vec<(i64, i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT t.id, t.person_id, t.held_on, t.title, t.organiser, t.hours FROM staff_trainings t \
             JOIN staff_people p ON p.id = t.person_id WHERE p.active = 1 ORDER BY t.held_on DESC, t.id DESC",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let prefix = format!("{year:04}-");
        Ok(bodies
            .into_iter()
            .map(|(body_id, body_name)| {
                let people: Vec<Person> = people
                    .iter()
                    .filter(|p| p.1 == body_id)
                    .map(|(id, _, name, role, position)| {
                        let trainings: Vec<Training> = trainings
                            .iter()
                            .filter(|t| t.1 == *id)
                            .map(|(tid, _, held_on, title, organiser, hours)| Training {
                                id: *tid,
                                held_on: held_on.clone(),
                                title: title.clone(),
                                organiser: organiser.clone(),
                                hours: *hours,
                            })
                            .collect();
                        Person {
                            id: *id,
                            body_id,
                            body_name: body_name.clone(),
                            name: name.clone(),
                            role_label: role_label(role),
                            role: role.clone(),
                            position: position.clone(),
                            trained: trainings.iter().any(|t| t.held_on.starts_with(&prefix)),
                            trainings,
                        }
                    })
                    .collect();
                let missing_roles =
                    ["officer", "supervisor"].into_iter().filter(|r| !people.iter().any(|p| p.role == *r)).collect();
                BodyPeople { body_id, body_name, people, missing_roles }
            })
            .collect())
    }

    /// The year whose training is checked now: in January the year just ended (its record
    /// is complete), otherwise this year.
    pub fn training_year_due() -> i32 {
        let t = today();
        if t.month() == time::Month::January { t.year() - 1 } else { t.year() }
    }

    /// A site's outsourcing contract (its site admins, or the web office).
    pub async fn add_contract(&self, actor: &Actor, site: i64, c: ContractInput) -> AppResult<Contract> {
        let mut e = FieldErrors::new();
        length(&mut e, "contractor", &c.contractor, 2, 100, "承包单位名称应为 2 到 100 个字");
        if let Err(fe) = zhanqun_domain::disclosure::check_credit_code("credit_code", c.credit_code.trim()) {
            e.push(fe);
        }
        length(&mut e, "duties", &c.duties, 2, 1000, "请写明委托的运维职责（2 到 1000 个字）");
        let starts = day_field(&mut e, "starts_on", &c.starts_on);
        let ends = day_field(&mut e, "ends_on", &c.ends_on);
        if let (Some(s), Some(t)) = (starts, ends)
            && t < s
        {
            e.add("ends_on", "after", "合同终止日期不能早于起始日期");
        }
        let mut cmd = self.begin(actor).await?;
        crate::sites::load_site(cmd.conn(), site).await?;
        cmd.require_role(site, &[Role::SiteAdmin]).await?;
        e.into_result()?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outsourcing_contracts (site_id, contractor, credit_code, duties, starts_on, ends_on, active, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) RETURNING id",
        )
        .bind(site)
        .bind(c.contractor.trim())
        .bind(c.credit_code.trim().to_uppercase())
        .bind(c.duties.trim())
        .bind(fmt_date(starts.unwrap_or_else(today)))
        .bind(fmt_date(ends.unwrap_or_else(today)))
        .bind(&actor.name)
        .bind(now_ms())
        .fetch_one(cmd.conn())
        .await?;
        cmd.audit(Audit::event(
            Some(site),
            "outsourcing_contract",
            id,
            "create",
            serde_json::json!({"contractor": c.contractor.trim()}),
        ))
        .await?;
        cmd.commit().await?;
        self.contracts(actor, Some(site))
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| AppError::not_found("合同", id))
    }

    /// Contracts `actor` may see (the web office: all; others: their sites'), by end date.
    pub async fn contracts(&self, actor: &Actor, site: Option<i64>) -> AppResult<Vec<Contract>> {
        let rows: Vec<ContractRow> = sqlx::query_as(
            "SELECT c.id, c.site_id, s.name, c.contractor, c.credit_code, c.duties, c.starts_on, c.ends_on \
             FROM outsourcing_contracts c JOIN sites s ON s.id = c.site_id \
             WHERE c.active = 1 AND (CAST($1 AS BIGINT) IS NULL OR c.site_id = $1) ORDER BY c.ends_on, c.id",
        )
        .bind(site)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().filter(|r| actor.on_site(r.1)).map(contract_view).collect())
    }
}
