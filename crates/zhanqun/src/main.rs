//! The `zhanqun` command: serve the cluster, migrate, manage people, back up.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use zhanqun::app::Actor;
use zhanqun::people::NewUser;
use zhanqun::server::Settings;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "zhanqun", version, about = "站群：一个平台承载全市政府网站")]
struct Cli {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Directory for the SQLite database, attachments, the personal-data key and the
    /// configuration (`serve --demo` without it: ./demo-data, apart from a real installation).
    #[arg(long, global = true, env = "ZHANQUN_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Database URL (`postgres://…`); without it, an SQLite file in the data directory.
    #[arg(long, global = true, env = "ZHANQUN_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration file (TOML); default `DATA_DIR/zhanqun.toml` when present.
    #[arg(long, global = true, env = "ZHANQUN_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every site of the cluster, the admin and the API, and run the job worker.
    Serve {
        /// Address to listen on, HOST:PORT (for example 127.0.0.1:8080, or 0.0.0.0:8080 for
        /// every interface; the admin then needs HTTPS in front).
        #[arg(long, env = "ZHANQUN_LISTEN", default_value = "127.0.0.1:8080", value_parser = listen_address)]
        listen: String,
        /// Seed a demo city (once, into an empty data directory; ./demo-data unless
        /// --data-dir says otherwise) and print the demo logins.
        #[arg(long)]
        demo: bool,
    },
    /// The sites of the cluster.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage people.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import data from retired systems.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// The working-day calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The audit trail: check its hash chain, export it, archive what is past its retention.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Site search: this node's full-text index.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// The monitor: check government sites against the national inspection indicators.
    Monitor {
        #[command(subcommand)]
        command: MonitorCommand,
    },
    /// Write a consistent copy of the SQLite database, safe while the server runs.
    Backup {
        /// File to write (must not exist).
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain from the first entry to the head; exits 1 when it is broken.
    Verify,
    /// Write entries as CSV to standard output (oldest first, at most 1000 per call).
    Export {
        /// From this day on (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Up to and including this day.
        #[arg(long)]
        until: Option<String>,
    },
    /// Write the entries older than `audit_retention_days` (at least 180; set in the
    /// configuration) to a new file, then remove them from the database; the chain goes on
    /// from the last one, and the step is recorded with the file's SHA-256.
    Archive {
        /// File to write (must not exist); keep it where the database's administrators
        /// cannot change it.
        out: PathBuf,
    },
    /// Check an archive file on its own: every entry's hash follows from the one before.
    /// Exits 1 when it does not.
    CheckArchive { file: PathBuf },
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Rebuild this node's full-text index from the database, with a progress bar. The index
    /// in use keeps answering meanwhile and is swapped for the new one at the end (a server
    /// running on this data directory takes it within a second). Each node keeps its own
    /// index: on several nodes, run it on each.
    Reindex {
        /// Only this site's documents (and those reposted to it), in the index in use.
        #[arg(long)]
        site: Option<i64>,
    },
    /// How this node's index stands: its directory, documents, the outbox event it has
    /// applied and how many events came after.
    Status,
}

#[derive(Subcommand)]
enum MonitorCommand {
    /// Check sites by their address, inside the cluster or not, as the national checker
    /// does from their pages: the single-veto indicators, the 100-point score and every
    /// finding with its evidence. Budgets and weights come from `[monitor]` in the
    /// configuration; the flags override them for this run.
    Check(CheckArgs),
}

#[derive(Args)]
struct CheckArgs {
    /// Home page addresses (http://… or https://…; a bare host is taken as http).
    #[arg(required = true)]
    urls: Vec<String>,
    /// Print the reports as JSON (an array, one report per address) instead of text.
    #[arg(long)]
    json: bool,
    /// HOST:PORT:ADDRESS — connect to ADDRESS for HOST:PORT, as curl's --resolve (to check
    /// a site before its DNS points at it). May be repeated.
    #[arg(long, value_parser = zhanqun::monitor::fetch::parse_resolve)]
    resolve: Vec<(String, u16, std::net::IpAddr)>,
    /// Pages read per site.
    #[arg(long)]
    max_pages: Option<usize>,
    /// Links away from the home page followed.
    #[arg(long)]
    depth: Option<u32>,
    /// Probes of the home page.
    #[arg(long)]
    probes: Option<u32>,
    /// Seconds a page may take (a probe slower than this fails).
    #[arg(long)]
    timeout: Option<u64>,
    /// Requests a second to one host (0: no limit).
    #[arg(long)]
    rate: Option<f64>,
    /// Connections at a time to one host.
    #[arg(long)]
    per_host: Option<usize>,
    /// Do not try links to other sites.
    #[arg(long)]
    no_external: bool,
    /// The sites are portals (门户网站): judge the 30-point bonus part too.
    #[arg(long)]
    portal: bool,
}

#[derive(Subcommand)]
enum SiteCommand {
    /// List the sites: id (for `user grant --site`), kind, state, domain, name.
    List,
}

/// `--listen`: HOST:PORT, with a hint when only a port (or nothing usable) is given.
fn listen_address(s: &str) -> Result<String, String> {
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(s.to_string());
    }
    if let Ok(port) = s.trim().parse::<u16>() {
        return Err(format!(
            "「{s}」只有端口：请写 HOST:PORT，例如 127.0.0.1:{port}（仅本机）或 0.0.0.0:{port}（所有网卡）"
        ));
    }
    Err(format!("「{s}」不是 HOST:PORT 形式的地址，例如 127.0.0.1:8080 或 0.0.0.0:8080"))
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Historical letters from a CSV (UTF-8 or GBK) or XLSX file; rejected rows are written
    /// with their reasons to FILE.rejected.csv.
    Letters {
        file: PathBuf,
        /// Add handling bodies the file names that the platform does not know yet.
        #[arg(long)]
        create_bodies: bool,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// The deadline N working days after a date (the date itself is day zero), on the
    /// installation's calendar, or the shipped one when there is no database yet.
    Due {
        /// The starting date, YYYY-MM-DD (for example 2026-09-30).
        #[arg(long)]
        from: String,
        /// Working days to count, 0 to 3660.
        #[arg(long)]
        days: String,
    },
    /// A year's holidays and make-up working days.
    List {
        /// The year, for example 2026.
        #[arg(long)]
        year: i32,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person; the password is read from standard input (at least 10 characters, of
    /// three kinds among lower case, upper case, digits and symbols or Chinese).
    Add {
        /// The sign-in name: 2 to 64 of a-z, A-Z, 0-9, `.`, `_`, `-`.
        username: String,
        /// The name shown in the admin and the audit trail (default: the user name).
        #[arg(long, default_value = "")]
        display_name: String,
        /// Make them the system administrator (sites, columns, calendar, jobs).
        #[arg(long, conflicts_with = "duty")]
        admin: bool,
        /// Make them the security administrator (`security`: people, roles, passwords,
        /// sessions) or the audit administrator (`audit`: the audit trail).
        #[arg(long)]
        duty: Option<String>,
    },
    /// List people.
    List,
    /// Disable a person: their tokens stop working at once.
    Disable { username: String },
    /// Set a person's password (read from standard input); their sessions and tokens end.
    Password { username: String },
    /// Give a person a role on a site (site_admin, editor, secrecy_reviewer, editorial_reviewer).
    Grant {
        username: String,
        /// The site's numeric id, as `zhanqun site list` shows it.
        #[arg(long)]
        site: i64,
        /// site_admin, editor, secrecy_reviewer or editorial_reviewer.
        #[arg(long)]
        role: String,
    },
}

fn main() -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes, without a backtrace: a message for the operator.
            eprintln!("错误：{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The server tells what it does; a console command only its answer (and warnings).
    let quiet = if matches!(cli.command, Command::Serve { .. }) { "info" } else { "warn" };
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| format!("{quiet},sqlx=warn,tower_http=warn").into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // The demo keeps to a directory of its own unless told otherwise, so that a real
    // installation in ./data never meets the demo's accounts.
    let demo_dir = matches!(cli.command, Command::Serve { demo: true, .. })
        && matches.value_source("data_dir") == Some(ValueSource::DefaultValue);
    let settings = Settings {
        data_dir: if demo_dir { PathBuf::from("./demo-data") } else { cli.store.data_dir.clone() },
        database_url: cli.store.database_url.clone(),
        config_file: cli.store.config.clone(),
    };
    let cli_actor = Actor::system("命令行");
    if let Command::Audit { command: AuditCommand::CheckArchive { file } } = &cli.command {
        // A file on its own: no database needed (it may be checked far from any server).
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let r = zhanqun::kernel::audit::verify_archive(&text);
        match r.problem {
            None => println!(
                "归档文件完整：{} 条记录，哈希链接续到第 {} 条（{}）",
                r.entries, r.through_seq, r.through_hash
            ),
            Some(p) => {
                println!("归档文件被改动：{p}");
                std::process::exit(1);
            }
        }
        return Ok(());
    }
    if let Command::Monitor { command: MonitorCommand::Check(args) } = &cli.command {
        // Sites are read over HTTP: no database needed, only the configuration.
        let config = zhanqun::kernel::config::Config::load(settings.config_file.as_deref(), &settings.data_dir)?;
        return monitor_check(config.monitor.options(), args).await;
    }
    match cli.command {
        Command::Serve { listen, demo } => {
            let app = settings.open_app().await?;
            if demo {
                match app.seed_demo().await? {
                    zhanqun::demo::DemoSeed::Seeded => tracing::info!("seeded the demo cluster"),
                    zhanqun::demo::DemoSeed::AlreadyThere => {}
                    zhanqun::demo::DemoSeed::NotEmpty { users, sites } => bail!(
                        "数据目录 {} 里已有数据（{users} 个用户、{sites} 个网站），不是演示数据，演示数据没有写入。\n\
                         看演示请用演示自己的目录（不存在时自动创建）：zhanqun --data-dir ./demo-data serve --demo\n\
                         正式使用请去掉 --demo：zhanqun --data-dir {} serve",
                        settings.data_dir.display(),
                        settings.data_dir.display()
                    ),
                }
            }
            let running = zhanqun::server::start(app, &listen).await?;
            tracing::info!("zhanqun serving on {} (database: {})", running.base_url(), running.app.db.backend.name());
            if !running.addr.ip().is_loopback() {
                tracing::warn!(
                    "listening beyond this machine over plain HTTP: the admin's session cookie is Secure, so /admin/ \
                     signs in only over HTTPS (put a TLS-terminating proxy in front) or on localhost"
                );
            }
            // Ignore write errors: a closed stdout must not bring the server down.
            let mut out = std::io::stdout();
            let _ = writeln!(out, "zhanqun 已启动：{}", running.base_url());
            let _ =
                writeln!(out, "API 说明：{}/api/v1/docs/（OpenAPI 文档：/api/v1/openapi.json）", running.base_url());
            let port = running.addr.port();
            if demo {
                // Links between the demo's sites open on this machine.
                let _ = running.app.local_links.set(port);
                running.app.pages.invalidate_all();
                // The demo's sites checked at once, so 网站检查 has results to show.
                let now = zhanqun::kernel::time::now_ms();
                if let Err(e) = running.app.enqueue_job("monitor_daily", "{}", now).await {
                    tracing::warn!("could not queue the demo's first checks: {e}");
                }
            }
            match (running.admin_addr, running.app.config.admin_hosts.first()) {
                (Some(a), Some(h)) => writeln!(out, "管理后台：http://{h}:{}/admin/（仅此地址）", a.port()),
                (Some(a), None) => writeln!(out, "管理后台：http://{a}/admin/（仅此地址）"),
                (None, Some(h)) => writeln!(out, "管理后台：http://{h}:{port}/admin/（仅此域名）"),
                (None, None) => writeln!(out, "管理后台：http://localhost:{port}/admin/"),
            }
            .ok();
            for s in running.app.hosts.load().sorted() {
                let _ = writeln!(
                    out,
                    "  {}（{}）：http://{}:{port}/",
                    s.name,
                    s.primary_domain.as_deref().unwrap_or("无独立域名"),
                    s.local_host
                );
            }
            if demo {
                let _ = writeln!(out, "演示数据目录：{}（与正式安装分开）", settings.data_dir.display());
                let _ = writeln!(out, "演示账号（仅演示模式显示）：");
                for (user, name, pw, what) in zhanqun::demo::DEMO_USERS {
                    let _ = writeln!(out, "  {user} / {pw}　{name}，{what}");
                }
            }
            let _ = out.flush();
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await;
        }
        Command::Search { command } => {
            let app = settings.open_app().await?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} 篇 {per_sec} 剩余 {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            match command {
                SearchCommand::Reindex { site: None } => {
                    let started = std::time::Instant::now();
                    let name = zhanqun::search::indexer::rebuild(&app, 2, &progress)
                        .await
                        .map_err(|e| anyhow::anyhow!("重建索引失败（正在使用的索引未受影响）：{e}"))?;
                    bar.finish_and_clear();
                    let (live, _) = zhanqun::search::Live::open(&app.search.root, &name)
                        .map_err(|e| anyhow::anyhow!("新索引无法打开：{e}"))?;
                    println!(
                        "全文索引已重建：{} 篇文档，用时 {:.1} 秒（{}）；在此数据目录运行的服务一秒内换用新索引",
                        live.num_docs(),
                        started.elapsed().as_secs_f32(),
                        app.search.root.join(&name).display()
                    );
                }
                SearchCommand::Reindex { site: Some(site) } => {
                    let n = zhanqun::search::indexer::reindex_site(&app, site, &progress)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    bar.finish_and_clear();
                    println!("站点 #{site} 的 {n} 篇文档已重新索引");
                }
                SearchCommand::Status => match zhanqun::search::Live::open_current(&app.search.root) {
                    Ok((live, at)) => {
                        let behind = zhanqun::kernel::events::read_after(&app, at, 100_000)
                            .await
                            .map(|(e, _)| e.len())
                            .unwrap_or(0);
                        println!(
                            "全文索引 {}：{} 篇文档，已处理到事件 {}，其后还有 {} 个事件",
                            app.search.root.join(&live.name).display(),
                            live.num_docs(),
                            at.event_id,
                            behind
                        );
                    }
                    Err(e) => {
                        println!("本机没有可用的全文索引（{e}）：服务启动时会自动重建，或运行 zhanqun search reindex");
                        std::process::exit(1);
                    }
                },
            }
        }
        Command::Audit { command } => {
            let app = settings.open_app().await?;
            match command {
                AuditCommand::Verify => {
                    let r = app.verify_audit(&cli_actor).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    if r.intact {
                        println!(
                            "操作记录完整：已校验 {} 条（此前已归档 {} 条；启用哈希链之前的 {} 条不在校验范围内）",
                            r.checked, r.archived, r.unchained
                        );
                    } else {
                        println!(
                            "操作记录被篡改：{}（位置 {}）",
                            r.problem.unwrap_or_default(),
                            r.broken_at.unwrap_or(0)
                        );
                        std::process::exit(1);
                    }
                }
                AuditCommand::Export { since, until } => {
                    let f = zhanqun::system::audit::AuditFilter { since, until, ..Default::default() };
                    let csv = app.audit_csv(&cli_actor, &f).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    print!("{csv}");
                }
                AuditCommand::Archive { out } => {
                    let r = app.archive_audit(&cli_actor, &out).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    if r.entries == 0 {
                        println!("没有早于 {} 的操作记录，无需归档（未写文件）", r.before);
                    } else {
                        println!(
                            "已将早于 {} 的 {} 条操作记录归档到 {} 并从数据库中移除（SHA-256 {}）",
                            r.before,
                            r.entries,
                            out.display(),
                            r.sha256
                        );
                    }
                }
                AuditCommand::CheckArchive { .. } => unreachable!("handled before the database is opened"),
            }
        }
        Command::Migrate => {
            settings.open_app().await?;
            println!("数据库已是最新结构");
        }
        Command::User { command } => {
            let app = settings.open_app().await?;
            match command {
                UserCommand::Add { username, display_name, admin, duty } => {
                    let mut password = String::new();
                    std::io::stdin().read_to_string(&mut password).context("reading the password from stdin")?;
                    let password = password.trim_end_matches(['\r', '\n']).to_string();
                    let u = app
                        .create_user(&cli_actor, NewUser { username, display_name, password, is_admin: admin, duty })
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let what = match (u.is_admin, u.duty.as_deref()) {
                        (true, _) => "，系统管理员",
                        (_, Some("security")) => "，安全管理员",
                        (_, Some("audit")) => "，审计管理员",
                        _ => "",
                    };
                    println!("已添加用户 {}（#{}）{what}", u.username, u.id);
                }
                UserCommand::List => {
                    for u in app.list_users(&cli_actor).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                        println!(
                            "{}\t{}\t{}\t{}{}",
                            u.id,
                            u.username,
                            u.display_name,
                            match (u.is_admin, u.duty.as_deref()) {
                                (true, _) => "系统管理员",
                                (_, Some("security")) => "安全管理员",
                                (_, Some("audit")) => "审计管理员",
                                _ => "",
                            },
                            if u.disabled { "（已停用）" } else { "" }
                        );
                    }
                }
                UserCommand::Password { username } => {
                    let u = app.user_by_name(&username).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    let mut password = String::new();
                    std::io::stdin().read_to_string(&mut password).context("reading the password from stdin")?;
                    let password = password.trim_end_matches(['\r', '\n']).to_string();
                    app.reset_password(&cli_actor, u.id, &password).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("已设置用户 {username} 的密码");
                }
                UserCommand::Disable { username } => {
                    let u = app.user_by_name(&username).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    app.disable_user(&cli_actor, u.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("已停用用户 {username}");
                }
                UserCommand::Grant { username, site, role } => {
                    let u = app.user_by_name(&username).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    let g = app.grant_role(&cli_actor, site, u.id, &role).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("已授予 {username} 在站点 #{site} 的「{}」角色", g.role_label);
                }
            }
        }
        Command::Import { command: ImportCommand::Letters { file, create_bodies } } => {
            let app = settings.open_app().await?;
            let table = zhanqun::mailbox::import::read_table(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
            let bar = indicatif::ProgressBar::new(table.rows.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} 行 {per_sec} 剩余 {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = app
                .import_letters(&cli_actor, table, create_bodies, &|n| bar.set_position(n as u64))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            bar.finish_and_clear();
            println!("共 {} 行：导入 {} 行，拒绝 {} 行", report.total, report.imported, report.rejected.len());
            if !report.rejected.is_empty() {
                let out = PathBuf::from(format!("{}.rejected.csv", file.display()));
                let mut w = csv::Writer::from_path(&out).with_context(|| format!("writing {}", out.display()))?;
                w.write_record(["行号", "原因"])?;
                for r in &report.rejected {
                    w.write_record([r.row.to_string(), zhanqun::kernel::export::cell(&r.reason).into_owned()])?;
                }
                w.flush()?;
                println!("被拒绝的行及原因见 {}", out.display());
            }
        }
        Command::Calendar { command: CalendarCommand::Due { from, days } } => {
            // A calculation: it reads an installation's calendar when there is one, and
            // creates nothing when there is none.
            let fresh = settings.database_url.is_none() && !settings.data_dir.join("zhanqun.db").exists();
            let d = if fresh {
                zhanqun::calendar::due_on(&zhanqun::calendar::shipped_calendar(), &from, &days)
            } else {
                settings.open_app().await?.due(&from, &days)
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}{}",
                d.due,
                if d.estimated {
                    "（估算：其中有年份尚无国务院放假安排，只按周末计算）"
                } else {
                    ""
                }
            );
        }
        Command::Site { command: SiteCommand::List } => {
            let app = settings.open_app().await?;
            let sites = app.list_sites(false).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if sites.is_empty() {
                println!("还没有网站：在管理后台（/admin/sites）或用 API（POST /api/v1/sites）登记第一个");
            }
            for s in sites {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.id,
                    s.kind_label,
                    s.state_label,
                    s.primary_domain.as_deref().unwrap_or("（无独立域名）"),
                    s.name
                );
            }
        }
        Command::Calendar { command: CalendarCommand::List { year } } => {
            let app = settings.open_app().await?;
            for d in app.calendar_days(year).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("{}\t{}\t{}\t{}", d.day, if d.kind == "holiday" { "放假" } else { "上班" }, d.name, d.source);
            }
        }
        Command::Monitor { .. } => unreachable!("answered above"),
        Command::Backup { out } => {
            if settings.database_url.as_deref().is_some_and(|u| !u.starts_with("sqlite:")) {
                bail!("backup 复制内置的 SQLite 数据库；PostgreSQL 请用 pg_dump 备份");
            }
            let db = zhanqun::kernel::db::Db::connect(&settings.database_url()).await?;
            db.backup_to(&out).await?;
            println!("已备份到 {}", out.display());
        }
    }
    Ok(())
}

async fn monitor_check(mut o: zhanqun::monitor::Options, args: &CheckArgs) -> anyhow::Result<()> {
    o.limits.resolve = args.resolve.clone();
    if let Some(n) = args.max_pages {
        o.max_pages = n.max(1);
    }
    if let Some(n) = args.depth {
        o.max_depth = n;
    }
    if let Some(n) = args.probes {
        o.probes = n.max(1);
    }
    if let Some(n) = args.timeout {
        o.limits.timeout = std::time::Duration::from_secs(n.max(1));
    }
    if let Some(n) = args.rate {
        o.limits.rate_per_second = n.max(0.0);
    }
    if let Some(n) = args.per_host {
        o.limits.per_host = n.max(1);
    }
    if args.no_external {
        o.external_links = false;
    }
    o.portal = args.portal;
    // Every address is checked before any is fetched: a typo fails at once.
    for u in &args.urls {
        zhanqun::monitor::check::parse_site_url(u).map_err(anyhow::Error::msg)?;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} 个地址 {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut reports = Vec::new();
    for u in &args.urls {
        bar.set_message(u.clone());
        let progress = |done: usize, known: usize| {
            bar.set_length(known as u64);
            bar.set_position(done as u64);
        };
        let r = zhanqun::monitor::check(u, o.clone(), &progress).await.map_err(anyhow::Error::msg)?;
        if !args.json {
            bar.suspend(|| print!("{}", zhanqun::monitor::render_text(&r)));
        }
        reports.push(r);
    }
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
