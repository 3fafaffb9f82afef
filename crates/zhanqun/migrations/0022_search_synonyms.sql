-- Synonyms the web office keeps for site search (issue #12, part 5): a search for one term
-- of a group also finds the others. One row per group, its terms separated by spaces.
CREATE TABLE search_synonyms (
    id ID_PK,
    terms TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO search_synonyms (terms, created_by, created_at) VALUES
    ('医保 医疗保险 医疗保障', '平台预置', 0),
    ('社保 社会保险', '平台预置', 0),
    ('公积金 住房公积金', '平台预置', 0),
    ('个税 个人所得税', '平台预置', 0),
    ('低保 最低生活保障', '平台预置', 0),
    ('养老金 基本养老金 退休金', '平台预置', 0),
    ('落户 户口迁入 户籍迁入', '平台预置', 0),
    ('身份证 居民身份证', '平台预置', 0),
    ('驾照 驾驶证 机动车驾驶证', '平台预置', 0),
    ('营业执照 工商执照', '平台预置', 0),
    ('义务教育 九年义务教育', '平台预置', 0),
    ('小升初 初中招生 初一招生', '平台预置', 0),
    ('中考 初中学业水平考试', '平台预置', 0),
    ('高考 普通高校招生考试', '平台预置', 0),
    ('12345 政务服务便民热线 市民热线', '平台预置', 0),
    ('一网通办 网上办事 政务服务网', '平台预置', 0),
    ('新冠 新型冠状病毒', '平台预置', 0),
    ('城管 城市管理', '平台预置', 0);
