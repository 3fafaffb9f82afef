//! Importing letters from retired systems, on SQLite and PostgreSQL.

use crate::common::{Backend, TestServer};
use reqwest::Method;
use zhanqun::kernel::Actor;
use zhanqun::mailbox::import::read_table;

behaviour!(gbk_csv_and_xlsx_import_with_every_bad_row_explained, a_file_with_the_wrong_columns_is_refused_whole,);

async fn gbk_csv_and_xlsx_import_with_every_bad_row_explained(b: Backend) {
    let s = TestServer::start(b).await;
    let app = s.app();
    let admin = Actor::system("导入测试");
    app.create_body(&admin, "青岛市城市管理局", None).await.unwrap();
    let csv = "来信日期,标题,内容,姓名,联系方式,承办机构,答复日期,答复内容,是否公开\n\
               2025/1/24,路灯不亮,某路路灯不亮,张,13800000000,青岛市城市管理局,2025-02-10,已修复,是\n\
               2025-13-01,坏日期,x,y,13800000001,青岛市城市管理局,,,\n\
               2025/1/24,路灯不亮,某路路灯不亮,张,13800000000,青岛市城市管理局,2025-02-10,已修复,是\n\
               2025-03-05,晚于来信,x,y,13800000002,青岛市城市管理局,2025-03-01,答复,\n\
               2025-03-05,缺答复,x,y,13800000003,青岛市城市管理局,2025-03-06,,\n\
               2099-01-01,未来,x,y,13800000004,青岛市城市管理局,,,\n\
               2025-09-26,国庆前来信,内容,李,13800000005,青岛市城市管理局,2025-10-13,已答复,否\n\
               2025-09-26,未答复,内容,王,13800000006,青岛市城市管理局,,,\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("旧系统来信.csv");
    std::fs::write(&path, &gbk).unwrap();
    let progress = std::sync::atomic::AtomicUsize::new(0);
    let report = app
        .import_letters(&admin, read_table(&path).unwrap(), false, &|n| {
            progress.store(n, std::sync::atomic::Ordering::Relaxed)
        })
        .await
        .unwrap();
    assert_eq!((report.total, report.imported), (8, 3));
    let reasons: Vec<(usize, &str)> = report.rejected.iter().map(|r| (r.row, r.reason.as_str())).collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].0 == 3 && reasons[0].1.contains("无法识别"));
    assert!(reasons[1].0 == 4 && reasons[1].1.contains("重复"));
    assert!(reasons[2].0 == 5 && reasons[2].1.contains("早于来信日期"));
    assert!(reasons[3].0 == 6 && reasons[3].1.contains("同时填写"));
    assert!(reasons[4].0 == 7 && reasons[4].1.contains("晚于今天"));
    assert_eq!(progress.load(std::sync::atomic::Ordering::Relaxed), 8);
    // Imported letters count in the statistics with their original dates.
    let (_, stats) = s.call(Method::GET, "/api/v1/mailbox/stats?year=2025", None, None).await;
    let row = &stats[0];
    assert_eq!(
        (row["received"].as_i64(), row["replied"].as_i64(), row["on_time"].as_i64()),
        (Some(3), Some(2), Some(2))
    );
    // 2025-01-24 → 2025-02-10 and 2025-09-26 → 2025-10-13 are 7 working days each.
    assert_eq!(row["avg_working_days"].as_f64(), Some(7.0));
    // Importing the same file again adds nothing.
    let again = app.import_letters(&admin, read_table(&path).unwrap(), false, &|_| {}).await.unwrap();
    assert_eq!(again.imported, 0);

    // XLSX, with a real date cell and a body the platform does not know yet.
    let xlsx = dir.path().join("letters.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["arrived_on", "subject", "body", "writer_name", "writer_contact", "handling_body"].iter().enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 2, 12).unwrap();
    ws.write_datetime_with_format(1, 0, &date, &rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd")).unwrap();
    for (c, v) in ["春节前来信", "内容", "赵", "13800000007", "青岛市市场监督管理局"].iter().enumerate()
    {
        ws.write_string(1, c as u16 + 1, *v).unwrap();
    }
    wb.save(&xlsx).unwrap();
    let r = app.import_letters(&admin, read_table(&xlsx).unwrap(), false, &|_| {}).await.unwrap();
    assert_eq!(r.imported, 0, "unknown body without --create-bodies");
    let r = app.import_letters(&admin, read_table(&xlsx).unwrap(), true, &|_| {}).await.unwrap();
    assert_eq!(r.imported, 1);
    let due: String = sqlx::query_scalar("SELECT due_on FROM letters WHERE subject = '春节前来信'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(due, "2026-02-28", "deadline counted over the 2026 Spring Festival");
    s.finish().await;
}

async fn a_file_with_the_wrong_columns_is_refused_whole(b: Backend) {
    let s = TestServer::start(b).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrong.csv");
    std::fs::write(&path, "日期,题目\n2025-01-01,x\n").unwrap();
    let err = s.app().import_letters(&Actor::system("t"), read_table(&path).unwrap(), true, &|_| {}).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("缺少必需的列") && msg.contains("来信日期"), "{msg}");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM letters").fetch_one(&s.app().db.pool).await.unwrap();
    assert_eq!(n, 0);
    std::fs::write(&path, "").unwrap();
    assert!(read_table(&path).is_err(), "an empty file");
    s.finish().await;
}
