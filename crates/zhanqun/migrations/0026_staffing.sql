-- People responsible for content and their training (R12), outsourced operation (R10.2)
-- (issue #13, part 8). Records about people, not accounts: a person here need not sign in.
-- `role`: `officer` (网站信息员), `supervisor` (内容审核把关负责人) or `staff`.
CREATE TABLE staff_people (
    id ID_PK,
    body_id BIGINT NOT NULL REFERENCES bodies(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    position TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX staff_people_body ON staff_people(body_id);
CREATE TABLE staff_trainings (
    id ID_PK,
    person_id BIGINT NOT NULL REFERENCES staff_people(id),
    held_on TEXT NOT NULL,
    title TEXT NOT NULL,
    organiser TEXT NOT NULL,
    hours BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX staff_trainings_person ON staff_trainings(person_id, held_on);
-- A site's outsourced operation: who, doing what, for how long.
CREATE TABLE outsourcing_contracts (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    contractor TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    duties TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outsourcing_contracts_site ON outsourcing_contracts(site_id);
