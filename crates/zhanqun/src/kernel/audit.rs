//! The audit trail: one entry per step anybody takes, written in the same transaction as
//! the change it records, never changed afterwards (database triggers refuse UPDATE and
//! DELETE). "Who publishes is responsible" (谁发布谁负责, R2.2).
//!
//! The entries form a hash chain (等保 level 3: the trail's integrity is checkable): entry
//! `seq` carries SHA-256 of the hash before it and its own fields, and the one-row
//! `audit_head` holds the last. Whoever gets past the triggers (a database superuser) and
//! changes, removes or inserts an entry breaks the chain, and [`verify`] says where.
//!
//! With `audit_retention_days` set, `zhanqun audit archive` writes the oldest entries to a
//! file (JSON lines carrying the chain, checkable on its own with [`verify_archive`]) and
//! removes them; `audit_archived` keeps the position and hash of the last one removed, and
//! the chain is checked from there, against the archive entry the same step wrote.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::actor::Actor;
use super::error::AppResult;
use super::time::{fmt_time, now_ms};

/// One entry of the audit trail.
pub struct Audit<'a> {
    pub site_id: Option<i64>,
    pub entity: &'a str,
    pub entity_id: i64,
    pub action: &'a str,
    pub from_state: Option<&'a str>,
    pub to_state: Option<&'a str>,
    pub comment: &'a str,
    pub detail: serde_json::Value,
}

impl<'a> Audit<'a> {
    /// An entry without a state change or comment.
    pub fn event(
        site_id: Option<i64>,
        entity: &'a str,
        entity_id: i64,
        action: &'a str,
        detail: serde_json::Value,
    ) -> Audit<'a> {
        Audit { site_id, entity, entity_id, action, from_state: None, to_state: None, comment: "", detail }
    }

    /// The same entry recording a change of state.
    pub fn moved(self, from_state: Option<&'a str>, to_state: Option<&'a str>) -> Audit<'a> {
        Audit { from_state, to_state, ..self }
    }

    /// The same entry with a comment (a reason, a note).
    pub fn saying(self, comment: &'a str) -> Audit<'a> {
        Audit { comment, ..self }
    }
}

/// Writes an entry, chained to the one before. Commands write theirs through
/// [`super::command::Command::audit`]. Taking the chain's head locks its row until the
/// transaction ends, so entries are chained in the order their transactions commit.
pub async fn write(conn: &mut AnyConnection, actor: &Actor, a: Audit<'_>) -> AppResult<()> {
    let (seq, prev): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *conn)
            .await?;
    let e = Entry {
        seq,
        at: now_ms(),
        actor_id: actor.user_id,
        actor_name: actor.name.clone(),
        site_id: a.site_id,
        entity: a.entity.to_string(),
        entity_id: a.entity_id,
        action: a.action.to_string(),
        from_state: a.from_state.map(str::to_string),
        to_state: a.to_state.map(str::to_string),
        comment: a.comment.to_string(),
        detail: a.detail.to_string(),
        stored: None,
    };
    let hash = e.hash(&prev);
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_name, site_id, entity, entity_id, action, from_state, to_state, comment, detail, seq, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(e.at)
    .bind(e.actor_id)
    .bind(&e.actor_name)
    .bind(e.site_id)
    .bind(&e.entity)
    .bind(e.entity_id)
    .bind(&e.action)
    .bind(&e.from_state)
    .bind(&e.to_state)
    .bind(&e.comment)
    .bind(&e.detail)
    .bind(seq)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut *conn).await?;
    Ok(())
}

/// The fields an entry's hash covers, in one fixed order.
#[derive(Debug, Clone, FromRow)]
struct Entry {
    seq: i64,
    at: i64,
    actor_id: Option<i64>,
    actor_name: String,
    site_id: Option<i64>,
    entity: String,
    entity_id: i64,
    action: String,
    from_state: Option<String>,
    to_state: Option<String>,
    comment: String,
    detail: String,
    /// The hash stored with it (ignored when hashing).
    #[sqlx(rename = "hash")]
    stored: Option<String>,
}

/// How far the trail has been archived and removed: the last removed entry's id, and the
/// chain position and hash of the last chained one (0 and empty: nothing yet).
#[derive(Debug, Clone, FromRow)]
pub struct Archived {
    pub through_id: i64,
    pub through_seq: i64,
    pub through_hash: String,
}

pub async fn archived(conn: &mut AnyConnection) -> AppResult<Archived> {
    Ok(sqlx::query_as("SELECT through_id, through_seq, through_hash FROM audit_archived WHERE id = 1")
        .fetch_one(conn)
        .await?)
}

/// The action of the entry an archive step writes; its detail names where the step stopped
/// (`through_id`, `through_seq`, `through_hash`), which [`verify`] holds `audit_archived` to.
pub const ARCHIVE_ACTION: &str = "audit_archive";

impl Entry {
    /// Hex SHA-256 of the previous hash and this entry's fields as a JSON array.
    fn hash(&self, prev: &str) -> String {
        use sha2::{Digest, Sha256};
        let fields = serde_json::json!([
            self.seq,
            self.at,
            self.actor_id,
            self.actor_name,
            self.site_id,
            self.entity,
            self.entity_id,
            self.action,
            self.from_state,
            self.to_state,
            self.comment,
            self.detail
        ]);
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(b"\n");
        h.update(fields.to_string().as_bytes());
        hex::encode(h.finalize())
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// Whether every chained entry is as it was written, none is missing, none was added.
    pub intact: bool,
    /// Entries checked.
    pub checked: i64,
    /// Entries written before the chain began (migration 14); they are not covered.
    pub unchained: i64,
    /// Chained entries archived to files and removed (`zhanqun audit archive`); the chain is
    /// checked from the last of them on.
    pub archived: i64,
    /// The first position where the chain breaks.
    pub broken_at: Option<i64>,
    /// What is wrong there, in Chinese.
    pub problem: Option<String>,
}

/// Walks the whole chain, a page at a time, and says whether it is intact.
pub async fn verify(conn: &mut AnyConnection) -> AppResult<ChainReport> {
    let unchained: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL").fetch_one(&mut *conn).await?;
    // An entry without a position written after the chain began was not written by the platform.
    let slipped_in: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(id) FROM audit_log WHERE seq IS NULL AND id > (SELECT MIN(id) FROM audit_log WHERE seq IS NOT NULL)",
    )
    .fetch_one(&mut *conn)
    .await?;
    let anchor = archived(&mut *conn).await?;
    let broken = |checked: i64, at: i64, why: String| ChainReport {
        intact: false,
        checked,
        unchained,
        archived: anchor.through_seq,
        broken_at: Some(at),
        problem: Some(why),
    };
    let mut prev = anchor.through_hash.clone();
    let mut expected = anchor.through_seq + 1;
    loop {
        let entries: Vec<Entry> = sqlx::query_as(
            "SELECT seq, at, actor_id, actor_name, site_id, entity, entity_id, action, from_state, to_state, comment, detail, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 2000",
        )
        .bind(expected)
        .fetch_all(&mut *conn)
        .await?;
        if entries.is_empty() {
            break;
        }
        for e in &entries {
            if e.seq != expected {
                return Ok(broken(expected - 1, expected, format!("第 {expected} 条记录不见了（被删除）")));
            }
            let want = e.hash(&prev);
            if e.stored.as_deref() != Some(want.as_str()) {
                return Ok(broken(expected - 1, expected, format!("第 {expected} 条记录与写入时不符（被修改或插入）")));
            }
            prev = want;
            expected += 1;
        }
    }
    let checked = expected - 1 - anchor.through_seq;
    let last = expected - 1;
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *conn).await?;
    if head_seq != last || head_hash != prev {
        return Ok(broken(
            checked,
            last + 1,
            format!("链头记录了 {head_seq} 条，实际连续可查到第 {last} 条：末尾的记录被删除，或链头被改动"),
        ));
    }
    if let Some(id) = slipped_in {
        return Ok(broken(checked, last + 1, format!("编号 {id} 的记录不在链上：是绕过平台直接写入数据库的")));
    }
    if anchor.through_id > 0 {
        // The archive step wrote where it stopped into the chain; the anchor must agree.
        let detail: Option<String> = sqlx::query_scalar(
            "SELECT detail FROM audit_log WHERE entity = 'audit_log' AND action = $1 AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
        )
        .bind(ARCHIVE_ACTION)
        .fetch_optional(&mut *conn)
        .await?;
        let d: serde_json::Value = detail.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
        let agrees = d["through_id"] == anchor.through_id
            && d["through_seq"] == anchor.through_seq
            && d["through_hash"] == anchor.through_hash.as_str();
        if !agrees {
            return Ok(broken(
                checked,
                anchor.through_seq + 1,
                format!(
                    "已归档位置（编号 {} 及以前）与最近一次归档时记下的不符：有记录被绕过平台删除，或归档位置被改动",
                    anchor.through_id
                ),
            ));
        }
    }
    Ok(ChainReport { intact: true, checked, unchained, archived: anchor.through_seq, broken_at: None, problem: None })
}

/// The first line of an archive file: where its part of the chain begins.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ArchiveHeader {
    /// Always `zhanqun-audit-archive`.
    pub format: String,
    pub version: u32,
    /// The chain position and hash just before the file's first entry.
    pub after_seq: i64,
    pub after_hash: String,
    /// Entries in the file are older than this instant (RFC 3339).
    pub before: String,
}

impl AuditRow {
    /// The entry as its hash covers it; `None` for one written before the chain began.
    fn entry(&self) -> Option<Entry> {
        Some(Entry {
            seq: self.seq?,
            at: self.at,
            actor_id: self.actor_id,
            actor_name: self.actor_name.clone(),
            site_id: self.site_id,
            entity: self.entity.clone(),
            entity_id: self.entity_id,
            action: self.action.clone(),
            from_state: self.from_state.clone(),
            to_state: self.to_state.clone(),
            comment: self.comment.clone(),
            detail: self.detail.clone(),
            stored: self.hash.clone(),
        })
    }
}

/// What [`verify_archive`] found in an archive file.
#[derive(Debug, Clone)]
pub struct ArchiveCheck {
    pub entries: i64,
    /// Position and hash of the last chained entry in the file (where the database's chain
    /// goes on).
    pub through_seq: i64,
    pub through_hash: String,
    pub problem: Option<String>,
}

/// Checks an archive file on its own: every chained entry's hash follows from the one
/// before, from the header's starting point, with no position missing.
pub fn verify_archive(text: &str) -> ArchiveCheck {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let fail = |entries: i64, seq: i64, hash: &str, why: String| ArchiveCheck {
        entries,
        through_seq: seq,
        through_hash: hash.to_string(),
        problem: Some(why),
    };
    let header: ArchiveHeader = match lines.next().map(serde_json::from_str) {
        Some(Ok(h)) => h,
        _ => return fail(0, 0, "", "第 1 行不是操作记录归档文件的开头".into()),
    };
    if header.format != "zhanqun-audit-archive" || header.version != 1 {
        return fail(0, 0, "", format!("不认识的归档格式 {} 版本 {}", header.format, header.version));
    }
    let mut prev = header.after_hash.clone();
    let mut expected = header.after_seq + 1;
    let mut entries = 0i64;
    for (n, line) in lines.enumerate() {
        let at_line = n + 2;
        let l: AuditRow = match serde_json::from_str(line) {
            Ok(l) => l,
            Err(_) => return fail(entries, expected - 1, &prev, format!("第 {at_line} 行不是一条操作记录")),
        };
        entries += 1;
        let Some(e) = l.entry() else {
            if expected > header.after_seq + 1 || l.hash.is_some() {
                return fail(entries, expected - 1, &prev, format!("第 {at_line} 行：链上的记录缺了位置"));
            }
            continue;
        };
        if e.seq != expected {
            return fail(entries, expected - 1, &prev, format!("第 {at_line} 行：链上第 {expected} 条不见了"));
        }
        let want = e.hash(&prev);
        if e.stored.as_deref() != Some(want.as_str()) {
            return fail(entries, expected - 1, &prev, format!("第 {at_line} 行（链上第 {expected} 条）与写入时不符"));
        }
        prev = want;
        expected += 1;
    }
    ArchiveCheck { entries, through_seq: expected - 1, through_hash: prev, problem: None }
}

/// An entry as stored; also one line of an archive file after its header (an entry with
/// its id, and its chain position and hash unless it was written before the chain began).
#[derive(Debug, Clone, FromRow, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub site_id: Option<i64>,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub comment: String,
    pub detail: String,
    pub seq: Option<i64>,
    pub hash: Option<String>,
}

/// An entry as people and clients read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    pub id: i64,
    /// When, RFC 3339 in China Standard Time.
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub site_id: Option<i64>,
    pub entity: String,
    pub entity_id: i64,
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub comment: String,
    /// What the step changed, as recorded.
    pub detail: serde_json::Value,
    /// The action in Chinese (保密审查通过, 登录失败, …); the action itself when unknown.
    pub action_label: String,
    /// The kind of thing in Chinese (稿件, 网站, 来信, …).
    pub entity_label: String,
    /// The states in Chinese.
    pub from_label: Option<String>,
    pub to_label: Option<String>,
    /// Who acted, by the name people know them by (the display name when the account is
    /// known; the recorded name otherwise).
    pub actor_display: String,
}

/// An action of the trail in Chinese, for the admin and the API's readers.
pub fn action_label(entity: &str, action: &str, from: Option<&str>) -> String {
    use zhanqun_domain::workflow::DocState;
    let known = match (entity, action) {
        ("document", "approve") => match from.and_then(DocState::parse) {
            Some(DocState::Submitted) => "保密审查通过",
            Some(DocState::EditorialReview) => "编辑把关通过",
            _ => "审核通过",
        },
        ("document", "submit") => "报送审核",
        ("document", "reject") => "退回",
        ("document", "publish") => "发布",
        ("document", "unpublish") => "撤稿",
        ("document", "attach") => "上传附件",
        ("document", "repost_accepted") => "接受转载",
        ("site", "approve") => "审核通过",
        ("site", "register") => "登记",
        ("site", "online") => "上线",
        ("site", "suspend") => "暂停",
        ("site", "resume") => "恢复",
        ("site", "close") => "关停",
        ("letter", "assign") => "交办",
        ("letter", "transfer") => "转办",
        ("letter", "extend") => "申请延期",
        ("letter", "reply") => "答复",
        ("letter", "not_handled") => "不予办理",
        ("letter", "close") => "办结",
        ("letter", "rate") => "评价",
        ("letter", "release") => "公开",
        (_, "create") => "新建",
        (_, "update") => "修改",
        (_, "delete") => "删除",
        (_, "merge") => "合并",
        (_, "move") => "移动",
        (_, "close") => "关闭",
        (_, "end") => "结束",
        (_, "ask") => "提问",
        (_, "moderate") => "审核留言",
        (_, "feedback") => "反馈",
        (_, "login") => "登录",
        (_, "login_failed") => "登录失败",
        (_, "logout") => "退出登录",
        (_, "locked") => "账户锁定",
        (_, "disable") => "停用",
        (_, "password_change") => "修改密码",
        (_, "password_reset") => "重置密码",
        (_, "two_factor_on") => "启用双因素认证",
        (_, "two_factor_off") => "关闭双因素认证",
        (_, "two_factor_reset") => "重置双因素认证",
        (_, "grant_role") => "授予角色",
        (_, "revoke_role") => "撤销角色",
        (_, "add_member") => "添加成员",
        (_, "remove_member") => "移除成员",
        (_, "set_code") => "设置编码",
        (_, "set_index_scheme") => "设置索引号规则",
        (_, "replace") => "整体替换",
        (_, "retry") => "重试",
        (_, "refused") => "越权操作被拒",
        (_, "view_personal_data") => "查看个人信息",
        (_, "view_attachment") => "查看附件",
        (_, "audit_read") => "查阅操作记录",
        (_, "audit_export") => "导出操作记录",
        (_, "audit_verify") => "校验操作记录",
        (_, ARCHIVE_ACTION) => "归档操作记录",
        _ => return action.to_string(),
    };
    known.to_string()
}

/// A kind of thing of the trail in Chinese.
pub fn entity_label(entity: &str) -> String {
    match entity {
        "document" => "稿件",
        "site" => "网站",
        "column" => "栏目",
        "user" => "用户",
        "letter" => "来信",
        "body" => "办理单位",
        "consultation" => "意见征集",
        "consultation_comment" => "征集意见",
        "survey" => "网上调查",
        "interview" => "在线访谈",
        "interview_question" => "访谈提问",
        "topic" => "专题",
        "subject" => "主题分类",
        "calendar" => "工作日历",
        "job" => "后台任务",
        "sensitive_words" => "敏感词",
        "search_synonyms" => "搜索同义词",
        "repost" => "转载",
        "audit_log" => "操作记录",
        "inventory" => "内容保障清单",
        other => return other.to_string(),
    }
    .to_string()
}

/// A state of the trail in Chinese, by the kind of thing it is a state of.
pub fn state_label(entity: &str, state: &str) -> String {
    use zhanqun_domain::{mailbox::LetterState, site::SiteState, workflow::DocState};
    let known = match entity {
        "document" => DocState::parse(state).map(DocState::label),
        "site" => SiteState::parse(state).map(SiteState::label),
        "letter" => LetterState::parse(state).map(LetterState::label),
        _ => None,
    };
    known.map(str::to_string).unwrap_or_else(|| match state {
        "active" => "启用".into(),
        "disabled" => "停用".into(),
        _ => state.to_string(),
    })
}

/// Fills in who acted by their display names, in one query for the entries given.
pub async fn with_display_names(conn: &mut AnyConnection, mut v: Vec<AuditView>) -> AppResult<Vec<AuditView>> {
    let mut ids: Vec<i64> = v.iter().filter_map(|e| e.actor_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(v);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let names: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, display_name FROM users WHERE id IN ({list}) AND display_name <> ''"
    )))
    .fetch_all(conn)
    .await?;
    let names: std::collections::HashMap<i64, String> = names.into_iter().collect();
    for e in &mut v {
        if let Some(n) = e.actor_id.and_then(|id| names.get(&id)) {
            e.actor_display = n.clone();
        }
    }
    Ok(v)
}

impl From<&AuditRow> for AuditView {
    fn from(a: &AuditRow) -> Self {
        AuditView {
            id: a.id,
            at: fmt_time(a.at),
            actor_id: a.actor_id,
            actor: a.actor_name.clone(),
            site_id: a.site_id,
            entity: a.entity.clone(),
            entity_id: a.entity_id,
            action: a.action.clone(),
            from: a.from_state.clone(),
            to: a.to_state.clone(),
            comment: a.comment.clone(),
            detail: serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null),
            action_label: action_label(&a.entity, &a.action, a.from_state.as_deref()),
            entity_label: entity_label(&a.entity),
            from_label: a.from_state.as_deref().map(|s| state_label(&a.entity, s)),
            to_label: a.to_state.as_deref().map(|s| state_label(&a.entity, s)),
            actor_display: a.actor_name.clone(),
        }
    }
}

/// Every entry about a site (itself, its columns, documents and roles), oldest first.
pub async fn of_site(conn: &mut AnyConnection, site_id: i64) -> AppResult<Vec<AuditView>> {
    let rows: Vec<AuditRow> = sqlx::query_as("SELECT * FROM audit_log WHERE site_id = $1 ORDER BY id")
        .bind(site_id)
        .fetch_all(&mut *conn)
        .await?;
    with_display_names(conn, rows.iter().map(AuditView::from).collect()).await
}

/// Every entry about one thing (`document` 86), oldest first.
pub async fn of_entity(conn: &mut AnyConnection, entity: &str, id: i64) -> AppResult<Vec<AuditView>> {
    let rows: Vec<AuditRow> =
        sqlx::query_as("SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id")
            .bind(entity)
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    with_display_names(conn, rows.iter().map(AuditView::from).collect()).await
}
