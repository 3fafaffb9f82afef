//! Themes: the default theme is compiled in; a site admin may override any of its
//! templates by putting a file of the same name in `DATA_DIR/themes/SITE_ID/`. Templates
//! run in minijinja, which cannot touch files, the network or the process. A broken
//! override never blanks a public page: the page is rendered with the default theme and
//! the error is kept for the admin to see.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use minijinja::Environment;
use serde::Serialize;

/// The default theme's templates.
pub const DEFAULT_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../themes/default/base.html")),
    ("home.html", include_str!("../../themes/default/home.html")),
    ("column.html", include_str!("../../themes/default/column.html")),
    ("article.html", include_str!("../../themes/default/article.html")),
    ("message.html", include_str!("../../themes/default/message.html")),
    ("mailbox.html", include_str!("../../themes/default/mailbox.html")),
    ("jiucuo.html", include_str!("../../themes/default/jiucuo.html")),
    ("evaluation.html", include_str!("../../themes/default/evaluation.html")),
    ("site_report.html", include_str!("../../themes/default/site_report.html")),
    ("evaluation_run.html", include_str!("../../themes/default/evaluation_run.html")),
    ("jiucuo_receipt.html", include_str!("../../themes/default/jiucuo_receipt.html")),
    ("receipt.html", include_str!("../../themes/default/receipt.html")),
    ("track.html", include_str!("../../themes/default/track.html")),
    ("letter.html", include_str!("../../themes/default/letter.html")),
    ("mailbox_stats.html", include_str!("../../themes/default/mailbox_stats.html")),
    ("consultations.html", include_str!("../../themes/default/consultations.html")),
    ("consultation.html", include_str!("../../themes/default/consultation.html")),
    ("survey.html", include_str!("../../themes/default/survey.html")),
    ("survey_results.html", include_str!("../../themes/default/survey_results.html")),
    ("interviews.html", include_str!("../../themes/default/interviews.html")),
    ("interview.html", include_str!("../../themes/default/interview.html")),
    ("catalog.html", include_str!("../../themes/default/catalog.html")),
    ("annual_reports.html", include_str!("../../themes/default/annual_reports.html")),
    ("topic.html", include_str!("../../themes/default/topic.html")),
    ("surveys.html", include_str!("../../themes/default/surveys.html")),
    ("interaction.html", include_str!("../../themes/default/interaction.html")),
    ("sitemap.html", include_str!("../../themes/default/sitemap.html")),
    ("search.html", include_str!("../../themes/default/search.html")),
];

fn default_source(name: &str) -> Option<&'static str> {
    DEFAULT_TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// HTML-escapes `& < > " '` only: minijinja's default also escapes `/`, which bloats every
/// URL on a page for no safety gain inside quoted attributes and text.
fn formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if matches!(state.auto_escape(), minijinja::AutoEscape::Html)
        && !value.is_safe()
        && let Some(s) = value.as_str()
    {
        let mut buf = String::with_capacity(s.len() + 8);
        for c in s.chars() {
            match c {
                '&' => buf.push_str("&amp;"),
                '<' => buf.push_str("&lt;"),
                '>' => buf.push_str("&gt;"),
                '"' => buf.push_str("&quot;"),
                '\'' => buf.push_str("&#39;"),
                c => buf.push(c),
            }
        }
        return out
            .write_str(&buf)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed").with_source(e));
    }
    minijinja::escape_formatter(out, state, value)
}

fn new_env(dir: Option<PathBuf>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_formatter(formatter);
    // Form values are absent on a first visit: absent reads as empty.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.set_loader(move |name: &str| {
        if let Some(d) = &dir {
            // Only plain file names: no path can leave the site's theme folder.
            if !name.contains(['/', '\\']) && !name.starts_with('.') {
                match std::fs::read_to_string(d.join(name)) {
                    Ok(s) => return Ok(Some(s)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            "cannot read template",
                        )
                        .with_source(e));
                    }
                }
            }
        }
        Ok(default_source(name).map(str::to_string))
    });
    env
}

/// A theme override folder's state: file names, sizes and times.
type Signature = Vec<(String, u64, Option<SystemTime>)>;

fn signature(dir: &Path) -> Option<Signature> {
    let mut sig: Signature = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            m.is_file().then(|| (e.file_name().to_string_lossy().into_owned(), m.len(), m.modified().ok()))
        })
        .collect();
    sig.sort();
    (!sig.is_empty()).then_some(sig)
}

/// The admin UI's templates (not overridable per site).
pub const ADMIN_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../themes/admin/base.html")),
    ("macros.html", include_str!("../../themes/admin/macros.html")),
    ("monitor.html", include_str!("../../themes/admin/monitor.html")),
    ("corrections.html", include_str!("../../themes/admin/corrections.html")),
    ("staffing.html", include_str!("../../themes/admin/staffing.html")),
    ("visits.html", include_str!("../../themes/admin/visits.html")),
    ("annual.html", include_str!("../../themes/admin/annual.html")),
    ("monitor_run.html", include_str!("../../themes/admin/monitor_run.html")),
    ("login.html", include_str!("../../themes/admin/login.html")),
    ("resume.html", include_str!("../../themes/admin/resume.html")),
    ("dashboard.html", include_str!("../../themes/admin/dashboard.html")),
    ("reviews.html", include_str!("../../themes/admin/reviews.html")),
    ("message.html", include_str!("../../themes/admin/message.html")),
    ("sites.html", include_str!("../../themes/admin/sites.html")),
    ("site.html", include_str!("../../themes/admin/site.html")),
    ("column.html", include_str!("../../themes/admin/column.html")),
    ("users.html", include_str!("../../themes/admin/users.html")),
    ("documents.html", include_str!("../../themes/admin/documents.html")),
    ("document.html", include_str!("../../themes/admin/document.html")),
    ("audit.html", include_str!("../../themes/admin/audit.html")),
    ("audit_trail.html", include_str!("../../themes/admin/audit_trail.html")),
    ("password.html", include_str!("../../themes/admin/password.html")),
    ("two_factor.html", include_str!("../../themes/admin/two_factor.html")),
    ("letters.html", include_str!("../../themes/admin/letters.html")),
    ("letter.html", include_str!("../../themes/admin/letter.html")),
    ("calendar.html", include_str!("../../themes/admin/calendar.html")),
    ("expressions.html", include_str!("../../themes/admin/expressions.html")),
    ("participation.html", include_str!("../../themes/admin/participation.html")),
    ("site_disclosure.html", include_str!("../../themes/admin/site_disclosure.html")),
    ("subjects.html", include_str!("../../themes/admin/subjects.html")),
    ("system.html", include_str!("../../themes/admin/system.html")),
    ("search_report.html", include_str!("../../themes/admin/search_report.html")),
];

/// The admin UI's template environment.
pub fn admin_env() -> &'static Environment<'static> {
    static ENV: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Form values (`v.name`) are absent on a first visit: absent reads as empty.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.set_formatter(formatter);
        env.set_loader(|name: &str| {
            Ok(ADMIN_TEMPLATES.iter().find(|(n, _)| *n == name).map(|(_, s)| (*s).to_string()))
        });
        env
    })
}

pub struct Themes {
    root: PathBuf,
    default: Environment<'static>,
    sites: Mutex<HashMap<i64, (Signature, Arc<Environment<'static>>)>>,
    errors: RwLock<HashMap<i64, String>>,
}

impl Themes {
    pub fn new(root: PathBuf) -> Themes {
        Themes { root, default: new_env(None), sites: Mutex::new(HashMap::new()), errors: RwLock::new(HashMap::new()) }
    }

    /// The folder where a site's template overrides live.
    pub fn site_dir(&self, site_id: i64) -> PathBuf {
        self.root.join(site_id.to_string())
    }

    fn site_env(&self, site_id: i64) -> Option<Arc<Environment<'static>>> {
        let dir = self.site_dir(site_id);
        let sig = signature(&dir)?;
        let mut sites = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, env)) = sites.get(&site_id)
            && *s == sig
        {
            return Some(env.clone());
        }
        let env = Arc::new(new_env(Some(dir)));
        sites.insert(site_id, (sig, env.clone()));
        Some(env)
    }

    /// Renders `template` for a site: with its overrides when it has any and they work,
    /// else with the default theme (and the error kept for [`Themes::error`]).
    pub fn render<S: Serialize>(&self, site_id: i64, template: &str, ctx: &S) -> Result<String, minijinja::Error> {
        if let Some(env) = self.site_env(site_id) {
            match env.get_template(template).and_then(|t| t.render(ctx)) {
                Ok(html) => {
                    self.errors.write().unwrap_or_else(|p| p.into_inner()).remove(&site_id);
                    return Ok(html);
                }
                Err(e) => {
                    let msg = format!("模板「{template}」出错：{e:#}");
                    tracing::warn!(site = site_id, error = %msg, "site template failed; default theme used");
                    self.errors.write().unwrap_or_else(|p| p.into_inner()).insert(site_id, msg);
                }
            }
        }
        self.default.get_template(template).and_then(|t| t.render(ctx))
    }

    /// The last template error of a site, if its overrides are broken.
    pub fn error(&self, site_id: i64) -> Option<String> {
        self.errors.read().unwrap_or_else(|p| p.into_inner()).get(&site_id).cloned()
    }

    /// Checks a template source before an admin saves it: it must parse.
    pub fn check(source: &str) -> Result<(), String> {
        let env = Environment::new();
        env.template_from_str(source).map(|_| ()).map_err(|e| format!("{e:#}"))
    }
}
